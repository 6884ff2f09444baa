#include "cli_common.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

namespace scrim::cli {

GlobalOptions& globals() {
  static GlobalOptions g;
  return g;
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
