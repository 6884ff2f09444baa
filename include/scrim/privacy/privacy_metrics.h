// Privacy metrics, each tested against hand-computed values (tests/eval/metrics_test.cpp):
// per-attribute average precision and cMAP (scikit-learn's
// average_precision_score semantics), mean F1 at 0.5, top-1 accuracy, the
// privacy floor and leakage. Here, not in eval, because the attackers score themselves with them.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace scrim {

// Average precision as scikit-learn computes it: sum over thresholds of
// (R_n - R_{n-1}) * P_n, with tied scores forming one threshold (no
// interpolation). Returns std::nullopt when there is no positive label:
// AP is undefined then (scikit-learn warns and returns a meaningless value).
std::optional<double> average_precision(const std::vector<double>& scores, const std::vector<int>& labels);

struct AttributeScores {
  std::string attribute;
  std::vector<double> scores;  // one per test sample
  std::vector<int> labels;     // 0/1
};

struct CmapResult {
  double cmap = 0.0;                 // mean AP over the attributes that have a positive
  double mean_f1 = 0.0;              // mean F1 at threshold 0.5 over the same attributes
  std::vector<std::string> skipped;  // attributes without a positive in the test set
  std::vector<std::pair<std::string, double>> per_attribute_ap;
};

// Class-based mean average precision (cMAP) over attributes. Attributes with no
// positive test label are left out of both means and listed in `skipped`.
CmapResult class_mean_average_precision(const std::vector<AttributeScores>& attributes);

// F1 of predictions score >= threshold; 0 when there are no positives and no predicted positives.
double f1_at(const std::vector<double>& scores, const std::vector<int>& labels, double threshold = 0.5);

double top1_accuracy(const std::vector<int>& predicted, const std::vector<int>& truth);

// The privacy floor: the cMAP of an uninformative attacker, one that gives every
// sample the same score. Under average_precision's ties rule that is each
// attribute's positive rate, so the floor is the mean prevalence over the
// attributes class_mean_average_precision counts (scores are ignored).
double uninformative_cmap(const std::vector<AttributeScores>& attributes);

// The identity floor: the top-1 accuracy of always guessing the most frequent
// class, i.e. its share of the labels (-1 labels left out; 0 when none is known).
double majority_class_rate(const std::vector<int>& classes);

// How much of what raw pictures leak a protector leaves readable:
// (cmap - floor) / (raw_cmap - floor); 0 = nothing readable, 1 = as raw.
// std::nullopt when raw is not above the floor (nothing to scale by).
std::optional<double> leakage(double cmap, double floor, double raw_cmap);

}  // namespace scrim
