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

#include "nets/bdq_encoder.h"

namespace scrim {

TEST(BdqEncoder, HardLevelsWhenEvaluatingAndGradientsForBlurAndBinsWhenTraining) {
  torch::manual_seed(2);
  nets::BdqEncoderOptions o;
  o.levels = 4;
  nets::BdqEncoder enc(o);
  EXPECT_NEAR(enc->sigma(), 2.0, 1e-6);
  auto b = enc->boundaries();
  ASSERT_EQ(b.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_NEAR(b[i], (i + 0.5) / 3, 1e-6);
  auto x = torch::rand({2, 3, 24, 24});
  enc->eval();
  auto hard = enc->forward(x) * 3;
  EXPECT_TRUE(torch::allclose(hard, hard.round()));  // only the 4 levels
  enc->train();
  auto soft = enc->forward(x);
  EXPECT_EQ(soft.sizes(), x.sizes());
  soft.pow(2).sum().backward();
  for (const auto& p : enc->parameters()) EXPECT_GT(p.grad().abs().sum().item<double>(), 0.0);
}

}  // namespace scrim
