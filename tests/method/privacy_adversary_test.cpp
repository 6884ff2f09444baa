#include "method/privacy_adversary.h"

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

}  // namespace scrim
