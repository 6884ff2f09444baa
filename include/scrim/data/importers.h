// Importers turn public data sets, in their published layouts, into scrim
// manifests. Each reads only annotation files (never decodes media), throws
// scrim::Error naming the file and line (or JSON field) at fault when a copy is
// damaged (cut short, out of range, a file missing from a set), and, when given
// a report, counts what it read, kept and dropped and the irregularities it
// tolerated.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "scrim/data/import_report.h"
#include "scrim/data/manifest.h"

namespace scrim {

// VISPR (Orekondy et al. 2017): one JSON per image, {"id", "image_path", "labels": ["a17_color", ...]},
// under annotation folders whose names give the split (train2017, val2017, test2017).
// A label that is not one of VISPR's 68 ids (a misspelling) is an error naming the file;
// so is an id listed in two files.
struct VisprImportOptions {
  std::filesystem::path annotations;  // folder holding <split>/ subfolders of JSON files
  std::filesystem::path images;       // root that image_path is relative to (default: annotations/..)
  std::vector<std::string> attributes;  // empty: the 7-attribute subset
  bool all_attributes = false;        // keep every attribute seen (overrides `attributes`)
};
Manifest import_vispr(const VisprImportOptions& options, ImportReport* report = nullptr);

// UCF101 (Soomro et al. 2012): classInd.txt, trainlist0N.txt, testlist0N.txt.
// A line that is not "Class/video.avi" (plus the label in train lists), as a list
// cut mid-line leaves, is an error naming file and line.
struct Ucf101ImportOptions {
  std::filesystem::path splits_dir;  // folder with classInd.txt and the lists
  std::filesystem::path videos;      // root the listed "Class/v_Class_gXX_cYY.avi" paths are under
  int split = 1;                     // 1, 2 or 3
};
Manifest import_ucf101(const Ucf101ImportOptions& options, ImportReport* report = nullptr);

// HMDB51 (Kuehne et al. 2011): <action>_test_splitN.txt, lines "video.avi TAG", tag 1 train, 2 test, 0 unused.
// An action with split files for other numbers but not for `split` is an error
// (a class file missing from the set); tag-0 lines are counted as dropped.
struct Hmdb51ImportOptions {
  std::filesystem::path splits_dir;
  std::filesystem::path videos;  // root holding <action>/<video>.avi
  int split = 1;
};
Manifest import_hmdb51(const Hmdb51ImportOptions& options, ImportReport* report = nullptr);

// PA-HMDB51 (Wang, Wu et al. TPAMI 2021), as published in VITA-Group/PA-HMDB51:
// one JSON per action, {video: {attribute: [[start_frame, end_frame, value], ...],
// "review": bool, "note": str}}. Keys other than the five attributes (the
// reviewing tool's "review" and "note") are skipped and counted. A value may be a
// list ("[1, 2]": male and female both present); it is positive when any element
// is. Values (the authors' names): skin_color 0 unidentifiable / 1 white /
// 2 brown-yellow / 3 black; face 0 invisible / 1 partial / 2 complete;
// gender 0 unidentifiable / 1 male / 2 female; nudity 0 none / 1 partial /
// 2 semi; relationship 0 unidentifiable / 1 identifiable; anything else is an
// error naming the file, video and span. VISPR ids: gender→a4_gender,
// skin_color→a17_color, nudity→a12_semi_nudity, relationship→a64_rel_personal,
// and face by `face` below. A video is positive for an id when any span is.
// Splits come from HMDB51 split files when given (else every video is in split
// "test"); tag-0 and unlisted videos are dropped and counted.
struct PaHmdb51ImportOptions {
  enum class Face {
    kCompletePartial,  // 2 → a9_face_complete, 1 → a10_face_partial (the authors' three levels, kept apart)
    kVisible,          // 1 or 2 → a9_face_complete and a10 absent: "a face is visible" as one attribute
  };
  std::filesystem::path annotations;  // folder of per-action JSON files
  std::filesystem::path videos;       // root holding <action>/<video>.avi
  std::filesystem::path hmdb_splits;  // optional HMDB51 split folder
  int split = 1;
  Face face = Face::kCompletePartial;
};
Manifest import_pa_hmdb51(const PaHmdb51ImportOptions& options, ImportReport* report = nullptr);

// OK-VQA (Marino et al. 2019): OpenEnded_mscoco_<split>_questions.json and
// mscoco_<split>_annotations.json, images at <coco>/<split>/COCO_<split>_<id:012>.jpg,
// optionally joined with the OK-VQA privacy annotations
// ([{"image", "id", "choice": "a17_color" | {"choices": [...]} | absent}]).
// Empty answer strings are skipped with a counted warning (a question left with
// none is dropped); privacy entries matching no question are counted in a
// warning; `only_annotated` keeping nothing is an error. Errors name the input
// file and the question id.
struct OkvqaImportOptions {
  std::filesystem::path questions;
  std::filesystem::path annotations;
  std::filesystem::path coco_images;  // folder holding train2014/ and val2014/
  std::filesystem::path privacy;      // optional privacy annotations
  bool only_annotated = false;        // keep only images with privacy annotations
  std::string split;                  // default: "train" for *train2014*, else "test"
};
Manifest import_okvqa(const OkvqaImportOptions& options, ImportReport* report = nullptr);

// A plain folder (recursive) of images and videos, without labels.
struct FolderImportOptions {
  std::filesystem::path folder;
  std::string split = "test";
};
Manifest import_folder(const FolderImportOptions& options, ImportReport* report = nullptr);

// Helpers shared by the importers.
namespace import_detail {
// Lines of a text file, with CR stripped; throws naming the file if unreadable.
std::vector<std::string> read_lines(const std::filesystem::path& path);
// A path relative to `base` when it lies under it, else absolute.
std::string relative_to(const std::filesystem::path& path, const std::filesystem::path& base);

// Where each sample id came from, so that a repeated id is reported with both
// sources rather than later against the manifest being written.
class IdSources {
 public:
  // Throws scrim::Error "duplicate id 'x': <first where> and <where>".
  void add(const std::string& id, const std::string& where);

 private:
  std::map<std::string, std::string> where_;
};

// One HMDB51 split line: the video's file name, its action and its tag.
struct Hmdb51SplitEntry {
  std::string action;
  std::string video;
  int tag = 0;        // 1 train, 2 test, 0 unused
  std::string where;  // "<file>:<line>"
};
// Every line of the split files for `options.split`, tag 0 included, in action order.
std::vector<Hmdb51SplitEntry> read_hmdb51_split(const Hmdb51ImportOptions& options, std::vector<std::string>* actions);
}  // namespace import_detail

}  // namespace scrim
