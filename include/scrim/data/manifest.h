// The one data-set format scrim reads: JSON lines, one sample per line, with an
// optional header line first. Paths inside are relative to the manifest's folder.
//
//   {"scrim_manifest": 1, "name": "synth", "label_sets": {"actions": ["clapping", ...]},
//    "attributes": ["a4_gender", ...]}
//   {"id": "s1", "split": "train",
//    "media": {"images": ["images/s1.png"]}            // or {"video": "v.mp4", "frames": [0, 8]}
//    "task": {"type": "action", "label": "waving", "label_set": "actions"}
//         // or {"type": "vqa", "question": "...", "answers": ["..." x10], "question_type": "color"}
//    "privacy": {"attributes": {"a4_gender": 1}, "identity": "id07", "text": ["KX4R"],
//                "questions": [{"question": "Who is this?", "answers": ["..."], "question_type": "identity"}]}}
//
// "task" and "privacy" are optional. An action task may carry its labels inline
// ("labels": [...]) instead of naming a header label set.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace scrim {

struct MediaRef {
  std::vector<std::string> images;  // one or more image paths, or
  std::string video;                // a video path with
  std::vector<int> frames;          // optional frame indices (empty: sample at load time)
  bool is_video() const { return !video.empty(); }
};

// A rectangle as fractions of the picture's width and height.
struct Region {
  double x = 0, y = 0, w = 0, h = 0;
};

struct VqaItem {
  std::string question;
  std::vector<std::string> answers;  // the human answers (VQA: usually 10)
  std::string question_type;         // free-form tag, e.g. "color", "count"
  // Where the answer can be read, when known (grounding, as GQA annotates
  // it): the reference MLLM learns to look there. JSON: "evidence": [x, y, w, h].
  std::optional<Region> evidence;
};

struct Task {
  enum class Kind { kNone, kAction, kVqa };
  Kind kind = Kind::kNone;
  std::string label;      // kAction: the true label
  std::string label_set;  // kAction: the name of its label set in Manifest::label_sets
  VqaItem vqa;            // kVqa
};

struct PrivacyLabels {
  std::map<std::string, int> attributes;  // attribute id -> 0/1
  std::optional<std::string> identity;    // re-identification target
  std::vector<std::string> texts;         // legible strings in the image
  std::vector<VqaItem> questions;         // questions whose answers are private
};

struct Sample {
  std::string id;
  std::string split;
  MediaRef media;
  Task task;
  PrivacyLabels privacy;
};

struct Manifest {
  std::string name;
  std::map<std::string, std::vector<std::string>> label_sets;
  std::vector<std::string> attributes;  // the attribute ids this data set annotates
  std::vector<Sample> samples;
  std::filesystem::path base_dir;       // folder the relative paths are resolved against

  // An absolute (or base-relative) path for a path stored in the manifest.
  std::filesystem::path resolve(const std::string& stored_path) const;
  std::vector<const Sample*> split(const std::string& name) const;
  // The attribute columns: the header's `attributes`, else every attribute a sample carries (sorted).
  std::vector<std::string> attribute_columns() const;
  // The label list of an action task (header set or inline set).
  const std::vector<std::string>& labels_of(const Task& task) const;
};

// Reads and validates a manifest. Throws scrim::Error "PATH:LINE: field 'F': problem".
Manifest read_manifest(const std::filesystem::path& path);
Manifest parse_manifest(const std::string& text, const std::string& name_for_errors,
                        const std::filesystem::path& base_dir);

// Validates (the same checks as the reader) and writes atomically.
void write_manifest(const std::filesystem::path& path, const Manifest& manifest);
std::string serialize_manifest(const Manifest& manifest);

// Checks cross-field rules (unique ids, labels inside their set, ...). Throws scrim::Error.
void validate_manifest(const Manifest& manifest, const std::string& name_for_errors);

}  // namespace scrim

namespace scrim {
// Rewrites every media path so it is relative to new_base_dir (absolute when
// it cannot be expressed relatively) and sets base_dir. Used before a manifest
// is written somewhere other than where its paths were resolved.
void relocate_manifest(Manifest& manifest, const std::filesystem::path& new_base_dir);
}  // namespace scrim
