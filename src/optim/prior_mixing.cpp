#include "optim/prior_mixing.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace scrim::optim {

double prgf_lambda(double alpha, int64_t dim, int64_t probes) {
  if (dim < 2 || probes < 1) throw std::invalid_argument("prgf_lambda: dim >= 2 and probes >= 1");
  const double a2 = std::min(1.0, alpha * alpha), d = static_cast<double>(dim), q = static_cast<double>(probes);
  const double k = d + 2 * q - 2;
  if (a2 * k <= 1) return 0;           // the prior is no better than a random direction's share
  if (a2 * k >= 2 * q - 1) return 1;   // the prior beats what q random probes add: all along it
  return std::clamp((1 - a2) * (a2 * k - 1) / (2 * a2 * d * q - a2 * a2 * d * k - 1), 0.0, 1.0);  // (rounding at the edges)
}

}  // namespace scrim::optim
