#include "method/privacy_adversary.h"
#include "method/privacy_focus.h"

#include <cmath>

#include <gtest/gtest.h>

namespace scrim {

TEST(UninformativeLoss, ZeroExactlyAtTheTargetProbabilities) {
  auto target = torch::tensor({0.88f, 0.34f});
  auto ids = torch::tensor({0.5f, 0.25f, 0.25f});
  auto at_prior = torch::logit(target).unsqueeze(0).repeat({4, 1});
  auto id_at_prior = ids.log().unsqueeze(0).repeat({4, 1});
  EXPECT_NEAR(method::uninformative_loss(at_prior, id_at_prior, target, ids).item<double>(), 0.0, 1e-6);
  // 0.5 everywhere is a wrong answer for these priors: a positive loss (a Bernoulli KL by hand).
  auto half = torch::zeros({4, 2});
  auto kl = [](double p, double q) { return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q)); };
  EXPECT_NEAR(method::uninformative_loss(half, torch::Tensor(), target, ids).item<double>(), (kl(0.88, 0.5) + kl(0.34, 0.5)) / 2, 1e-5);
  // Uniform identity logits against the non-uniform prior: KL(prior || uniform).
  double id_kl = 0.5 * std::log(0.5 * 3) + 2 * 0.25 * std::log(0.25 * 3);
  EXPECT_NEAR(method::uninformative_loss(at_prior, torch::zeros({4, 3}), target, ids).item<double>(), id_kl, 1e-5);
}

TEST(UninformativeLoss, TheIdentityWeightScalesTheIdentityTermAlone) {
  auto target = torch::tensor({0.88f, 0.34f});
  auto ids = torch::tensor({0.5f, 0.25f, 0.25f});
  auto attributes = torch::tensor({{2.0f, -1.0f}, {0.5f, 0.3f}});  // off the prior: a positive attribute term
  auto identities = torch::tensor({{1.0f, 0.0f, -2.0f}, {0.0f, 3.0f, 0.0f}});
  const double attribute_part = method::uninformative_loss(attributes, torch::Tensor(), target, ids).item<double>();
  const double whole = method::uninformative_loss(attributes, identities, target, ids).item<double>();
  const double identity_part = whole - attribute_part;
  ASSERT_GT(attribute_part, 0.01);
  ASSERT_GT(identity_part, 0.01);
  EXPECT_NEAR(method::uninformative_loss(attributes, identities, target, ids, 0.0).item<double>(), attribute_part, 1e-6);
  EXPECT_NEAR(method::uninformative_loss(attributes, identities, target, ids, 0.25).item<double>(), attribute_part + 0.25 * identity_part, 1e-5);
  EXPECT_THROW(method::uninformative_loss(attributes, identities, target, ids, -0.5), std::invalid_argument);
}

TEST(PrivacyAdversary, TargetIsThePrevalenceOfTheLabelsItTrainsOn) {
  torch::manual_seed(1);
  method::AdversaryOptions o;
  o.members = 1;
  method::PrivacyAdversary adversary(o, 2, 3);
  // Before any label: 0.5 and uniform.
  EXPECT_TRUE(torch::allclose(adversary.attribute_target(), torch::tensor({0.5f, 0.5f})));
  auto x = torch::rand({4, 3, 32, 32});
  // Attribute 0: 3 of 4 positive; attribute 1: 1 of 2 known positive (-1 unknown); identities 0, 0, 2, unknown.
  auto attrs = torch::tensor({1, 0, 1, -1, 1, 1, 0, -1}, torch::kFloat32).view({4, 2});
  auto ids = torch::tensor({0, 0, 2, -1}, torch::kLong);
  adversary.update(x, attrs, ids);
  EXPECT_TRUE(torch::allclose(adversary.attribute_target(), torch::tensor({0.75f, 0.5f})));
  EXPECT_TRUE(torch::allclose(adversary.identity_target(), torch::tensor({2.0f / 3, 0.0f, 1.0f / 3})));
  // The earlier target stays available.
  o.target = "half";
  method::PrivacyAdversary half(o, 2, 3);
  half.update(x, attrs, ids);
  EXPECT_TRUE(torch::allclose(half.attribute_target(), torch::tensor({0.5f, 0.5f})));
  o.target = "nonsense";
  EXPECT_THROW(method::PrivacyAdversary(o, 2, 3), std::invalid_argument);
}

TEST(PrivacyAdversary, LossOfABatchIsTheMeanOfItsSamplesLosses) {
  // The members run in eval mode inside the loss: a sample's loss does not
  // depend on the others in its batch, so BatchNorm batch statistics offer the
  // anonymizer no way to satisfy the members without changing each picture.
  // Each picture's loss (what the placement search measures hiding part of one picture by) is that picture's asked
  // alone, and their mean is the batch's.
  torch::manual_seed(2);
  method::AdversaryOptions o;
  o.members = 2;
  method::PrivacyAdversary adversary(o, 2, 3);
  auto x = torch::rand({6, 3, 32, 32});
  auto attrs = torch::tensor({1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1}, torch::kFloat32).view({6, 2});
  auto ids = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  for (int i = 0; i < 3; ++i) adversary.update(x, attrs, ids);
  torch::NoGradGuard g;
  double whole = adversary.privacy_loss(x).item<double>();
  double parts = (adversary.privacy_loss(x.slice(0, 0, 3)).item<double>() + adversary.privacy_loss(x.slice(0, 3, 6)).item<double>()) / 2;
  EXPECT_NEAR(whole, parts, 1e-5);
  auto each = adversary.privacy_loss_per_picture(x);
  ASSERT_EQ(each.sizes(), (std::vector<int64_t>{6}));
  for (int64_t n = 0; n < 6; ++n) EXPECT_NEAR(each[n].item<double>(), adversary.privacy_loss(x.slice(0, n, n + 1)).item<double>(), 1e-5);
  EXPECT_GT((each - each.mean()).abs().max().item<double>(), 1e-4);  // the pictures differ
  EXPECT_NEAR(each.mean().item<double>(), whole, 1e-6);
}

TEST(PrivacyAdversary, ItsIdentityWeightReachesTheLoss) {
  // Three adversaries drawn and trained alike, differing only in the identity weight: the losses lie on a line in it.
  auto x = torch::rand({6, 3, 32, 32}, torch::TensorOptions().dtype(torch::kFloat32));
  auto attrs = torch::tensor({1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1}, torch::kFloat32).view({6, 2});
  auto ids = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  auto loss_at = [&](double weight) {
    torch::manual_seed(3);
    method::AdversaryOptions o;
    o.members = 1;
    o.identity_weight = weight;
    method::PrivacyAdversary adversary(o, 2, 3);
    for (int i = 0; i < 20; ++i) adversary.update(x, attrs, ids);  // enough to read the identities off the 6 pictures
    torch::NoGradGuard g;
    return adversary.privacy_loss(x).item<double>();
  };
  const double none = loss_at(0), half = loss_at(0.5), whole = loss_at(1);
  EXPECT_GT(whole - none, 0.01);
  EXPECT_NEAR(half, (none + whole) / 2, 1e-5);
  method::AdversaryOptions negative;
  negative.identity_weight = -1;
  EXPECT_THROW(method::PrivacyAdversary(negative, 2, 3), std::invalid_argument);
}

// The pre-training's search can score positions against the following attackers' running mean
// (--pretrain-search-attackers average): averaged toward after each of three updates, with n = 1, 2, 3, an adversary holds
// the mean of the three snapshots, parameters and batch-norm statistics alike, and the latest label counts.
TEST(PrivacyAdversary, AveragingTowardAfterEachUpdateKeepsTheMeanOfTheSnapshots) {
  torch::manual_seed(4);
  method::AdversaryOptions o;
  o.members = 2;
  method::PrivacyAdversary following(o, 2, 3), average(o, 2, 3);
  auto x = torch::rand({6, 3, 32, 32});
  auto attrs = torch::tensor({1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 1, 1}, torch::kFloat32).view({6, 2});
  auto ids = torch::tensor({0, 1, 2, 0, 1, 2}, torch::kLong);
  std::vector<std::vector<torch::Tensor>> snapshots;
  for (int64_t n = 1; n <= 3; ++n) {
    following.update(x, attrs, ids);
    std::vector<torch::Tensor> snapshot;
    for (const auto& t : following.tensors()) snapshot.push_back(t.clone());
    snapshots.push_back(snapshot);
    average.average_toward(following, n);
  }
  const auto averaged = average.tensors();
  ASSERT_EQ(averaged.size(), snapshots[0].size());
  int moved = 0;  // weights that differ between the snapshots: where a copy of the last one would fail
  for (size_t i = 0; i < averaged.size(); ++i) {
    if (i < 3 || !averaged[i].is_floating_point()) {
      EXPECT_TRUE(torch::equal(averaged[i], snapshots[2][i])) << i;
      continue;
    }
    const auto mean = (snapshots[0][i] + snapshots[1][i] + snapshots[2][i]) / 3;
    EXPECT_TRUE(torch::allclose(averaged[i], mean, 1e-5, 1e-6)) << i;
    if (!torch::allclose(snapshots[0][i], snapshots[2][i], 1e-4, 1e-6)) ++moved;
  }
  EXPECT_GT(moved, 4);
  EXPECT_THROW(average.average_toward(following, 0), std::invalid_argument);
  method::PrivacyAdversary other_shape(o, 3, 3);
  EXPECT_THROW(average.average_toward(other_shape, 4), std::invalid_argument);
}

TEST(RandomErasing, BlendsRectanglesTowardGreyAndLeavesTheRestAndTheInput) {
  torch::manual_seed(3);
  auto x = torch::ones({16, 3, 64, 64});
  auto y = method::random_erasing(x, 2);
  EXPECT_TRUE(torch::equal(x, torch::ones({16, 3, 64, 64})));  // the input is untouched
  EXPECT_TRUE(torch::equal(method::random_erasing(x, 0), x));
  // Every changed pixel moved toward 0.5, by a strength of at least a half (two overlapping rectangles: further).
  auto changed = y.lt(1);
  EXPECT_GE(y.min().item<double>(), 0.5 - 1e-6);
  EXPECT_LE(y.masked_select(changed).max().item<double>(), 0.75 + 1e-6);
  // Each image has its own rectangles, all channels alike, of sides 4 to 16 pixels: at most 2 * 16 * 16 pixels.
  for (int64_t i = 0; i < 16; ++i) {
    auto per_pixel = changed[i].to(torch::kInt).sum(0);
    EXPECT_TRUE(per_pixel.eq(0).logical_or(per_pixel.eq(3)).all().item<bool>());
    auto pixels = per_pixel.eq(3).sum().item<int64_t>();
    EXPECT_GE(pixels, 16);
    EXPECT_LE(pixels, 2 * 16 * 16);
  }
  EXPECT_FALSE(torch::equal(y[0], y[1]));
}

TEST(PrivacyFocus, KeepsEachImagesStrongestCellsOfTheControlGradient) {
  // Two images, K = 2, a 3 x 3 grid: image 0 strongest at cells 4 and 0, image 1 at 8 and 7.
  auto g = torch::zeros({2, 2, 3, 3});
  g[0][0][1][1] = 3, g[0][1][0][0] = -2, g[0][0][2][2] = 0.5;
  g[1][1][2][2] = 4, g[1][0][2][1] = -1, g[1][1][2][1] = 1, g[1][0][0][0] = 0.1;
  auto kept = method::keep_top_cells(g, 2);
  auto expect = g.clone();
  expect[0][0][2][2] = 0, expect[1][0][0][0] = 0;
  EXPECT_TRUE(torch::equal(kept, expect));
  EXPECT_TRUE(torch::equal(method::keep_top_cells(g, 9), g));
}

TEST(PrivacyFocus, TheFocusedGradientReachesTheParametersOnlyThroughTheKeptCells) {
  torch::manual_seed(2);
  nets::BlendAnonymizerOptions o;
  o.grid = 4;
  o.width = 4;
  o.input_size = 32;
  nets::BlendAnonymizer net(o);
  {  // away from the identity start, so that every cell has a gradient
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.normal_(0, 0.3);
  }
  method::AdversaryOptions a;
  a.members = 1;
  method::PrivacyAdversary adversary(a, 2, 0);
  auto x = torch::rand({3, 3, 32, 32});
  auto full = method::focused_privacy_loss(*net, adversary, x, 16);
  auto focused = method::focused_privacy_loss(*net, adversary, x, 3);
  EXPECT_NEAR(full.loss.item<double>(), focused.loss.item<double>(), 1e-6);  // the same loss; only its gradient is focused
  EXPECT_TRUE(torch::allclose(full.output, net->forward(x)));
  // With every cell kept, the surrogate's parameter gradient is the privacy loss's own.
  auto params = net->parameters();
  auto own = torch::autograd::grad({adversary.privacy_loss(net->forward(x))}, params);
  auto via_all = torch::autograd::grad({full.surrogate}, params);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_TRUE(torch::allclose(own[i], via_all[i], 1e-4, 1e-6));
  // With 3 cells kept: exactly J^T of dL/dw with all but each image's 3 strongest cells zeroed.
  auto w = net->weights(x);
  auto leaf = w.detach().requires_grad_(true);
  auto g = torch::autograd::grad({adversary.privacy_loss(nets::BlendAnonymizerImpl::render(net->bank(x), leaf))}, {leaf})[0];
  auto kept = method::keep_top_cells(g, 3);
  EXPECT_TRUE(kept.abs().sum(1).gt(0).view({3, -1}).sum(1).le(3).all().item<bool>());
  auto expected = torch::autograd::grad({w}, params, {kept});
  auto via_focus = torch::autograd::grad({focused.surrogate}, params);
  double differs = 0;
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(torch::allclose(via_focus[i], expected[i], 1e-4, 1e-7));
    differs += (via_focus[i] - via_all[i]).abs().sum().item<double>();
  }
  EXPECT_GT(differs, 1e-4);  // and not the full gradient
}

}  // namespace scrim
