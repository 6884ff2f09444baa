// A sample's pixels, as every consumer loads them: its still images, or
// frames sampled from its video (the manifest's listed frames when it has
// them, else `frames` evenly spaced ones).
#pragma once

#include <vector>

#include <opencv2/core/mat.hpp>

#include "scrim/data/manifest.h"

namespace scrim {

// Throws scrim::Error naming the file when an image or video cannot be read.
std::vector<cv::Mat> load_sample_frames(const Manifest& manifest, const Sample& sample, int frames);

}  // namespace scrim
