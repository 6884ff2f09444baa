#include "scrim/data/manifest_merge.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "scrim/core/error.h"
#include "scrim/core/sha256.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

// What a sample shows, as stored: its images, or its video and frames.
std::string media_key(const Sample& s) {
  std::string key;
  if (s.media.is_video()) {
    key = "video:" + s.media.video;
    for (int f : s.media.frames) key += "," + std::to_string(f);
  } else {
    for (const auto& img : s.media.images) key += "image:" + img + "\n";
  }
  return key;
}

bool has_privacy_labels(const Sample& s) { return !s.privacy.attributes.empty() || s.privacy.identity.has_value(); }

}  // namespace

Manifest merge_manifests(const std::vector<ManifestPart>& parts, const fs::path& base_dir, const std::string& name) {
  Manifest out;
  out.name = name;
  out.base_dir = fs::weakly_canonical(fs::absolute(base_dir));
  std::map<std::string, std::string> id_source;  // id -> the source it came from
  for (const auto& part : parts) {
    Manifest m = part.manifest;
    relocate_manifest(m, out.base_dir);  // each path resolved against its own part's folder

    for (const auto& a : m.attribute_columns())
      if (std::find(out.attributes.begin(), out.attributes.end(), a) == out.attributes.end()) out.attributes.push_back(a);

    // Label sets: one name with two lists (two parts' "inline1", or two data sets' "actions") keeps both, the later renamed.
    std::map<std::string, std::string> renamed;
    for (const auto& [set, labels] : m.label_sets) {
      std::string target = set;
      for (int k = 2; out.label_sets.count(target) && out.label_sets.at(target) != labels; ++k) target = set + "." + std::to_string(k);
      out.label_sets[target] = labels;
      if (target != set) renamed[set] = target;
    }

    for (auto& s : m.samples) {
      auto [it, fresh] = id_source.emplace(s.id, part.source);
      if (!fresh) throw Error("merging manifests: duplicate id '" + s.id + "': " + it->second + " and " + part.source);
      if (auto r = renamed.find(s.task.label_set); s.task.kind == Task::Kind::kAction && r != renamed.end()) s.task.label_set = r->second;
      out.samples.push_back(std::move(s));
    }
  }
  validate_manifest(out, name.empty() ? "merged manifest" : name);
  return out;
}

Manifest task_samples(const Manifest& m) {
  Manifest out;
  out.name = m.name;
  out.label_sets = m.label_sets;
  out.base_dir = m.base_dir;
  for (const auto& s : m.samples) {
    if (s.task.kind == Task::Kind::kNone) continue;
    Sample t = s;
    t.privacy = {};
    out.samples.push_back(std::move(t));
  }
  return out;
}

Manifest privacy_samples(const Manifest& m, const std::string& id_prefix) {
  Manifest out;
  out.name = m.name;
  out.attributes = m.attributes;
  out.base_dir = m.base_dir;
  std::set<std::string> media;
  for (const auto& s : m.samples) {
    if (!has_privacy_labels(s) || !media.insert(media_key(s)).second) continue;
    Sample p = s;
    p.id = id_prefix + s.id;
    p.task = {};
    out.samples.push_back(std::move(p));
  }
  return out;
}

void thin_splits(Manifest& m, const std::map<std::string, int>& limits) {
  std::map<std::string, std::vector<size_t>> rows;  // split -> its sample indices, in order
  for (size_t i = 0; i < m.samples.size(); ++i) rows[m.samples[i].split].push_back(i);
  std::vector<bool> keep(m.samples.size(), true);
  for (const auto& [split, limit] : limits) {
    auto it = rows.find(split);
    if (limit <= 0 || it == rows.end() || it->second.size() <= static_cast<size_t>(limit)) continue;
    const auto& idx = it->second;
    for (size_t i : idx) keep[i] = false;
    for (size_t k = 0; k < static_cast<size_t>(limit); ++k) keep[idx[k * idx.size() / limit]] = true;
  }
  std::vector<Sample> kept;
  for (size_t i = 0; i < m.samples.size(); ++i)
    if (keep[i]) kept.push_back(std::move(m.samples[i]));
  m.samples = std::move(kept);
}

void split_by_media(Manifest& m, std::string from, double train_fraction, uint64_t seed) {
  if (!(train_fraction >= 0 && train_fraction <= 1)) throw UsageError("split_by_media: the train fraction must be in [0, 1]");
  std::vector<std::pair<std::string, std::string>> order;  // (hash, media)
  std::set<std::string> seen;
  for (const auto& s : m.samples)
    if (s.split == from && seen.insert(media_key(s)).second)
      order.emplace_back(sha256_hex(std::to_string(seed) + ":" + media_key(s)), media_key(s));
  std::sort(order.begin(), order.end());
  const size_t n = order.size();
  auto train = static_cast<size_t>(std::lround(train_fraction * static_cast<double>(n)));
  if (n >= 2) train = std::clamp<size_t>(train, 1, n - 1);
  std::set<std::string> to_train;
  for (size_t i = 0; i < train && i < n; ++i) to_train.insert(order[i].second);
  for (auto& s : m.samples)
    if (s.split == from) s.split = to_train.count(media_key(s)) ? "train" : "test";
}

}  // namespace scrim
