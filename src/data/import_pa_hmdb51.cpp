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

// The five PA-HMDB51 attributes with their largest value (values are 0..max;
// 0 means "not identifiable" or "none", as the authors name them).
const std::vector<std::pair<std::string, int>> kPaAttributes = {
    {"skin_color", 3}, {"face", 2}, {"gender", 2}, {"nudity", 2}, {"relationship", 1}};

int max_value_of(const std::string& attribute) {
  for (const auto& [name, max] : kPaAttributes)
    if (name == attribute) return max;
  return -1;
}

// The VISPR id a positive value of `attribute` sets.
std::string vispr_id(const std::string& attribute, int value, PaHmdb51ImportOptions::Face face) {
  if (attribute == "skin_color") return "a17_color";
  if (attribute == "gender") return "a4_gender";
  if (attribute == "nudity") return "a12_semi_nudity";
  if (attribute == "relationship") return "a64_rel_personal";
  if (face == PaHmdb51ImportOptions::Face::kVisible) return "a9_face_complete";
  return value >= 2 ? "a9_face_complete" : "a10_face_partial";
}

std::vector<std::string> mapped_attributes(PaHmdb51ImportOptions::Face face) {
  if (face == PaHmdb51ImportOptions::Face::kVisible)
    return {"a4_gender", "a9_face_complete", "a12_semi_nudity", "a17_color", "a64_rel_personal"};
  return {"a4_gender", "a9_face_complete", "a10_face_partial", "a12_semi_nudity", "a17_color", "a64_rel_personal"};
}

// The values of one span's third element: an integer, or a list of integers
// when several are present at once ("[1, 2]": male and female).
std::vector<int> span_values(const json& v) {
  std::vector<int> out;
  if (v.is_number_integer()) out.push_back(v.get<int>());
  else if (v.is_array() && !v.empty())
    for (const auto& x : v) {
      if (!x.is_number_integer()) return {};
      out.push_back(x.get<int>());
    }
  return out;
}

}  // namespace

Manifest import_pa_hmdb51(const PaHmdb51ImportOptions& o, ImportReport* report) {
  ImportReport local;
  ImportReport& r = report ? *report : local;
  std::error_code ec;
  if (!fs::is_directory(o.annotations, ec)) throw Error(o.annotations.string() + ": not a folder");
  std::map<std::string, int> tag_of;  // video file name -> HMDB51 tag in this split
  if (!o.hmdb_splits.empty()) {
    Hmdb51ImportOptions h{o.hmdb_splits, o.videos, o.split};
    for (const auto& e : import_detail::read_hmdb51_split(h, nullptr)) tag_of[e.video] = e.tag;
  }
  std::vector<fs::path> files;
  for (const auto& f : fs::directory_iterator(o.annotations))
    if (f.is_regular_file() && lower_extension(f.path()) == "json") files.push_back(f.path());
  if (files.empty()) throw Error(o.annotations.string() + ": no per-action JSON files");
  std::sort(files.begin(), files.end());

  Manifest m;
  m.name = "pa-hmdb51";
  m.base_dir = fs::absolute(o.videos);
  m.attributes = mapped_attributes(o.face);
  auto& labels = m.label_sets["hmdb51"];
  for (const auto& f : files) labels.push_back(f.stem().string());
  import_detail::IdSources ids;
  size_t videos = 0;
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
      ++videos;
      auto fail = [&](const std::string& field, const std::string& what) {
        return Error(file.string() + ": field '" + video + "." + field + "': " + what);
      };
      if (!attrs.is_object()) throw fail("(video)", "expected an object of attribute -> spans");
      std::string name = fs::path(video).filename().string();
      // An older copy lists some videos under several actions.
      ids.add(fs::path(video).stem().string(), file.string());
      Sample s;
      s.id = fs::path(video).stem().string();
      s.media.video = video.find('/') == std::string::npos ? action + "/" + video : video;
      s.task.kind = Task::Kind::kAction;
      s.task.label = action;
      s.task.label_set = "hmdb51";
      for (const auto& a : m.attributes) s.privacy.attributes[a] = 0;
      for (const auto& [attr, spans] : attrs.items()) {
        int max = max_value_of(attr);
        if (max < 0 && !spans.is_array()) {
          // The annotation tool's own keys ("review": bool, "note": str), which the authors' scripts skip too.
          r.warn("non-attribute '" + attr + "' keys skipped", name);
          continue;
        }
        if (max < 0) throw fail(attr, "unknown attribute (expected skin_color, face, gender, nudity, relationship)");
        if (!spans.is_array()) throw fail(attr, "expected a list of [start_frame, end_frame, value]");
        for (size_t k = 0; k < spans.size(); ++k) {
          const json& span = spans[k];
          std::vector<int> values = span.is_array() && span.size() == 3 ? span_values(span[2]) : std::vector<int>{};
          if (values.empty() || !span[0].is_number_integer() || !span[1].is_number_integer())
            throw fail(attr, "span " + std::to_string(k) + ": expected [start_frame, end_frame, value] integers (value may be a list)");
          if (span[1].get<int>() < span[0].get<int>()) throw fail(attr, "span " + std::to_string(k) + ": end_frame before start_frame");
          for (int v : values) {
            if (v < 0 || v > max)
              throw fail(attr, "span " + std::to_string(k) + ": value " + std::to_string(v) + " out of range 0.." + std::to_string(max));
            if (v > 0) s.privacy.attributes[vispr_id(attr, v, o.face)] = 1;
          }
        }
      }
      for (const auto& [attr, max] : kPaAttributes)
        if (!attrs.contains(attr)) r.warn("videos without '" + attr + "' (taken as absent)", name);
      if (o.hmdb_splits.empty()) {
        s.split = "test";
      } else {
        auto it = tag_of.find(name);
        if (it == tag_of.end()) {
          r.drop("not in the HMDB51 split " + std::to_string(o.split) + " files");
          continue;
        }
        if (it->second == 0) {
          r.drop("tag 0 (unused in HMDB51 split " + std::to_string(o.split) + ")");
          continue;
        }
        s.split = it->second == 1 ? "train" : "test";
      }
      m.samples.push_back(std::move(s));
    }
  }
  r.set_read(videos, "videos in " + std::to_string(files.size()) + " files");
  r.set_kept(m.samples.size(), labels.size());
  return m;
}

}  // namespace scrim
