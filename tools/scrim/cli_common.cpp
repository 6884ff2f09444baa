#include "cli_common.h"

#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

namespace scrim::cli {

GlobalOptions& globals() {
  static GlobalOptions g;
  return g;
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
