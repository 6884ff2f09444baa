#include "scrim/eval/metrics.h"

#include <algorithm>

namespace scrim {

bool dominates(const ParetoPoint& a, const ParetoPoint& b) {
  return a.x >= b.x && a.y >= b.y && (a.x > b.x || a.y > b.y);
}

std::vector<ParetoPoint> pareto_front(const std::vector<ParetoPoint>& points) {
  std::vector<ParetoPoint> front;
  for (const auto& p : points) {
    bool dominated = std::any_of(points.begin(), points.end(), [&](const ParetoPoint& q) { return dominates(q, p); });
    bool duplicate = std::any_of(front.begin(), front.end(), [&](const ParetoPoint& q) { return q.x == p.x && q.y == p.y; });
    if (!dominated && !duplicate) front.push_back(p);
  }
  std::sort(front.begin(), front.end(), [](const ParetoPoint& a, const ParetoPoint& b) { return a.x < b.x; });
  return front;
}

double hypervolume(const std::vector<ParetoPoint>& points, const ParetoPoint& ref) {
  std::vector<ParetoPoint> useful;
  for (const auto& p : points)
    if (p.x > ref.x && p.y > ref.y) useful.push_back(p);
  auto front = pareto_front(useful);  // x ascending, so y descending
  // The front is a staircase (x ascending, y descending): the slab between the
  // previous point's x and this point's x has this point's height.
  double volume = 0.0;
  for (size_t i = 0; i < front.size(); ++i) {
    double left = i > 0 ? front[i - 1].x : ref.x;
    volume += (front[i].x - left) * (front[i].y - ref.y);
  }
  return volume;
}

}  // namespace scrim
