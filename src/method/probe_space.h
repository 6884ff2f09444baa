// Where the black-box utility gradient is probed: per sample a coordinate
// tensor, the images the black box sees when those coordinates are displaced,
// and the way an estimate in those coordinates reaches the anonymizer's
// parameters (a surrogate whose autograd gradient is J^T g).
//  - PixelProbeSpace: the protected image x' itself, seen through a coarse
//    grid basis up-sampled to image size (any anonymizer);
//  - ControlProbeSpace: the blend weights of the control-space anonymizer
//    (nets/blend_anonymizer.h), D = K G^2 per frame, probed within the simplex's
//    tangent space (a direction's weights sum to zero per cell: softmax's
//    Jacobian discards the rest) — or, with the head basis, only within the
//    range of the blend weights' Jacobian J with respect to the network's 1 x 1
//    head: the r <= (K - 1)(C + 1) directions the last layer can move them in,
//    weighted by J's singular values. The probes then estimate P_J g, whose
//    J^T is the head's exact gradient, with noise in r dimensions instead of
//    K G^2 and isotropic in the head's parameters (the parameter-space probing
//    of DeepZero, expressed in the controls so the encoder still gets J^T P_J g).
// Private header: LibTorch inside.
#pragma once

#include <memory>
#include <vector>

#include <torch/torch.h>

#include "method/anonymizer_model.h"
#include "optim/zo_estimator.h"

namespace scrim::method {

class ProbeSpace {
 public:
  virtual ~ProbeSpace() = default;
  // The images at the point itself, attached to the anonymizer's graph through the probed
  // coordinates only: [sum T, 3, S, S]; the white-box bound reads its gradient through them.
  virtual const torch::Tensor& x_prime() const = 0;
  // The anonymizer's whole output (attached through every part: what the privacy side sees).
  virtual const torch::Tensor& output() const { return x_prime(); }
  const std::vector<std::vector<int64_t>>& groups() const { return groups_; }
  size_t samples() const { return groups_.size(); }

  // The shape of sample b's coordinates.
  virtual std::vector<int64_t> shape(size_t b) const = 0;
  // Sample b's images at its point displaced by each of `offsets` [P, shape...]: [P, T*3, S, S].
  virtual torch::Tensor images(size_t b, const torch::Tensor& offsets) const = 0;
  // A direction kept inside the space (identity by default).
  virtual torch::Tensor constrain(const torch::Tensor& direction) const { return direction; }
  // The part of the space the probes should cover: an orthonormal basis Q [r, shape...] and a
  // scale per direction s [r] (undefined Q: all of it). Probes are u = c sum_i s_i y_i Q_i and
  // the estimate accumulates their duals u~ = sum_i y_i Q_i / (c s_i), y ~ N(0, I): E[u~ u^T] = Q^T Q,
  // so the estimate is unbiased for the projection, and with s the singular values of a Jacobian J
  // (Q its left singular vectors) J^T of the estimate has isotropic noise.
  struct Basis {
    torch::Tensor q, s;
  };
  virtual Basis basis(size_t b) const { return {}; }
  // A scalar whose gradient w.r.t. the anonymizer is (1/n) sum_b J_b^T g_b, for per-sample coordinate gradients g_b.
  virtual torch::Tensor surrogate(const std::vector<torch::Tensor>& g) const = 0;

 protected:
  explicit ProbeSpace(std::vector<std::vector<int64_t>> groups) : groups_(std::move(groups)) {}
  std::vector<std::vector<int64_t>> groups_;
};

class PixelProbeSpace : public ProbeSpace {
 public:
  // x_prime [sum T, 3, S, S] (attached), each sample's frame rows.
  PixelProbeSpace(torch::Tensor x_prime, std::vector<std::vector<int64_t>> groups, const optim::ZerothOrderEstimator& basis);
  const torch::Tensor& x_prime() const override { return x_prime_; }
  std::vector<int64_t> shape(size_t b) const override { return basis_.coarse_shape(images_[b]); }
  torch::Tensor images(size_t b, const torch::Tensor& offsets) const override;
  torch::Tensor surrogate(const std::vector<torch::Tensor>& g) const override;
  // Sample b's coarse coordinates as an image-space tensor [T, 3, S, S].
  torch::Tensor to_image(size_t b, const torch::Tensor& coarse) const;

 private:
  torch::Tensor x_prime_;
  std::vector<torch::Tensor> images_;  // per sample [T*3, S, S], detached
  const optim::ZerothOrderEstimator& basis_;
};

class ControlProbeSpace : public ProbeSpace {
 public:
  // bank [sum T, K, 3, S, S] (fixed), weights [sum T, K, G, G] (attached), residual [sum T, 3, S, S]
  // or undefined (attached: only output() carries it to the privacy side; the utility side does not train it).
  // features [sum T, C, G, G] (the head's input), when given, restrict the probes to the head basis.
  // upsample and edge: the anonymizer's (nets::Upsample, nets::Edge), how its weights become a mask.
  ControlProbeSpace(torch::Tensor bank, torch::Tensor weights, torch::Tensor residual, std::vector<std::vector<int64_t>> groups,
                    torch::Tensor features = {}, nets::Upsample upsample = nets::Upsample::kBilinear, nets::Edge edge = {});
  const torch::Tensor& x_prime() const override { return x_prime_; }
  const torch::Tensor& output() const override { return output_; }
  std::vector<int64_t> shape(size_t b) const override;
  torch::Tensor images(size_t b, const torch::Tensor& offsets) const override;
  torch::Tensor constrain(const torch::Tensor& direction) const override;
  Basis basis(size_t b) const override;
  torch::Tensor surrogate(const std::vector<torch::Tensor>& g) const override;
  // Sample b's weights [T, K, G, G] (detached).
  torch::Tensor point(size_t b) const;

 private:
  torch::Tensor bank_, weights_, residual_, x_prime_, output_, features_;
  nets::Upsample upsample_;
  nets::Edge edge_;
  mutable std::vector<Basis> bases_;  // per sample, computed on first use
};

// The probe space of `model` on inputs x [sum T, 3, S, S]: its blend weights for a
// control-space anonymizer (within the head basis when `head_basis`), else x' through
// `basis` (which must outlive the space).
std::unique_ptr<ProbeSpace> make_probe_space(const AnonymizerModel& model, const torch::Tensor& x,
                                             std::vector<std::vector<int64_t>> groups, const optim::ZerothOrderEstimator& basis,
                                             bool head_basis = false);

}  // namespace scrim::method
