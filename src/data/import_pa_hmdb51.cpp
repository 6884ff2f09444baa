#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "scrim/data/importers.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace scrim {
namespace {

// The five PA-HMDB51 attributes mapped to VISPR ids, as in Wu et al. (TPAMI 2020).
// Values: skin_color 0 invisible / 1-3 tones; face 0 none / 1 partial / 2 complete;
// gender 0 invisible / 1-3 visible; nudity 0 none / 1-2 levels; relationship 0 / 1.
void map_attribute(const std::string& name, int value, std::map<std::string, int>& out) {
  if (value <= 0) return;
  if (name == "skin_color") out["a17_color"] = 1;
  else if (name == "gender") out["a4_gender"] = 1;
  else if (name == "nudity") out["a12_semi_nudity"] = 1;
  else if (name == "relationship") out["a64_rel_personal"] = 1;
  else if (name == "face") out[value >= 2 ? "a9_face_complete" : "a10_face_partial"] = 1;
}

const std::vector<std::string> kMappedAttributes = {"a4_gender", "a9_face_complete", "a10_face_partial",
                                                   "a12_semi_nudity", "a17_color", "a64_rel_personal"};
const std::vector<std::string> kPaAttributes = {"skin_color", "face", "gender", "nudity", "relationship"};

}  // namespace

Manifest import_pa_hmdb51(const PaHmdb51ImportOptions& o) {
  std::error_code ec;
  if (!fs::is_directory(o.annotations, ec)) throw Error(o.annotations.string() + ": not a folder");
  std::map<std::string, std::string> split_of;  // video file name -> train/test
  if (!o.hmdb_splits.empty()) {
    Hmdb51ImportOptions h{o.hmdb_splits, o.videos, o.split};
    for (const auto& s : import_hmdb51(h).samples) split_of[fs::path(s.media.video).filename().string()] = s.split;
  }
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(o.annotations))
    if (f.is_regular_file() && lower_extension(f.path()) == "json") files.push_back(f.path());
  if (files.empty()) throw Error(o.annotations.string() + ": no per-action JSON files");
  std::sort(files.begin(), files.end());

  Manifest m;
  m.name = "pa-hmdb51";
  m.base_dir = fs::absolute(o.videos);
  m.attributes = kMappedAttributes;
  auto& labels = m.label_sets["hmdb51"];
  for (const auto& f : files) labels.push_back(f.stem().string());
  for (const auto& file : files) {
    std::string action = file.stem().string();
    json j;
    try {
      j = json::parse(read_file_text(file));
    } catch (const json::parse_error& e) {
      throw Error(file.string() + ": malformed JSON (" + one_line(e.what()) + ")");
    }
    if (!j.is_object()) throw Error(file.string() + ": expected an object of video -> attributes");
    for (const auto& [video, attrs] : j.items()) {
      auto fail = [&](const std::string& field, const std::string& what) {
        return Error(file.string() + ": field '" + video + "." + field + "': " + what);
      };
      if (!attrs.is_object()) throw fail("(video)", "expected an object of attribute -> spans");
      Sample s;
      std::string name = fs::path(video).filename().string();
      s.id = fs::path(video).stem().string();
      s.media.video = video.find('/') == std::string::npos ? action + "/" + video : video;
      s.task.kind = Task::Kind::kAction;
      s.task.label = action;
      s.task.label_set = "hmdb51";
      for (const auto& a : kMappedAttributes) s.privacy.attributes[a] = 0;
      for (const auto& [attr, spans] : attrs.items()) {
        if (std::find(kPaAttributes.begin(), kPaAttributes.end(), attr) == kPaAttributes.end())
          throw fail(attr, "unknown attribute (expected skin_color, face, gender, nudity, relationship)");
        if (!spans.is_array()) throw fail(attr, "expected a list of [start_frame, end_frame, value]");
        for (const auto& span : spans) {
          if (!span.is_array() || span.size() != 3 || !span[0].is_number_integer() ||
              !span[1].is_number_integer() || !span[2].is_number_integer())
            throw fail(attr, "expected [start_frame, end_frame, value] integers");
          if (span[1].get<int>() < span[0].get<int>()) throw fail(attr, "end_frame before start_frame");
          map_attribute(attr, span[2].get<int>(), s.privacy.attributes);
        }
      }
      if (o.hmdb_splits.empty()) {
        s.split = "test";
      } else {
        auto it = split_of.find(name);
        if (it == split_of.end()) continue;  // unused (tag 0) in this split
        s.split = it->second;
      }
      m.samples.push_back(std::move(s));
    }
  }
  return m;
}

}  // namespace scrim
