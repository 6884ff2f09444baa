#include "scrim/privacy/privacy_metrics.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "scrim/core/error.h"

namespace scrim {

std::optional<double> average_precision(const std::vector<double>& scores, const std::vector<int>& labels) {
  if (scores.size() != labels.size()) throw UsageError("average_precision(): scores and labels differ in length");
  int positives = static_cast<int>(std::count(labels.begin(), labels.end(), 1));
  if (positives == 0) return std::nullopt;
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  double ap = 0.0, prev_recall = 0.0;
  int tp = 0, seen = 0;
  for (size_t i = 0; i < order.size(); ++i) {
    tp += labels[order[i]] == 1;
    ++seen;
    // Tied scores are one threshold: only evaluate at the last of a run of ties.
    if (i + 1 < order.size() && scores[order[i + 1]] == scores[order[i]]) continue;
    double recall = static_cast<double>(tp) / positives;
    double precision = static_cast<double>(tp) / seen;
    ap += (recall - prev_recall) * precision;
    prev_recall = recall;
  }
  return ap;
}

double f1_at(const std::vector<double>& scores, const std::vector<int>& labels, double threshold) {
  int tp = 0, fp = 0, fn = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    bool p = scores[i] >= threshold;
    if (p && labels[i] == 1) ++tp;
    else if (p) ++fp;
    else if (labels[i] == 1) ++fn;
  }
  if (tp + fp + fn == 0) return 0.0;
  return 2.0 * tp / (2.0 * tp + fp + fn);
}

CmapResult class_mean_average_precision(const std::vector<AttributeScores>& attributes) {
  CmapResult r;
  double ap_sum = 0.0, f1_sum = 0.0;
  int counted = 0;
  for (const auto& a : attributes) {
    auto ap = average_precision(a.scores, a.labels);
    if (!ap) {
      r.skipped.push_back(a.attribute);
      continue;
    }
    r.per_attribute_ap.emplace_back(a.attribute, *ap);
    ap_sum += *ap;
    f1_sum += f1_at(a.scores, a.labels);
    ++counted;
  }
  if (counted > 0) {
    r.cmap = ap_sum / counted;
    r.mean_f1 = f1_sum / counted;
  }
  return r;
}

double top1_accuracy(const std::vector<int>& predicted, const std::vector<int>& truth) {
  if (predicted.size() != truth.size()) throw UsageError("top1_accuracy(): lengths differ");
  if (truth.empty()) return 0.0;
  int hits = 0;
  for (size_t i = 0; i < truth.size(); ++i) hits += predicted[i] == truth[i];
  return static_cast<double>(hits) / static_cast<double>(truth.size());
}

double uninformative_cmap(const std::vector<AttributeScores>& attributes) {
  std::vector<AttributeScores> constant = attributes;
  for (auto& a : constant) a.scores.assign(a.labels.size(), 0.5);
  return class_mean_average_precision(constant).cmap;
}

double majority_class_rate(const std::vector<int>& classes) {
  std::map<int, int> counts;
  int known = 0;
  for (int c : classes)
    if (c >= 0) ++counts[c], ++known;
  if (known == 0) return 0.0;
  int most = 0;
  for (const auto& [_, n] : counts) most = std::max(most, n);
  return static_cast<double>(most) / known;
}

std::optional<double> leakage(double cmap, double floor, double raw_cmap) {
  if (!(raw_cmap > floor)) return std::nullopt;
  return (cmap - floor) / (raw_cmap - floor);
}

}  // namespace scrim
