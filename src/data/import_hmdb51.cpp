#include <algorithm>
#include <regex>
#include <set>
#include <sstream>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"

namespace fs = std::filesystem;

namespace scrim {
namespace import_detail {

std::vector<Hmdb51SplitEntry> read_hmdb51_split(const Hmdb51ImportOptions& o, std::vector<std::string>* actions) {
  if (o.split < 1 || o.split > 3) throw UsageError("import_hmdb51(): split must be 1, 2 or 3");
  std::error_code ec;
  if (!fs::is_directory(o.splits_dir, ec)) throw Error(o.splits_dir.string() + ": not a folder");
  const std::regex name_re("(.+)_test_split([1-3])\\.txt");
  std::vector<std::pair<std::string, fs::path>> files;
  std::map<std::string, std::string> other_split;  // action -> a file of another split number
  for (const auto& f : fs::directory_iterator(o.splits_dir)) {
    std::smatch match;
    std::string name = f.path().filename().string();
    if (!std::regex_match(name, match, name_re)) continue;
    if (match[2].str() == std::to_string(o.split)) files.emplace_back(match[1].str(), f.path());
    else other_split.emplace(match[1].str(), name);
  }
  if (files.empty())
    throw Error(o.splits_dir.string() + ": no <action>_test_split" + std::to_string(o.split) + ".txt files");
  std::sort(files.begin(), files.end());
  // The published set has one file per action and split: an action present for
  // another split but not this one is a damaged copy, not a smaller data set.
  for (const auto& [action, name] : other_split)
    if (std::none_of(files.begin(), files.end(), [&](const auto& f) { return f.first == action; }))
      throw Error((o.splits_dir / (action + "_test_split" + std::to_string(o.split) + ".txt")).string() +
                  ": missing, though " + name + " is present (a class file missing from the split set)");

  std::vector<Hmdb51SplitEntry> entries;
  for (const auto& [action, file] : files) {
    if (actions) actions->push_back(action);
    auto lines = read_lines(file);
    for (size_t i = 0; i < lines.size(); ++i) {
      if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
      std::string where = file.string() + ":" + std::to_string(i + 1);
      std::istringstream in(lines[i]);
      std::string video, extra;
      int tag = -1;
      if (!(in >> video >> tag) || (in >> extra)) throw Error(where + ": expected '<video.avi> <tag>'");
      if (tag < 0 || tag > 2) throw Error(where + ": tag " + std::to_string(tag) + " is not 0, 1 or 2");
      entries.push_back({action, video, tag, where});
    }
  }
  return entries;
}

}  // namespace import_detail

namespace {
constexpr size_t kHmdb51Classes = 51;
}  // namespace

Manifest import_hmdb51(const Hmdb51ImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  Manifest m;
  m.name = "hmdb51-split" + std::to_string(o.split);
  m.base_dir = fs::absolute(o.videos);
  auto& labels = m.label_sets["hmdb51"];
  auto entries = import_detail::read_hmdb51_split(o, &labels);
  import_detail::IdSources ids;
  for (const auto& e : entries) {
    if (e.tag == 0) {
      r.drop("tag 0 (unused in split " + std::to_string(o.split) + ")");
      continue;
    }
    Sample s;
    s.id = fs::path(e.video).stem().string();
    ids.add(s.id, e.where);
    s.split = e.tag == 1 ? "train" : "test";
    s.media.video = e.action + "/" + e.video;
    s.task.kind = Task::Kind::kAction;
    s.task.label = e.action;
    s.task.label_set = "hmdb51";
    m.samples.push_back(std::move(s));
  }
  // A class missing from every split number cannot be told from the files alone; say so.
  if (labels.size() != kHmdb51Classes)
    r.warn("HMDB51 class count is not the published " + std::to_string(kHmdb51Classes),
           "found " + std::to_string(labels.size()) + " action classes");
  r.set_read(entries.size(), "split lines");
  r.set_kept(m.samples.size(), labels.size());
  return m;
}

}  // namespace scrim
