#include <algorithm>

#include "scrim/core/error.h"
#include "scrim/data/importers.h"
#include "scrim/media/image_io.h"

namespace fs = std::filesystem;

namespace scrim {

Manifest import_folder(const FolderImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  std::error_code ec;
  if (!fs::is_directory(o.folder, ec)) throw Error(o.folder.string() + ": not a folder");
  std::vector<fs::path> files;
  for (auto it = fs::recursive_directory_iterator(o.folder, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    if (is_image_path(it->path()) || is_video_path(it->path())) files.push_back(it->path());
    else r.drop("files neither image nor video");
  }
  std::sort(files.begin(), files.end());
  Manifest m;
  m.name = o.folder.filename().string();
  m.base_dir = fs::absolute(o.folder);
  for (const auto& f : files) {
    Sample s;
    std::string rel = import_detail::relative_to(f, o.folder);
    s.id = rel;
    s.split = o.split;
    if (is_video_path(f)) s.media.video = rel;
    else s.media.images = {rel};
    m.samples.push_back(std::move(s));
  }
  if (m.samples.empty()) throw Error(o.folder.string() + ": no images or videos found");
  r.set_read(files.size() + r.dropped("files neither image nor video"), "files");
  r.set_kept(m.samples.size());
  return m;
}

}  // namespace scrim
