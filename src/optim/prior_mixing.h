// How much of each probe to spend along a transfer prior: P-RGF (Cheng et al., "Improving Black-box
// Adversarial Attacks with a Transfer-based Prior", NeurIPS 2019). Each probe direction is
// u = sqrt(lambda) v + sqrt(1 - lambda) xi, v the unit prior and xi a random unit direction orthogonal
// to it; the estimate is sum_i (directional derivative along u_i) u_i. Its cosine with the gradient, given
// the prior's cosine alpha, the dimension D and the probe count q, is maximised in expectation (to P-RGF's
// approximation: a ratio of expectations) by the closed form below — the mixing `--prior-mix prgf` uses
// (method/utility_gradient.h).
// No LibTorch: plain arithmetic.
#pragma once

#include <cstdint>

namespace scrim::optim {

// P-RGF's lambda* (their Eq. 12, the prior's weight per probe) for a prior of cosine `alpha` with the
// gradient, in `dim` dimensions with `probes` probe directions:
//   0                                                                       if alpha^2 <= 1 / (D + 2q - 2)
//   (1 - a^2)(a^2 (D + 2q - 2) - 1) / (2 a^2 D q - a^4 D (D + 2q - 2) - 1)  in between
//   1                                                                       if alpha^2 >= (2q - 1) / (D + 2q - 2)
// (a = alpha; the sign of alpha does not matter: the derivative along u measures it). dim >= 2, probes >= 1.
double prgf_lambda(double alpha, int64_t dim, int64_t probes);

}  // namespace scrim::optim
