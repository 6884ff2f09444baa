// Evaluation metrics: the privacy metrics (cMAP, F1, floor, leakage; privacy
// layer, where the attackers use them) and the 2-D Pareto front with its
// hypervolume, each tested against hand-computed values.
#pragma once

#include <string>
#include <vector>

#include "scrim/privacy/privacy_metrics.h"

namespace scrim {

// A point of a 2-D trade-off where both coordinates are to be maximised
// (e.g. x = utility, y = privacy = 1 - attacker cMAP).
struct ParetoPoint {
  double x = 0.0, y = 0.0;
  std::string name;
};

// a dominates b: at least as good in both, strictly better in one.
bool dominates(const ParetoPoint& a, const ParetoPoint& b);

// The non-dominated points, sorted by x ascending.
std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points);

// Area dominated by the points and bounded below by the reference point
// (points not strictly better than the reference in both coordinates add nothing).
double hypervolume(const std::vector<ParetoPoint>& points, const ParetoPoint& reference);

}  // namespace scrim
