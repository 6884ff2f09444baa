// `scrim eval-real`: protectors on the real photos in ../shared/realdata, with
// no MLLM needed. Privacy: face-detector recall (YuNet, Haar, dlib HOG) against
// the annotated face boxes and OCR character recall against the annotated
// text, before and after protection. Utility proxy: how many of the people the
// HOG people detector (Dalal & Triggs, CVPR 2005) finds in the raw photo it
// still finds after protection.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace scrim {

struct RealEvalOptions {
  std::filesystem::path realdata;  // the folder holding faces/ and text/
  std::vector<std::string> protectors;
  int limit = 0;                   // images per group (0: all)
};

// {"protectors": [{"protector", "faces": {"yunet": recall, "haar": ..., "dlib": ...}, "faces_total",
//   "ocr_character_recall", "text_items", "people_kept", "people_total"}], ...}
nlohmann::json run_real_evaluation(const RealEvalOptions& options, const std::function<void(const std::string&)>& progress = {});

// A plain-text table of run_real_evaluation's results.
std::string format_real_evaluation(const nlohmann::json& results);

}  // namespace scrim
