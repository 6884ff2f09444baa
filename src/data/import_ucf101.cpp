#include <map>
#include <sstream>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"
#include "scrim/media/image_io.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {
constexpr size_t kUcf101Classes = 101;
}  // namespace

Manifest import_ucf101(const Ucf101ImportOptions& o, ImportReport* report) {
  using import_detail::read_lines;
  ImportReport local;
  ImportReport& r = report ? *report : local;
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
  if (classes.size() != kUcf101Classes)
    r.warn("UCF101 class count is not the published " + std::to_string(kUcf101Classes),
           "found " + std::to_string(classes.size()) + " in " + class_file.string());

  Manifest m;
  m.name = "ucf101-split" + std::to_string(o.split);
  m.label_sets["ucf101"] = classes;
  m.base_dir = fs::absolute(o.videos);
  import_detail::IdSources ids;
  size_t lines_read = 0;
  for (const std::string kind : {"train", "test"}) {
    fs::path list = o.splits_dir / (kind + "list0" + std::to_string(o.split) + ".txt");
    // Train lists give "Class/v_Class_gNN_cNN.avi <label>", test lists the path alone;
    // anything shorter is a line cut off (a truncated copy), not a sample.
    const std::string expected = kind == "train" ? "'ClassName/video.avi <label>'" : "'ClassName/video.avi'";
    auto rows = read_lines(list);
    for (size_t i = 0; i < rows.size(); ++i) {
      if (rows[i].find_first_not_of(" \t") == std::string::npos) continue;
      ++lines_read;
      std::string where = list.string() + ":" + std::to_string(i + 1);
      std::istringstream in(rows[i]);
      std::string video, label_text, extra;
      in >> video;
      bool has_label = static_cast<bool>(in >> label_text);
      auto slash = video.find('/');
      if (slash == std::string::npos || slash + 1 == video.size() ||
          !is_video_path(video) || (in >> extra) ||
          (kind == "train" && !has_label))
        throw Error(where + ": expected " + expected + ", got '" + rows[i] + "' (a list cut short?)");
      std::string cls = video.substr(0, slash);
      auto it = index_of.find(cls);
      if (it == index_of.end()) throw Error(where + ": class '" + cls + "' is not in classInd.txt");
      if (has_label) {
        int listed = 0;
        size_t used = 0;
        try {
          listed = std::stoi(label_text, &used);
        } catch (const std::exception&) {
        }
        if (used != label_text.size()) throw Error(where + ": label '" + label_text + "' is not a number");
        if (listed != it->second)
          throw Error(where + ": label " + std::to_string(listed) + " disagrees with class '" + cls + "' (" +
                      std::to_string(it->second) + ")");
      }
      Sample s;
      s.id = fs::path(video).stem().string();
      ids.add(s.id, where);
      s.split = kind;
      s.media.video = video;
      s.task.kind = Task::Kind::kAction;
      s.task.label = cls;
      s.task.label_set = "ucf101";
      m.samples.push_back(std::move(s));
    }
  }
  r.set_read(lines_read, "list lines");
  r.set_kept(m.samples.size(), classes.size());
  return m;
}

}  // namespace scrim
