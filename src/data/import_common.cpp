#include <fstream>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"

namespace fs = std::filesystem;

namespace scrim::import_detail {

std::vector<std::string> read_lines(const fs::path& path) {
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) throw Error(path.string() + ": no such file");
  std::ifstream in(path);
  if (!in) throw Error(path.string() + ": cannot open");
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
  }
  return lines;
}

std::string relative_to(const fs::path& path, const fs::path& base) {
  fs::path abs = fs::absolute(path).lexically_normal();
  fs::path rel = abs.lexically_relative(fs::absolute(base).lexically_normal());
  if (rel.empty() || *rel.begin() == "..") return abs.generic_string();
  return rel.generic_string();
}

void IdSources::add(const std::string& id, const std::string& where) {
  auto [it, inserted] = where_.emplace(id, where);
  if (!inserted) throw Error("duplicate id '" + id + "': " + it->second + " and " + where);
}

}  // namespace scrim::import_detail
