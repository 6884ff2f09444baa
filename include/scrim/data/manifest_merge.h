// Building one data set out of several manifests: the paper's protocol trains
// and tests on a task set (UCF101, HMDB51, OK-VQA questions) beside a privacy
// set (VISPR, PA-HMDB51, OK-VQA's privacy-annotated images) in one manifest.
// These helpers pick each part's samples, thin the splits and merge the parts;
// `scrim reproduce` uses them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "scrim/data/manifest.h"

namespace scrim {

// One manifest to merge and the name its errors use (its file, usually).
struct ManifestPart {
  Manifest manifest;
  std::string source;
};

// One manifest holding every part's samples, in part order, with base_dir
// `base_dir`: each media path is resolved against its own part's base_dir and
// stored relative to `base_dir` (absolute where it cannot be). Attribute
// columns are the union (first seen first); label sets are the union, and one
// name with two different label lists is an error naming both sources; so is
// an id found in two parts ("duplicate id 'x': <source> and <source>").
// The result passes validate_manifest.
Manifest merge_manifests(const std::vector<ManifestPart>& parts, const std::filesystem::path& base_dir, const std::string& name = "");

// The samples with a task, their privacy labels removed.
Manifest task_samples(const Manifest& manifest);

// The samples with privacy labels (attributes or identity), their task removed
// and `id_prefix` prepended to their ids; samples showing the same media (same
// images, or same video and frames: OK-VQA's questions on one image) become one,
// the first. The header keeps the attribute columns and drops the label sets.
Manifest privacy_samples(const Manifest& manifest, const std::string& id_prefix);

// Keeps at most limits[split] samples of each split named there (0 or absent:
// all), spread evenly over the split in manifest order (every k-th), so a list
// sorted by class keeps every class while it can.
void thin_splits(Manifest& manifest, const std::map<std::string, int>& limits);

// Moves the samples of split `from` into "train" and "test", by media: every
// sample showing the same media lands in the same split. The distinct media,
// ordered by a hash of their paths and `seed`, go round(train_fraction * n) to
// "train" and the rest to "test" (at least one each when n >= 2), so the choice
// does not depend on the manifest's order and does not change between runs.
void split_by_media(Manifest& manifest, std::string from, double train_fraction, uint64_t seed = 1);  // `from` copied: it may name a sample's split

}  // namespace scrim
