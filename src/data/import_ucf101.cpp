#include <map>
#include <sstream>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"

namespace fs = std::filesystem;

namespace scrim {

Manifest import_ucf101(const Ucf101ImportOptions& o) {
  using import_detail::read_lines;
  if (o.split < 1 || o.split > 3) throw UsageError("import_ucf101(): split must be 1, 2 or 3");
  fs::path class_file = o.splits_dir / "classInd.txt";
  std::vector<std::string> classes;
  std::map<std::string, int> index_of;
  auto lines = read_lines(class_file);
  for (size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].empty()) continue;
    std::istringstream in(lines[i]);
    int index = 0;
    std::string name;
    std::string where = class_file.string() + ":" + std::to_string(i + 1);
    if (!(in >> index >> name)) throw Error(where + ": expected '<index> <ClassName>'");
    if (index != static_cast<int>(classes.size()) + 1)
      throw Error(where + ": class index " + std::to_string(index) + " out of order (expected " +
                  std::to_string(classes.size() + 1) + ")");
    index_of[name] = index;
    classes.push_back(name);
  }
  if (classes.empty()) throw Error(class_file.string() + ": no classes");

  Manifest m;
  m.name = "ucf101-split" + std::to_string(o.split);
  m.label_sets["ucf101"] = classes;
  m.base_dir = fs::absolute(o.videos);
  for (const char* kind : {"train", "test"}) {
    fs::path list = o.splits_dir / (std::string(kind) + "list0" + std::to_string(o.split) + ".txt");
    auto rows = read_lines(list);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].find_first_not_of(" \t") == std::string::npos) continue;
      std::string where = list.string() + ":" + std::to_string(i + 1);
      std::istringstream in(rows[i]);
      std::string video;
      in >> video;
      auto slash = video.find('/');
      if (slash == std::string::npos) throw Error(where + ": expected 'ClassName/video.avi'");
      std::string cls = video.substr(0, slash);
      auto it = index_of.find(cls);
      if (it == index_of.end()) throw Error(where + ": class '" + cls + "' is not in classInd.txt");
      int listed = 0;
      if (in >> listed && listed != it->second)
        throw Error(where + ": label " + std::to_string(listed) + " disagrees with class '" + cls + "' (" +
                    std::to_string(it->second) + ")");
      Sample s;
      s.id = fs::path(video).stem().string();
      s.split = kind;
      s.media.video = video;
      s.task.kind = Task::Kind::kAction;
      s.task.label = cls;
      s.task.label_set = "ucf101";
      m.samples.push_back(std::move(s));
    }
  }
  return m;
}

}  // namespace scrim
