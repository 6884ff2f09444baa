// Zeroth-order estimate of the gradient of a black-box loss L(x') with respect
// to an image x', from antithetic two-point probes (Nesterov & Spokoiny 2017;
// SPSA: Spall 1992). Directions live in a low-dimensional basis — a coarse
// grid up-sampled to image size — which bounds the variance (ZO-AE-DS, Zhang
// et al. ICLR 2022; BlackVIP, Oh et al. CVPR 2023). The estimate reaches the
// anonymizer's parameters through autograd via the surrogate sum(x' *
// stopgrad(g)). Private header: LibTorch inside.
#pragma once

#include <functional>
#include <vector>

#include <torch/torch.h>

namespace scrim::optim {

enum class ProbeDistribution { kGaussian, kRademacher };

struct ZoOptions {
  int probes = 8;           // q: antithetic pairs per sample
  double mu = 0.01;         // smoothing radius, in [0, 1] image units
  int grid = 8;             // coarse basis: grid x grid per channel (0: full resolution)
  ProbeDistribution distribution = ProbeDistribution::kGaussian;
};

// Evaluates the black-box loss of a batch of probe images [P, C, H, W] -> [P].
using BatchLoss = std::function<torch::Tensor(const torch::Tensor& probes)>;

class ZerothOrderEstimator {
 public:
  explicit ZerothOrderEstimator(ZoOptions options) : options_(options) {}

  // The shape of the coarse basis for an image shaped `like` [C, H, W]: [C, g, g].
  std::vector<int64_t> coarse_shape(const torch::Tensor& like) const;
  // Coarse coordinates [C, g, g] (or [P, C, g, g]) -> image-space directions shaped like `like`.
  torch::Tensor expand(const torch::Tensor& coarse, const torch::Tensor& like) const;

  // A direction in the basis, up-sampled to `like`'s shape [C, H, W]; unit variance per coarse coordinate.
  torch::Tensor sample_direction(const torch::Tensor& like, torch::Generator& gen) const;

  // g = (1/q) sum_k (L(x + mu u_k) - L(x - mu u_k)) / (2 mu) * u_k for one image x [C, H, W].
  // `directions` (optional, [q, C, H, W]) replaces the random ones (used by the history prior).
  torch::Tensor estimate(const torch::Tensor& x, const BatchLoss& loss, torch::Generator& gen,
                         const torch::Tensor& directions = {}) const;

  // The surrogate whose autograd gradient with respect to the anonymizer's
  // parameters is J^T g: sum(x_prime * g.detach()).
  static torch::Tensor surrogate(const torch::Tensor& x_prime, const torch::Tensor& g) { return (x_prime * g.detach()).sum(); }

  const ZoOptions& options() const { return options_; }

 private:
  ZoOptions options_;
};

// Cosine similarity of two tensors of the same shape, flattened.
double cosine(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace scrim::optim
