// The placement search (method/placement_search.h): each picture's target lies where hiding lowers the privacy
// loss most, none where hiding lowers it nowhere, a utility price moves it off the cells the task reads, a measured
// gain finds what first order misreads and centres the region off the cell grid, and the cross-entropy moves the
// blend's region onto the target.
#include "method/placement_search.h"

#include <cmath>

#include <gtest/gtest.h>

namespace scrim::method {
namespace {

// A fill-only blend on a 14 x 14 grid at 112 pixels: 8 pixels a cell.
nets::BlendAnonymizer fill_blend() {
  nets::BlendAnonymizerOptions o;
  o.grid = 14;
  o.width = 8;
  o.input_size = 112;
  o.budget = 0.03;
  o.bank = "fill:value=0.5";
  o.shape = nets::HideShape::kHead;
  return nets::BlendAnonymizer(o);
}

// The centre (row, column, in cells) of picture n's distribution over the cells [N, 1, G, G].
std::pair<double, double> centre(const torch::Tensor& p, int64_t n) {
  const auto g = p.size(2);
  auto axis = torch::arange(g, torch::kFloat32) + 0.5;
  auto m = p[n][0].detach() / p[n][0].detach().sum();
  return {(m * axis.view({g, 1})).sum().item<double>(), (m * axis.view({1, g})).sum().item<double>()};
}

// A privacy loss read from one 16 x 16 patch per picture (picture 0 at rows 72-87, columns 24-39; picture 1 at
// rows 16-31, columns 80-95): how far the patch is from grey. Filling grey there lowers it, anywhere else not.
// Picture 0 has a second patch weighing a third as much (rows 16-31, columns 16-31): the target is the first.
torch::Tensor patch_loss(const torch::Tensor& y, double sign = 1) {
  auto d0 = (y[0].slice(1, 72, 88).slice(2, 24, 40) - 0.5).pow(2).sum();
  auto weaker = (y[0].slice(1, 16, 32).slice(2, 16, 32) - 0.5).pow(2).sum() / 3;
  auto d1 = (y[1].slice(1, 16, 32).slice(2, 80, 96) - 0.5).pow(2).sum();
  return sign * (d0 + weaker + d1);
}

}  // namespace

TEST(PlacementSearch, EachPicturesTargetLiesWhereHidingLowersTheLossMost) {
  torch::manual_seed(3);
  auto blend = fill_blend();
  auto x = torch::rand({2, 3, 112, 112});
  auto target = placement_target(*blend, x, [](const torch::Tensor& y) { return patch_loss(y); });
  ASSERT_EQ(target.sizes(), (std::vector<int64_t>{2, 1, 14, 14}));
  EXPECT_FALSE(target.requires_grad());  // a fixed target: the cross-entropy trains the scores, not the target
  for (int64_t n = 0; n < 2; ++n) EXPECT_NEAR(target[n].sum().item<double>(), 1.0, 1e-4);
  // The patches' centres in cells: (10, 4) and (3, 11); picture 0's weaker patch, at (3, 3), gets nothing.
  EXPECT_LT(target[0][0].slice(0, 1, 5).slice(1, 1, 5).sum().item<double>(), 1e-6);
  auto [y0, x0] = centre(target, 0);
  auto [y1, x1] = centre(target, 1);
  EXPECT_NEAR(y0, 10, 0.6);
  EXPECT_NEAR(x0, 4, 0.6);
  EXPECT_NEAR(y1, 3, 0.6);
  EXPECT_NEAR(x1, 11, 0.6);
  // Where hiding only raises the loss there is no target, and the cross-entropy is nil.
  auto none = placement_target(*blend, x, [](const torch::Tensor& y) { return patch_loss(y, -1); });
  EXPECT_EQ(none.abs().sum().item<double>(), 0.0);
  EXPECT_EQ(placement_loss(*blend, x, none).item<double>(), 0.0);
}

// Priced by a task that reads a "collar" (picture 0's rows 80-95, columns 24-39: how far it is from grey, as the
// picture shows it) just below the "face" (rows 64-87; above it, rows 40-63, a patch worth half as much), the target
// moves up, off the collar's cells; picture 1, where the task reads nothing near its patch, keeps its target, and
// at preference 1 the price weighs nothing.
TEST(PlacementSearch, APriceMovesTheTargetOffTheCellsTheTaskReads) {
  torch::manual_seed(5);
  auto blend = fill_blend();
  auto x = torch::rand({2, 3, 112, 112});
  auto privacy = [](const torch::Tensor& y) {
    auto face = (y[0].slice(1, 64, 88).slice(2, 24, 40) - 0.5).pow(2).sum();
    auto above = (y[0].slice(1, 40, 64).slice(2, 24, 40) - 0.5).pow(2).sum() / 2;
    auto other = (y[1].slice(1, 16, 32).slice(2, 80, 96) - 0.5).pow(2).sum();
    return (face + above + other) / 2;  // the batch's mean, as the attackers' privacy loss is
  };
  const auto collar = (x[0].slice(1, 80, 96).slice(2, 24, 40) - 0.5).detach();
  // Each picture's answer loss: picture 0's rises as its collar turns grey (per pixel, 4 times what the face's
  // privacy loss falls as it does), picture 1's reads nothing.
  const UtilityPrice price{[&](const torch::Tensor& y) {
                             auto reads = -4 * ((y[0].slice(1, 80, 96).slice(2, 24, 40) - 0.5) * collar).sum();
                             return torch::stack({reads, torch::zeros_like(reads)});
                           },
                           0.5};
  auto plain = placement_target(*blend, x, privacy);
  auto priced = placement_target(*blend, x, privacy, &price);
  auto on_collar = [](const torch::Tensor& t) { return t[0][0].slice(0, 10, 12).slice(1, 3, 5).sum().item<double>(); };
  EXPECT_GT(on_collar(plain), 0.1);
  EXPECT_LT(on_collar(priced), on_collar(plain) / 2);
  EXPECT_LT(centre(priced, 0).first, centre(plain, 0).first - 0.5);
  // The priced search centres the ellipse on a cell (the plain one refines it off the grid): within half a cell.
  EXPECT_NEAR(centre(priced, 0).second, centre(plain, 0).second, 0.5);
  EXPECT_NEAR(centre(priced, 1).first, centre(plain, 1).first, 0.5);
  EXPECT_NEAR(centre(priced, 1).second, centre(plain, 1).second, 0.5);
  const UtilityPrice weightless{price.loss, 1.0};
  auto unpriced = placement_target(*blend, x, privacy, &weightless);
  EXPECT_NEAR(centre(unpriced, 0).first, centre(plain, 0).first, 0.5);
  EXPECT_GT(on_collar(unpriced), 0.1);
}

// Each picture's privacy loss, read so that first order misleads. Picture 0: a white "face" (rows and columns 40-55)
// read through a saturated response — each pixel's (y - 0.5)^2 capped at 0.01, no gradient until it is nearly hidden,
// worth 7.7 in all — and a white "hat" above it (rows 32-39, the same columns) read linearly, worth 1.9. Picture 1: a
// white patch read quadratically, centred on a cell corner (rows and columns 40-55: 6.0 cells, 8 pixels a cell).
torch::Tensor misread_loss(const torch::Tensor& y) {
  auto face = (y[0].slice(1, 40, 56).slice(2, 40, 56) - 0.5).pow(2).clamp_max(0.01).sum();
  auto hat = 0.02 * (y[0].slice(1, 32, 40).slice(2, 40, 56) - 0.5).sum();
  auto patch = (y[1].slice(1, 40, 56).slice(2, 40, 56) - 0.5).pow(2).sum();
  return torch::stack({face + hat, patch});
}

TEST(PlacementSearch, AMeasuredGainFindsWhatFirstOrderMisreadsAndCentresTheRegionOffTheGrid) {
  torch::manual_seed(7);
  auto blend = fill_blend();
  auto x = torch::rand({2, 3, 112, 112});
  x.index_put_({0, torch::indexing::Slice(), torch::indexing::Slice(32, 56), torch::indexing::Slice(40, 56)}, 1.0);
  x.index_put_({1, torch::indexing::Slice(), torch::indexing::Slice(40, 56), torch::indexing::Slice(40, 56)}, 1.0);
  const PrivacyLossFn mean = [](const torch::Tensor& y) { return misread_loss(y).mean(); };
  const PrivacyLossFn each = misread_loss;
  const UtilityPrice free{[](const torch::Tensor& y) { return torch::zeros({y.size(0)}, y.options()); }, 1.0};
  auto first_order = placement_target(*blend, x, mean, &free);
  auto measured = placement_target(*blend, x, mean, &free, &each);
  for (int64_t n = 0; n < 2; ++n) EXPECT_NEAR(measured[n].sum().item<double>(), 1.0, 1e-4);
  // Picture 0: first order sees the hat alone (row 4, columns 5-6); hiding, measured, takes the face (rows 5-6).
  EXPECT_NEAR(centre(first_order, 0).first, 4.5, 0.3);
  EXPECT_GT(centre(measured, 0).first, 5.3);
  EXPECT_NEAR(centre(measured, 0).second, 6.0, 0.6);
  // Picture 1: on the cell grid the best centre is half a cell off the patch's; refined, it is on it.
  EXPECT_GT(std::hypot(centre(first_order, 1).first - 6.0, centre(first_order, 1).second - 6.0), 0.4);
  EXPECT_NEAR(centre(measured, 1).first, 6.0, 0.1);
  EXPECT_NEAR(centre(measured, 1).second, 6.0, 0.1);
}

TEST(PlacementSearch, TheCrossEntropyMovesTheRegionOntoTheTarget) {
  torch::manual_seed(4);
  auto blend = fill_blend();
  auto x = torch::rand({2, 3, 112, 112});
  auto target = placement_target(*blend, x, [](const torch::Tensor& y) { return patch_loss(y); });
  auto distance = [&] {
    torch::NoGradGuard no_grad;
    auto hidden = 1 - blend->weights(x).slice(1, 0, 1);  // [2, 1, G, G]
    double d = 0;
    for (int64_t n = 0; n < 2; ++n) {
      auto [hy, hx] = centre(hidden, n);
      auto [ty, tx] = centre(target, n);
      d = std::max(d, std::hypot(hy - ty, hx - tx));
    }
    return d;
  };
  const double before = distance();
  torch::optim::Adam optimizer(blend->parameters(), torch::optim::AdamOptions(1e-2));
  double first_loss = 0, last_loss = 0;
  for (int i = 0; i < 60; ++i) {
    optimizer.zero_grad();
    auto loss = placement_loss(*blend, x, target);
    (i == 0 ? first_loss : last_loss) = loss.item<double>();
    loss.backward();
    optimizer.step();
  }
  EXPECT_LT(last_loss, first_loss - 0.5);
  EXPECT_GT(before, 3.0);  // the untrained region lies elsewhere
  EXPECT_LT(distance(), 1.0) << "before " << before;
}

}  // namespace scrim::method
