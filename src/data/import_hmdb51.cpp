#include <algorithm>
#include <regex>
#include <sstream>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"

namespace fs = std::filesystem;

namespace scrim {

Manifest import_hmdb51(const Hmdb51ImportOptions& o) {
  if (o.split < 1 || o.split > 3) throw UsageError("import_hmdb51(): split must be 1, 2 or 3");
  std::error_code ec;
  if (!fs::is_directory(o.splits_dir, ec)) throw Error(o.splits_dir.string() + ": not a folder");
  const std::regex name_re("(.+)_test_split" + std::to_string(o.split) + "\\.txt");
  std::vector<std::pair<std::string, fs::path>> files;
  for (const auto& f : fs::directory_iterator(o.splits_dir)) {
    std::smatch match;
    std::string name = f.path().filename().string();
    if (std::regex_match(name, match, name_re)) files.emplace_back(match[1].str(), f.path());
  }
  if (files.empty())
    throw Error(o.splits_dir.string() + ": no <action>_test_split" + std::to_string(o.split) + ".txt files");
  std::sort(files.begin(), files.end());

  Manifest m;
  m.name = "hmdb51-split" + std::to_string(o.split);
  m.base_dir = fs::absolute(o.videos);
  auto& labels = m.label_sets["hmdb51"];
  for (const auto& [action, _] : files) labels.push_back(action);
  for (const auto& [action, file] : files) {
    auto lines = import_detail::read_lines(file);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
      std::string where = file.string() + ":" + std::to_string(i + 1);
      std::istringstream in(lines[i]);
      std::string video;
      int tag = -1;
      if (!(in >> video >> tag)) throw Error(where + ": expected '<video.avi> <tag>'");
      if (tag < 0 || tag > 2) throw Error(where + ": tag " + std::to_string(tag) + " is not 0, 1 or 2");
      if (tag == 0) continue;  // not used in this split
      Sample s;
      s.id = fs::path(video).stem().string();
      s.split = tag == 1 ? "train" : "test";
      s.media.video = action + "/" + video;
      s.task.kind = Task::Kind::kAction;
      s.task.label = action;
      s.task.label_set = "hmdb51";
      m.samples.push_back(std::move(s));
    }
  }
  return m;
}

}  // namespace scrim
