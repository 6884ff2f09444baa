#include "reference/reference_augment.h"

#include <gtest/gtest.h>

namespace scrim {
namespace {

TEST(ReferenceAugment, TranslateMovesThePictureAndFillsTheBorderWithTheEdge) {
  auto x = torch::zeros({2, 3, 10, 12});
  x[0][1][4][5] = 1.0;                 // a dot
  x[1].select(2, 0).fill_(0.5);        // the left column of the second frame
  auto y = translate(x, 3, -2);        // 3 right, 2 up
  ASSERT_EQ(y.sizes(), x.sizes());
  EXPECT_EQ(y[0][1][2][8].item<float>(), 1.0f);
  EXPECT_EQ(y[0].sum().item<float>(), 1.0f);  // moved, not smeared
  // The left border (3 columns) repeats the left column; the bottom 2 rows the
  // last row.
  for (int64_t c = 0; c <= 3; ++c) EXPECT_EQ(y[1][0][5][c].item<float>(), 0.5f) << c;
  EXPECT_EQ(y[1][0][5][4].item<float>(), 0.0f);
  EXPECT_TRUE(torch::equal(translate(x, 0, 0), x));
  // There and back again leaves the inside unchanged.
  auto back = translate(translate(x, -2, 1), 2, -1);
  EXPECT_TRUE(torch::equal(back.slice(2, 1, 9).slice(3, 2, 10), x.slice(2, 1, 9).slice(3, 2, 10)));
}

TEST(ReferenceAugment, AugmentKeepsTheRangeAndTheShape) {
  std::mt19937_64 rng(3);
  auto x = torch::rand({2, 3, 16, 16});
  int changed = 0;
  for (int i = 0; i < 20; ++i) {
    auto y = augment(x, rng);
    ASSERT_EQ(y.sizes(), x.sizes());
    EXPECT_GE(y.min().item<float>(), 0.0f);
    EXPECT_LE(y.max().item<float>(), 1.0f);
    changed += !torch::equal(y, x);
  }
  EXPECT_GT(changed, 5);  // 60% of draws change the picture
}

}  // namespace
}  // namespace scrim
