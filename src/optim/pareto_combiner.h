// Combining the privacy and utility gradients of the anonymizer.
//  - MGDA-UB for two objectives (Désidéri 2012; Sener & Koltun, NeurIPS 2018):
//    the min-norm point of the segment between g_p and g_u, in closed form,
//      alpha = clamp(((g_u - g_p) . g_u) / |g_p - g_u|^2, 0, 1),  d = alpha g_p + (1 - alpha) g_u,
//    a common descent direction whenever one exists;
//  - a preference-scaled MGDA (below);
//  - a weighted sum with a fixed alpha: the non-Pareto baseline.
// Gradient normalisation (Sener & Koltun, Sec. 3.3) can be applied first.
//
// A zeroth-order g_u is its signal plus noise, and the noise inflates its norm: normalised by its own norm
// the signal shrinks by cos(g_u, E g_u), and in the min-norm weighting its squared length counts the noise
// too. gu_signal_cos (the split-half estimate of that cosine, optim::split_half_cosine; 1: g_u is exact)
// corrects both: g_u is normalised by its signal's norm, cos |g_u|, and its squared length in the weighting
// is the signal's, cos^2 |g_u|^2 — the weighting noise-free gradients would get, in expectation.
#pragma once

#include <torch/torch.h>

namespace scrim::optim {

enum class GradientNormalization { kNone, kL2 };

struct ParetoStep {
  torch::Tensor direction;
  double alpha = 0.5;  // weight on the privacy gradient
};

// g_p, g_u: flattened gradients of the same length.
ParetoStep mgda_two(const torch::Tensor& g_p, const torch::Tensor& g_u, GradientNormalization norm = GradientNormalization::kNone,
                    double gu_signal_cos = 1);
// Preference mode (a two-objective simplification of Pareto MTL, Lin et al.,
// NeurIPS 2019): both gradients are L2-normalised and divided by their weight
// (w on privacy, 1 - w on utility); the min-norm point d of the pair then has
// d.g_p : d.g_u = w : 1 - w when interior — a common descent direction when
// one exists, descending each objective in proportion to its weight, so one
// anonymizer per w traces the front.
ParetoStep mgda_preference(const torch::Tensor& g_p, const torch::Tensor& g_u, double w, double gu_signal_cos = 1);
ParetoStep weighted_sum(const torch::Tensor& g_p, const torch::Tensor& g_u, double alpha);

}  // namespace scrim::optim
