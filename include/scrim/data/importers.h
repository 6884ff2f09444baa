// Importers turn public data sets, in their published layouts, into scrim
// manifests. Each reads only annotation files (never decodes media) and throws
// scrim::Error naming the file and line at fault.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "scrim/data/manifest.h"

namespace scrim {

// VISPR (Orekondy et al. 2017): one JSON per image, {"id", "image_path", "labels": ["a17_color", ...]},
// under annotation folders whose names give the split (train2017, val2017, test2017).
struct VisprImportOptions {
  std::filesystem::path annotations;  // folder holding <split>/ subfolders of JSON files
  std::filesystem::path images;       // root that image_path is relative to (default: annotations/..)
  std::vector<std::string> attributes;  // empty: the 7-attribute subset
  bool all_attributes = false;        // keep every attribute seen (overrides `attributes`)
};
Manifest import_vispr(const VisprImportOptions& options);

// UCF101 (Soomro et al. 2012): classInd.txt, trainlist0N.txt, testlist0N.txt.
struct Ucf101ImportOptions {
  std::filesystem::path splits_dir;  // folder with classInd.txt and the lists
  std::filesystem::path videos;      // root the listed "Class/v_Class_gXX_cYY.avi" paths are under
  int split = 1;                     // 1, 2 or 3
};
Manifest import_ucf101(const Ucf101ImportOptions& options);

// HMDB51 (Kuehne et al. 2011): <action>_test_splitN.txt, lines "video.avi TAG", tag 1 train, 2 test, 0 unused.
struct Hmdb51ImportOptions {
  std::filesystem::path splits_dir;
  std::filesystem::path videos;  // root holding <action>/<video>.avi
  int split = 1;
};
Manifest import_hmdb51(const Hmdb51ImportOptions& options);

// PA-HMDB51 (Wu et al. TPAMI 2020): one JSON per action,
// {video: {attribute: [[start_frame, end_frame, value], ...]}}; attributes are
// mapped to VISPR ids: gender→a4, face→a9 (complete) / a10 (partial),
// nudity→a12, skin_color→a17, relationship→a64. A video is positive for an
// attribute when any span has a positive value. Splits come from HMDB51 split
// files when given (else every video is in split "test").
struct PaHmdb51ImportOptions {
  std::filesystem::path annotations;  // folder of per-action JSON files
  std::filesystem::path videos;       // root holding <action>/<video>.avi
  std::filesystem::path hmdb_splits;  // optional HMDB51 split folder
  int split = 1;
};
Manifest import_pa_hmdb51(const PaHmdb51ImportOptions& options);

// OK-VQA (Marino et al. 2019): OpenEnded_mscoco_<split>_questions.json and
// mscoco_<split>_annotations.json, images at <coco>/<split>/COCO_<split>_<id:012>.jpg,
// optionally joined with the OK-VQA privacy annotations
// ([{"image", "id", "choice": "a17_color" | {"choices": [...]} | absent}]).
struct OkvqaImportOptions {
  std::filesystem::path questions;
  std::filesystem::path annotations;
  std::filesystem::path coco_images;  // folder holding train2014/ and val2014/
  std::filesystem::path privacy;      // optional privacy annotations
  bool only_annotated = false;        // keep only images with privacy annotations
  std::string split;                  // default: "train" for *train2014*, else "test"
};
Manifest import_okvqa(const OkvqaImportOptions& options);

// A plain folder (recursive) of images and videos, without labels.
struct FolderImportOptions {
  std::filesystem::path folder;
  std::string split = "test";
};
Manifest import_folder(const FolderImportOptions& options);

// Helpers shared by the importers.
namespace import_detail {
// Lines of a text file, with CR stripped; throws naming the file if unreadable.
std::vector<std::string> read_lines(const std::filesystem::path& path);
// A path relative to `base` when it lies under it, else absolute.
std::string relative_to(const std::filesystem::path& path, const std::filesystem::path& base);
}  // namespace import_detail

}  // namespace scrim
