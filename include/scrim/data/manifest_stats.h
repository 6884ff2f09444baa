// Counts per split, per action label, per question type and per privacy
// attribute: what `scrim data stats` prints.
#pragma once

#include <string>

#include <nlohmann/json_fwd.hpp>

#include "scrim/data/manifest.h"

namespace scrim {

// {"samples": N, "splits": {split: n}, "tasks": {kind: {split: n}},
//  "labels": {label: {split: n}}, "question_types": {type: {split: n}},
//  "attributes": {attr: {split: positives}}, "identities": n, "with_text": {split: n},
//  "media": {"images": n, "videos": n}}
nlohmann::json manifest_stats(const Manifest& manifest);

// A plain-text rendering of manifest_stats(): one table per group.
std::string format_manifest_stats(const nlohmann::json& stats);

}  // namespace scrim
