#include "scrim/core/paired_difference.h"

#include <cmath>
#include <stdexcept>

namespace scrim {

PairedDifference paired_difference(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) throw std::invalid_argument("paired_difference: the two must be measured on the same items");
  const size_t n = a.size();
  if (n < 2) throw std::invalid_argument("paired_difference: at least two items are needed for a standard error");
  double mean = 0, squares = 0;
  for (size_t i = 0; i < n; ++i) mean += a[i] - b[i];
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) {
    const double d = a[i] - b[i] - mean;
    squares += d * d;
  }
  return {mean, std::sqrt(squares / static_cast<double>(n - 1) / static_cast<double>(n))};
}

}  // namespace scrim
