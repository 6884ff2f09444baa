#include "scrim/data/import_report.h"

#include <algorithm>

namespace scrim {
namespace {
constexpr std::size_t kMaxExamples = 3;
}  // namespace

void ImportReport::set_read(std::size_t count, const std::string& unit) {
  read_ = count;
  unit_ = unit;
}

void ImportReport::set_kept(std::size_t samples, std::size_t classes) {
  kept_ = samples;
  classes_ = classes;
}

ImportReport::Count& ImportReport::find_or_add(std::vector<Count>& counts, const std::string& what) {
  for (auto& c : counts)
    if (c.what == what) return c;
  counts.push_back({what, 0, {}});
  return counts.back();
}

void ImportReport::drop(const std::string& reason, std::size_t count) { find_or_add(drops_, reason).count += count; }

void ImportReport::warn(const std::string& what, const std::string& example) {
  Count& c = find_or_add(warnings_, what);
  ++c.count;
  if (c.examples.size() < kMaxExamples && std::find(c.examples.begin(), c.examples.end(), example) == c.examples.end())
    c.examples.push_back(example);
}

std::size_t ImportReport::dropped(const std::string& reason) const {
  for (const auto& c : drops_)
    if (c.what == reason) return c.count;
  return 0;
}

std::size_t ImportReport::warnings(const std::string& what) const {
  for (const auto& c : warnings_)
    if (c.what == what) return c.count;
  return 0;
}

std::string ImportReport::summary_line() const {
  std::string line = "read " + std::to_string(read_) + " " + unit_ + "; kept " + std::to_string(kept_) + " samples";
  if (classes_ > 0) line += ", " + std::to_string(classes_) + " classes";
  std::size_t total = 0;
  for (const auto& c : drops_) total += c.count;
  if (total == 0) return line + "; dropped none";
  line += "; dropped";
  const char* separator = " ";
  for (const auto& c : drops_) {
    if (c.count == 0) continue;
    line += separator + std::to_string(c.count) + " " + c.what;
    separator = ", ";
  }
  return line;
}

std::vector<std::string> ImportReport::warning_lines() const {
  std::vector<std::string> lines;
  for (const auto& c : warnings_) {
    std::string line = std::to_string(c.count) + " " + c.what + " (";
    line += c.count > c.examples.size() ? "e.g. " : "";
    for (size_t i = 0; i < c.examples.size(); ++i) line += (i ? ", " : "") + c.examples[i];
    lines.push_back(line + ")");
  }
  return lines;
}

}  // namespace scrim
