#include "nets/anonymizer_net.h"

#include <gtest/gtest.h>

namespace scrim {

TEST(AnonymizerNet, ShapesRangeAndGradients) {
  torch::manual_seed(3);
  for (int64_t depth : {1, 3}) {
    nets::AnonymizerNetOptions o;
    o.depth = depth;
    o.width = 4;
    nets::AnonymizerNet net(o);
    auto x = torch::rand({2, 3, 32, 48}, torch::requires_grad());
    auto y = net->forward(x);
    EXPECT_EQ(y.sizes(), x.sizes());
    EXPECT_GT(y.min().item<float>(), 0.0f);
    EXPECT_LT(y.max().item<float>(), 1.0f);
    y.sum().backward();
    for (const auto& p : net->parameters()) ASSERT_TRUE(p.grad().defined());
    EXPECT_GT(x.grad().abs().sum().item<float>(), 0.0f);
  }
  EXPECT_THROW(nets::AnonymizerNet(nets::AnonymizerNetOptions{0, 3, 112}), std::exception);
}

}  // namespace scrim
