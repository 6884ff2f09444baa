// What an importer read and what it left out: a count of what was read, of the
// samples kept, of the classes seen, of each reason for dropping an entry, and of
// each kind of tolerated irregularity (a warning, with a few examples). Importers
// fill one when given; the CLI prints its summary line and its warnings.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace scrim {

class ImportReport {
 public:
  // `unit` names what `read` counts: "videos", "questions", "list lines", ...
  void set_read(std::size_t count, const std::string& unit);
  void set_kept(std::size_t samples, std::size_t classes = 0);
  // Counts one dropped entry under `reason` ("tag 0 (unused in split 1)").
  void drop(const std::string& reason, std::size_t count = 1);
  // Counts one irregularity under `what`, keeping the first few `example`s.
  void warn(const std::string& what, const std::string& example);

  std::size_t read() const { return read_; }
  std::size_t kept() const { return kept_; }
  std::size_t dropped(const std::string& reason) const;
  std::size_t warnings(const std::string& what) const;

  // "read 515 videos; kept 416 samples, 51 classes; dropped 99 tag 0 (unused in split 1)".
  std::string summary_line() const;
  // One line per kind of warning: "3 empty answer strings skipped (e.g. question 12, question 57)".
  std::vector<std::string> warning_lines() const;

 private:
  struct Count {
    std::string what;
    std::size_t count = 0;
    std::vector<std::string> examples;
  };
  Count& find_or_add(std::vector<Count>& counts, const std::string& what);

  std::size_t read_ = 0;
  std::string unit_ = "entries";
  std::size_t kept_ = 0;
  std::size_t classes_ = 0;
  std::vector<Count> drops_;
  std::vector<Count> warnings_;
};

}  // namespace scrim
