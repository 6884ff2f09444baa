#include "cli_common.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"

namespace scrim::cli {

GlobalOptions& globals() {
  static GlobalOptions g;
  return g;
}

std::function<void()> add_pareto_options(CLI::App* cmd, std::string& pareto, double& preference) {
  auto* pareto_option = cmd->add_option("--pareto", pareto, "mgda, preference or weighted (preference when only --preference is given)")
                            ->capture_default_str();
  auto* preference_option = cmd->add_option("--preference", preference, "Weight on privacy (preference, weighted)")->capture_default_str();
  return [&pareto, pareto_option, preference_option] {
    if (preference_option->count() == 0) return;
    if (pareto_option->count() == 0) pareto = "preference";
    if (pareto == "mgda") throw UsageError("--preference has no effect with --pareto mgda (use preference or weighted)");
  };
}

const std::vector<std::string>& baseline_protectors() {
  static const std::vector<std::string> list = {"raw", "blur:sigma=2", "pixelate:block=4", "downsample:factor=4", "bdq", "regions:faces,mode=blur"};
  return list;
}

void print_result(const nlohmann::json& result, const std::string& text) {
  if (globals().json) std::cout << result.dump(2) << "\n";
  else std::cout << text;
  std::cout.flush();
}

void info(const std::string& line) {
  if (globals().quiet || globals().json) return;
  std::fprintf(stderr, "%s\n", line.c_str());
}

}  // namespace scrim::cli
