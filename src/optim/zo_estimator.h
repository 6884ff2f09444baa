// Zeroth-order estimate of the gradient of a black-box loss L(c) with respect
// to probed coordinates c, from antithetic two-point probes (Nesterov &
// Spokoiny 2017; SPSA: Spall 1992): g = (1/q) sum_k (L(c + mu u_k) - L(c - mu u_k)) / (2 mu) u_k.
// The coordinates are either an image x' seen through a low-dimensional basis —
// a coarse grid up-sampled to image size, which bounds the variance (ZO-AE-DS,
// Zhang et al. ICLR 2022; BlackVIP, Oh et al. CVPR 2023) — or the
// control-space anonymizer's blend weights (method/probe_space.h). The probing
// itself (batched queries, history, allocation) is method::BlackBoxGradient's;
// this class holds the arithmetic it and the benchmark share. Private header: LibTorch inside.
#pragma once

#include <vector>

#include <torch/torch.h>

namespace scrim::optim {

enum class ProbeDistribution { kGaussian, kRademacher };

struct ZoOptions {
  int probes = 8;           // q: antithetic pairs per sample
  double mu = 0.01;         // smoothing radius, in coordinate units ([0, 1] image units for pixels)
  int grid = 8;             // coarse pixel basis: grid x grid per channel (0: full resolution)
  ProbeDistribution distribution = ProbeDistribution::kGaussian;
};

// Two independent halves of one estimate (probe pairs alternate between them).
// Each half is unbiased for the same mean m (the gradient's projection on the
// probed basis), so a . b is unbiased for |m|^2 and sqrt(a . b) / |g| estimates
// cos(g, m) with no true gradient (split_half_cosine).
struct SplitEstimate {
  torch::Tensor g;         // the estimate from all probes: weight_a * a + weight_b * b
  torch::Tensor a, b;      // the halves' estimates (b is zero when there was a single probe)
  double weight_a = 1, weight_b = 0;
  double alpha = -1;       // with a prior: its measured cosine with the gradient (-1: no prior)
};

class ZerothOrderEstimator {
 public:
  explicit ZerothOrderEstimator(ZoOptions options) : options_(options) {}

  // The shape of the coarse pixel basis for an image shaped `like` [C, H, W]: [C, g, g].
  std::vector<int64_t> coarse_shape(const torch::Tensor& like) const;
  // Coarse coordinates [C, g, g] (or [P, C, g, g]) -> image-space directions shaped like `like`.
  torch::Tensor expand(const torch::Tensor& coarse, const torch::Tensor& like) const;
  // The orthogonal projection of an image-space tensor [C, H, W] onto the coarse basis (cell means).
  torch::Tensor project(const torch::Tensor& image) const;

  // A random direction of `shape`, unit variance per coordinate (Gaussian or Rademacher).
  torch::Tensor sample(const std::vector<int64_t>& shape, torch::Generator& gen) const;

  // mean_k differences[k] / (2 mu) * directions[k]; directions [q, ...], differences [q] (L+ - L-).
  torch::Tensor combine(const torch::Tensor& directions, const torch::Tensor& differences) const;
  // The same split into two halves: even-numbered pairs in a, odd-numbered in b.
  SplitEstimate combine_split(const torch::Tensor& directions, const torch::Tensor& differences) const;

  // The surrogate whose autograd gradient with respect to the anonymizer's
  // parameters is J^T g: sum(point * g.detach()).
  static torch::Tensor surrogate(const torch::Tensor& point, const torch::Tensor& g) { return (point * g.detach()).sum(); }

  const ZoOptions& options() const { return options_; }

 private:
  ZoOptions options_;
};

// Cosine similarity of two tensors of the same shape, flattened.
double cosine(const torch::Tensor& a, const torch::Tensor& b);

// The split-half estimate of cos(g, E[g]) from the halves' estimates a, b of
// g = weight_a a + weight_b b: sqrt(max(0, a . b)) / |g / (weight_a + weight_b)|, in [0, 1]; 0 when undefined.
double split_half_cosine(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& g, double weight_a, double weight_b);

// One sample's split-half estimate of cos^2 before the clamp: a . b / |g / (weight_a + weight_b)|^2 (negative
// when the halves disagree); false when undefined (one half empty, or g = 0). Per sample, sqrt(a . b) is as
// noisy as the estimate itself (median error 0.1-0.2 at q <= 32, docs/estimator.md); summed over a batch's
// samples and then square-rooted (pooled_split_half_cosine) its error shrinks as 1/sqrt(samples), and the
// clamp at 0 no longer biases it upward.
bool split_half_cos2(const SplitEstimate& e, double& cos2);
// sqrt(max(0, cos2_sum / samples)), at most 1; 0 when samples = 0.
double pooled_split_half_cosine(double cos2_sum, int64_t samples);

}  // namespace scrim::optim
