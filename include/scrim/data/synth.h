// The synthetic benchmark: scrim's embedded default data set, rendered with
// OpenCV from a seed, with no external assets.
//
// Each scene shows 1-3 people (stick figures with bodies) whose limb pose
// encodes an action, with faces whose features encode one of 20 identities,
// name tags, signs, licence plates and coloured objects on varied backgrounds.
// Privacy cues (faces, text) and task cues (thin limbs, small objects, colours)
// sit at similar scales, so blurring the whole image destroys both.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace scrim {

struct SynthOptions {
  std::filesystem::path out;  // output folder (must not exist or be empty, unless overwrite)
  int train = 1000;           // training samples
  int test = 200;             // test samples
  uint64_t seed = 1;          // the whole data set is a function of the seed
  int size = 112;             // image side in pixels (scenes are drawn at this resolution)
  int clips = 0;              // 0: still images; T >= 8: each action sample is a T-frame video
  int threads = 0;            // 0: all cores
  bool overwrite = false;     // replace an existing non-empty output folder
};

struct SynthSummary {
  int images = 0;
  int videos = 0;
  int vqa_questions = 0;
  int privacy_questions = 0;
  double seconds = 0.0;
  std::filesystem::path actions_manifest;
  std::filesystem::path vqa_manifest;
};

// The action classes, in label-set order.
const std::vector<std::string>& synth_actions();
// The 20 identity names.
const std::vector<std::string>& synth_identities();
// Attribute ids the benchmark labels.
const std::vector<std::string>& synth_attributes();

// Renders sample `index` of `split` as a still image (frame 0 of its clip): the
// same pixels `generate_synth` writes. For benchmarks and tests.
cv::Mat render_synth_sample(uint64_t seed, const std::string& split, int index, int size);

// Writes images (and clips), actions.jsonl, vqa.jsonl and synth.json into
// options.out. The folder appears complete or not at all: it is staged under a
// temporary name and renamed at the end. `progress` is called once per sample.
SynthSummary generate_synth(const SynthOptions& options, const std::function<void()>& progress = {});

}  // namespace scrim
