// The black-box utility gradient the trainer runs (method::BlackBoxGradient:
// batched probes, halves, history) against losses whose gradient is known, in
// both probe spaces: the coarse pixel basis and the control-space anonymizer's
// blend weights; and its split-half figure against the true cosine.
#include "method/utility_gradient.h"

#include <algorithm>

#include <gtest/gtest.h>

#include "nets/blend_anonymizer.h"

namespace scrim::method {
namespace {

// L(image) = sum(a * image) for every sample: the gradient is a.
class LinearScorer : public ProbeScorer {
 public:
  explicit LinearScorer(torch::Tensor a) : a_(std::move(a)) {}
  std::vector<UtilityLosses> evaluate_many(const std::vector<std::pair<int64_t, torch::Tensor>>& work) override {
    std::vector<UtilityLosses> out;
    for (const auto& [row, probes] : work) {
      ++calls;
      out.push_back({(probes * a_).sum({1, 2, 3}), torch::ones({probes.size(0)})});
    }
    return out;
  }
  int calls = 0;

 private:
  torch::Tensor a_;
};

// A training set of n samples with ids only (the estimator reads nothing else).
struct Ids {
  Manifest manifest;
  TrainingSet set;
  explicit Ids(int n) {
    for (int i = 0; i < n; ++i) {
      Sample s;
      s.id = std::string("s").append(std::to_string(i));
      manifest.samples.push_back(s);
    }
    for (const auto& s : manifest.samples) set.samples.push_back(&s);
  }
};

// A 4 x 4 control grid over {identity, blur, grey} on 32-pixel images.
nets::BlendAnonymizer tiny_blend(int64_t width) {
  nets::BlendAnonymizerOptions o;
  o.grid = 4;
  o.bank = "blur:sigma=2,fill:value=0.5";
  o.width = width;
  o.input_size = 32;
  return nets::BlendAnonymizer(o);
}

// A control-space point inside the simplex, away from the identity, for the linear loss
// sum(a * render(bank, w)): the bank, the weights (requiring grad), a, and the loss's gradient's
// tangent part (the true gradient minus its mean over k in each cell).
struct BlendPoint {
  torch::Tensor bank, weights, a, tangent;
};
BlendPoint blend_point(uint64_t seed) {
  torch::manual_seed(seed);
  auto net = tiny_blend(16);
  auto x = torch::rand({1, 3, 32, 32});
  BlendPoint p;
  p.a = torch::randn({3, 32, 32});
  p.bank = net->bank(x);
  p.weights = torch::softmax(torch::randn({1, 3, 4, 4}), 1).requires_grad_(true);
  auto truth = torch::autograd::grad({(nets::BlendAnonymizerImpl::render(p.bank, p.weights) * p.a).sum()}, {p.weights})[0][0];
  p.tangent = truth - truth.mean(0, true);
  return p;
}

optim::ZoOptions zo(int probes, double mu, int grid) {
  optim::ZoOptions o;
  o.probes = probes;
  o.mu = mu;
  o.grid = grid;
  return o;
}

}  // namespace

TEST(BlackBoxGradient, RecoversALinearGradientInThePixelBasis) {
  torch::manual_seed(1);
  auto a = torch::randn({3, 32, 32});
  auto x = torch::rand({2, 3, 32, 32});
  Ids ids(2);
  LinearScorer scorer(a);
  optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
  BlackBoxOptions bo{zo(512, 0.01, 8), 512};
  BlackBoxGradient estimator(scorer, bo, history, ids.set);
  PixelProbeSpace space(x, {{0}, {1}}, estimator.estimator());
  auto step = estimator.step(space, {0, 1}, 7);
  EXPECT_EQ(step.queries, 2 * (1 + 2 * 512));
  auto target = estimator.estimator().project(a);
  for (size_t b = 0; b < 2; ++b) {
    auto g = space.to_image(b, estimator.last_estimates()[b].g)[0];
    // Basis dimension 192, q = 512: cos ~ 1 / sqrt(1 + 192 / 512) = 0.85 in expectation.
    EXPECT_GT(optim::cosine(g, target), 0.78);
    // The full-resolution gradient is only seen through the basis: the cosine with `a` itself is lower.
    EXPECT_LT(optim::cosine(g, a), optim::cosine(g, target));
  }
  // The surrogate carries the estimate: d/dx' of it is the image-space estimate / n.
  auto leaf = x.clone().requires_grad_(true);
  PixelProbeSpace attached(leaf, {{0}, {1}}, estimator.estimator());
  std::vector<torch::Tensor> gs;
  for (const auto& e : estimator.last_estimates()) gs.push_back(e.g);
  auto grad = torch::autograd::grad({attached.surrogate(gs)}, {leaf})[0];
  EXPECT_TRUE(torch::allclose(grad[1], space.to_image(1, gs[1])[0] / 2, 1e-5, 1e-6));
}

TEST(BlackBoxGradient, MoreProbesBetterEstimatesOnAQuadraticLoss) {
  torch::manual_seed(2);
  auto t = torch::rand({3, 16, 16});
  auto x = torch::rand({1, 3, 16, 16});
  // L(p) = |p - t|^2: the scorer below; its gradient 2 (x - t).
  class Quadratic : public ProbeScorer {
   public:
    explicit Quadratic(torch::Tensor t) : t_(std::move(t)) {}
    std::vector<UtilityLosses> evaluate_many(const std::vector<std::pair<int64_t, torch::Tensor>>& work) override {
      return {{(work[0].second - t_).pow(2).sum({1, 2, 3}), torch::ones({work[0].second.size(0)})}};
    }
    torch::Tensor t_;
  } scorer(t);
  Ids ids(1);
  double previous = -1;
  for (int q : {4, 64, 512}) {
    optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
    BlackBoxGradient estimator(scorer, BlackBoxOptions{zo(q, 1e-3, 4), q}, history, ids.set);
    PixelProbeSpace space(x, {{0}}, estimator.estimator());
    auto target = estimator.estimator().project(2 * (x[0] - t));
    double mean_cos = 0;
    for (int trial = 0; trial < 5; ++trial) {
      estimator.step(space, {0}, 100 + trial);
      mean_cos += optim::cosine(space.to_image(0, estimator.last_estimates()[0].g)[0], target) / 5;
    }
    EXPECT_GT(mean_cos, previous);  // more probes, better estimates
    previous = mean_cos;
  }
  EXPECT_GT(previous, 0.9);
}

TEST(BlackBoxGradient, EstimatesTheBlendWeightGradientInTheSimplexTangent) {
  auto [bank, weights, a, tangent] = blend_point(3);
  Ids ids(1);
  LinearScorer scorer(a);
  optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
  // D = 3 x 16 = 48 controls (32 in the tangent space): q = 256 pairs make it close to exact.
  BlackBoxGradient estimator(scorer, BlackBoxOptions{zo(256, 0.05, 8), 256}, history, ids.set);
  ControlProbeSpace space(bank, weights, {}, {{0}});
  auto step = estimator.step(space, {0}, 11);
  const auto& e = estimator.last_estimates()[0];
  EXPECT_GT(optim::cosine(e.g, tangent), 0.9);
  // The probes stayed in the tangent space: the estimate's weights sum to zero in every cell.
  EXPECT_LT(e.g.sum(1).abs().max().item<double>(), 1e-4 * e.g.abs().max().item<double>());
  // The surrogate carries it to the weights: its gradient is g / n.
  auto grad = torch::autograd::grad({step.surrogate}, {weights})[0][0];
  EXPECT_TRUE(torch::allclose(grad, e.g.to(grad.scalar_type()), 1e-4, 1e-6));
}

TEST(BlackBoxGradient, AReturningSampleRefinesItsLastEstimate) {
  // Per-sample memory (history prior, Bandits-TD's idea, Ilyas et al. ICLR 2019): the second visit's
  // first probe follows the first visit's estimate, so at equal probes it lands nearer the truth.
  auto [bank, weights, a, tangent] = blend_point(4);
  Ids ids(1);
  LinearScorer scorer(a);
  double first = 0, second = 0, without = 0;
  const int trials = 20;
  for (int trial = 0; trial < trials; ++trial) {
    optim::CriticalHistory memory(optim::HistoryOptions{optim::HistoryMode::kPrior});
    optim::CriticalHistory none(optim::HistoryOptions{optim::HistoryMode::kNone});
    BlackBoxGradient with(scorer, BlackBoxOptions{zo(6, 0.05, 8), 6}, memory, ids.set);
    BlackBoxGradient plain(scorer, BlackBoxOptions{zo(6, 0.05, 8), 6}, none, ids.set);
    ControlProbeSpace space(bank, weights.detach(), {}, {{0}});
    with.step(space, {0}, 1000 + trial);
    first += optim::cosine(with.last_estimates()[0].g, tangent) / trials;
    with.step(space, {0}, 2000 + trial);
    second += optim::cosine(with.last_estimates()[0].g, tangent) / trials;
    plain.step(space, {0}, 1000 + trial);
    plain.step(space, {0}, 2000 + trial);
    without += optim::cosine(plain.last_estimates()[0].g, tangent) / trials;
  }
  EXPECT_GT(second, first + 0.1) << "first visit " << first << ", second " << second;
  EXPECT_GT(second, without + 0.1) << "a second visit without memory " << without;
}

// A transfer prior of known cosine with a true gradient: alpha t + sqrt(1 - alpha^2) r, t and r unit, r a
// random direction orthogonal to t.
class FixedPrior : public PriorSource {
 public:
  FixedPrior(const torch::Tensor& truth, double alpha, uint64_t seed) {
    torch::manual_seed(seed);
    auto t = truth / truth.norm();
    auto r = torch::randn(truth.sizes());
    r = r - (r * t).sum() * t;
    v_ = alpha * t + std::sqrt(1 - alpha * alpha) * r / r.norm();
  }
  torch::Tensor prior(const ProbeSpace&, size_t, int64_t) override { return v_; }

 private:
  torch::Tensor v_;
};

TEST(BlackBoxGradient, PrgfMixingSpendsItsProbesAlongAGoodPriorAndNoneAlongAUselessOne) {
  // P-RGF (optim/prior_mixing.h) in the 8 x 8 pixel basis (D = 192) with 16 pairs: the scouts (one pair along
  // the prior, two orthogonal) measure its cosine alpha, lambda* sets each further probe's share along it, and
  // the estimate averages those 13 probes. alpha 0.9: lambda* = 1, every probe along the prior, the estimate is
  // the prior. alpha 0 (a prior orthogonal to the gradient): lambda* = 0, every probe orthogonal to it, and so
  // is the estimate — while probing without a prior leaves a random component along it.
  torch::manual_seed(2);
  auto a = torch::randn({3, 32, 32});
  auto x = torch::rand({1, 3, 32, 32});
  Ids ids(1);
  LinearScorer scorer(a);
  optim::ZerothOrderEstimator basis(zo(16, 0.01, 8));
  auto coarse = torch::zeros({3, 8, 8}, torch::requires_grad());
  auto truth = torch::autograd::grad({(basis.expand(coarse, x[0]) * a).sum()}, {coarse})[0];  // dL/dc, the basis's gradient
  BlackBoxOptions mixing{zo(16, 0.01, 8), 3, PriorMix::kPrgf}, plain_options{zo(16, 0.01, 8), 3};
  double strong = 0, strong_to_prior = 0, measured = 0, useless_to_prior = 0, plain_to_prior = 0, strong_size = 0, useless_size = 0;
  const int trials = 20;
  for (int trial = 0; trial < trials; ++trial) {
    optim::CriticalHistory none(optim::HistoryOptions{optim::HistoryMode::kNone});
    PixelProbeSpace space(x, {{0}}, basis);
    FixedPrior good(truth, 0.9, 100 + trial), useless(truth, 0.0, 200 + trial);
    BlackBoxGradient with_good(scorer, mixing, none, ids.set), with_useless(scorer, mixing, none, ids.set);
    BlackBoxGradient plain(scorer, plain_options, none, ids.set);
    with_good.set_prior(&good);
    with_useless.set_prior(&useless);
    with_good.step(space, {0}, 300 + trial);
    const auto& e = with_good.last_estimates()[0];
    strong += optim::cosine(e.g, truth) / trials;
    strong_to_prior += optim::cosine(e.g, good.prior(space, 0, 0)) / trials;
    measured += e.alpha / trials;
    strong_size += (e.g.norm() / truth.norm()).item<double>() / trials;
    with_useless.step(space, {0}, 300 + trial);
    useless_size += (with_useless.last_estimates()[0].g.norm() / truth.norm()).item<double>() / trials;
    useless_to_prior = std::max(useless_to_prior, std::abs(optim::cosine(with_useless.last_estimates()[0].g, useless.prior(space, 0, 0))));
    plain.step(space, {0}, 300 + trial);
    plain_to_prior = std::max(plain_to_prior, std::abs(optim::cosine(plain.last_estimates()[0].g, useless.prior(space, 0, 0))));
  }
  EXPECT_GT(strong_to_prior, 0.999);  // every mixed probe along the prior
  EXPECT_NEAR(strong, 0.9, 0.01);
  EXPECT_NEAR(measured, 0.9, 0.1);    // alpha, measured by the scouts
  EXPECT_LT(useless_to_prior, 1e-3);  // every mixed probe orthogonal to it
  EXPECT_GT(plain_to_prior, 0.05);    // (random probes are not: about 1 / sqrt(D) along it)
  // Whatever lambda, the estimate is as long as the gradient (the pairs' measure of |g|), so samples mixed at
  // different lambdas weigh alike in a batch.
  EXPECT_NEAR(strong_size, 1.0, 0.1);
  EXPECT_NEAR(useless_size, 1.0, 0.15);
}

TEST(BlackBoxGradient, TheHeadBasisKeepsAllTheHeadCanUseInFewDimensions) {
  // A control network whose 1 x 1 head reads C = 4 features: at most r = (K - 1)(C + 1) = 10
  // directions (fewer where a ReLU feature is dead) move the blend weights, out of K G^2 = 48 controls.
  torch::manual_seed(5);
  auto net = tiny_blend(2);
  std::vector<torch::Tensor> head;
  for (auto& p : net->named_parameters())
    if (p.key().rfind("head", 0) == 0) head.push_back(p.value());
  for (auto& p : head) p.data().normal_(0, 0.5);  // away from the identity
  auto flat = [](const std::vector<torch::Tensor>& v) {
    std::vector<torch::Tensor> parts;
    for (const auto& t : v) parts.push_back(t.flatten());
    return torch::cat(parts);
  };
  auto x = torch::rand({1, 3, 32, 32});
  auto a = torch::randn({3, 32, 32});
  ControlProbeSpace space(net->bank(x), net->weights(x), {}, {{0}}, net->features(x));
  auto q = space.basis(0).q.flatten(1);
  EXPECT_LE(q.size(0), 10);
  EXPECT_GE(q.size(0), 4);
  EXPECT_TRUE(torch::allclose(torch::matmul(q, q.t()), torch::eye(q.size(0)), 1e-4, 1e-4));  // orthonormal
  // The blend-weight gradient g of sum(a * x') and its projection on the basis: the head's gradient
  // through either is the same (nothing the head can use is lost).
  auto leaf = net->weights(x).detach().requires_grad_(true);
  auto g = torch::autograd::grad({(nets::BlendAnonymizerImpl::render(net->bank(x), leaf) * a).sum()}, {leaf})[0];
  auto projected = torch::matmul(q.t(), torch::matmul(q, g.flatten())).view(g.sizes());
  auto through_all = flat(torch::autograd::grad({space.surrogate({g})}, head, {}, true));
  auto through_basis = flat(torch::autograd::grad({space.surrogate({projected})}, head, {}, true));
  EXPECT_TRUE(torch::allclose(through_basis, through_all, 1e-3, 1e-4 * through_all.abs().max().item<double>()));
  EXPECT_LT(projected.norm().item<double>(), 0.5 * g.norm().item<double>());  // though it is a small part of g
  // The estimate stays in the basis, and carries the head's gradient with noise isotropic in its
  // r parameters: better than probing all 32 tangent directions with as many pairs.
  Ids ids(1);
  LinearScorer scorer(a);
  optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
  BlackBoxGradient estimator(scorer, BlackBoxOptions{zo(60, 0.05, 8), 60}, history, ids.set);
  auto head_estimate = flat(torch::autograd::grad({estimator.step(space, {0}, 17).surrogate}, head, {}, true));
  auto e = estimator.last_estimates()[0].g;
  auto outside = e.flatten() - torch::matmul(q.t(), torch::matmul(q, e.flatten()));
  EXPECT_LT(outside.norm().item<double>(), 1e-4 * e.norm().item<double>());
  EXPECT_GT(optim::cosine(head_estimate, through_all), 0.9);
  ControlProbeSpace full(net->bank(x), net->weights(x), {}, {{0}});
  auto full_estimate = flat(torch::autograd::grad({estimator.step(full, {0}, 17).surrogate}, head));
  EXPECT_LT(optim::cosine(full_estimate, through_all), optim::cosine(head_estimate, through_all));
}

TEST(BlackBoxGradient, SplitHalfCosineTracksTheTrueCosine) {
  // Linear loss, pixel basis of dimension 3 x 8 x 8 = 192: the estimate's cosine with the
  // basis projection ranges from ~0.3 (q = 16) to ~0.9 (q = 1024); the split-half figure,
  // computed from the probes alone, must follow it.
  torch::manual_seed(4);
  auto a = torch::randn({3, 32, 32});
  Ids ids(6);
  LinearScorer scorer(a);
  auto x = torch::rand({6, 3, 32, 32});
  for (int q : {16, 64, 1024}) {
    optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
    BlackBoxGradient estimator(scorer, BlackBoxOptions{zo(q, 0.01, 8), q}, history, ids.set);
    PixelProbeSpace space(x, {{0}, {1}, {2}, {3}, {4}, {5}}, estimator.estimator());
    estimator.step(space, {0, 1, 2, 3, 4, 5}, 13 + q);
    auto target = estimator.estimator().project(a);
    double true_cos = 0, split = 0;
    for (size_t b = 0; b < 6; ++b) {
      const auto& e = estimator.last_estimates()[b];
      true_cos += optim::cosine(space.to_image(b, e.g)[0], target) / 6;
      split += optim::split_half_cosine(e.a, e.b, e.g, e.weight_a, e.weight_b) / 6;
    }
    EXPECT_NEAR(split, true_cos, 0.1) << "q = " << q;
  }
}

// Per sample the split-half figure is as noisy as the estimate (few probes in 192 dimensions); pooled over a
// batch (cos^2 estimates averaged before the root, what the trainer logs as split_half_cos) it follows the
// batch's mean true cosine. Linear loss, pixel basis 3 x 8 x 8, 32 samples, 8 probe pairs each.
TEST(BlackBoxGradient, PooledSplitHalfFollowsTheBatchsMeanCosineWherePerSampleFiguresScatter) {
  torch::manual_seed(6);
  auto a = torch::randn({3, 32, 32});
  const int64_t n = 32;
  Ids ids(n);
  LinearScorer scorer(a);
  auto x = torch::rand({n, 3, 32, 32});
  std::vector<std::vector<int64_t>> groups;
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < n; ++i) groups.push_back({i}), rows.push_back(i);
  optim::CriticalHistory history(optim::HistoryOptions{optim::HistoryMode::kNone});
  BlackBoxGradient estimator(scorer, BlackBoxOptions{zo(8, 0.01, 8), 8}, history, ids.set);
  PixelProbeSpace space(x, groups, estimator.estimator());
  auto step = estimator.step(space, rows, 29);
  auto target = estimator.estimator().project(a);
  double mean_true = 0;
  std::vector<double> errors;
  for (int64_t b = 0; b < n; ++b) {
    const auto& e = estimator.last_estimates()[static_cast<size_t>(b)];
    double truth = optim::cosine(space.to_image(static_cast<size_t>(b), e.g)[0], target);
    mean_true += truth / static_cast<double>(n);
    errors.push_back(std::abs(optim::split_half_cosine(e.a, e.b, e.g, e.weight_a, e.weight_b) - truth));
  }
  std::sort(errors.begin(), errors.end());
  EXPECT_GT(errors[n / 2], 0.1);  // the median sample's figure is off by more than 0.1
  ASSERT_EQ(step.split_half_samples, n);
  EXPECT_NEAR(optim::pooled_split_half_cosine(step.split_half_cos2_sum, step.split_half_samples), mean_true, 0.05);
  EXPECT_EQ(optim::pooled_split_half_cosine(-1.0, 4), 0.0);
  EXPECT_EQ(optim::pooled_split_half_cosine(1.0, 0), 0.0);
}

TEST(ZerothOrderEstimator, CombineSplitsAlternatePairsIntoHalves) {
  optim::ZerothOrderEstimator zo(optim::ZoOptions{3, 0.5, 8});
  auto u = torch::eye(3).view({3, 3, 1, 1});
  auto d = torch::tensor({1.0, 2.0, 4.0}, torch::kFloat64);
  // g = mean_k d_k / (2 mu) u_k = (1, 2, 4) / 3.
  auto s = zo.combine_split(u, d);
  EXPECT_TRUE(torch::allclose(s.g.flatten(), torch::tensor({1.0f, 2.0f, 4.0f}) / 3));
  EXPECT_TRUE(torch::allclose(s.a.flatten(), torch::tensor({0.5f, 0.0f, 2.0f})));  // pairs 0 and 2
  EXPECT_TRUE(torch::allclose(s.b.flatten(), torch::tensor({0.0f, 2.0f, 0.0f})));  // pair 1
  EXPECT_NEAR(s.weight_a, 2.0 / 3, 1e-12);
  // Halves that agree give a split-half cosine of 1; orthogonal ones 0.
  auto v = torch::tensor({1.0, 1.0});
  EXPECT_NEAR(optim::split_half_cosine(v, v, v, 0.5, 0.5), 1.0, 1e-12);
  EXPECT_EQ(optim::split_half_cosine(torch::tensor({1.0, 0.0}), torch::tensor({0.0, 1.0}), v, 0.5, 0.5), 0.0);
}

}  // namespace scrim::method
