// The black box's utility loss through the oracle and the task scorer
// (method/blackbox_utility.h): with --utility-margin the margin loss is capped
// where the answer is right by the cap or more, and left as it is elsewhere.
#include "method/blackbox_utility.h"

#include <gtest/gtest.h>

#include "method/probe_space.h"
#include "method/utility_gradient.h"
#include "reference/reference_fixture.h"
#include "reference/reference_whitebox.h"

namespace scrim::method {
namespace {

TEST(CappedMarginLoss, CapsOnlyConfidentRightAnswers) {
  EXPECT_EQ(capped_margin_loss(-5.0, 2.0), -2.0);   // right by 5 nats: defends only 2
  EXPECT_EQ(capped_margin_loss(-1.5, 2.0), -1.5);   // right by less than the cap
  EXPECT_EQ(capped_margin_loss(3.0, 2.0), 3.0);     // wrong
  EXPECT_EQ(capped_margin_loss(-5.0, 0.0), -5.0);   // no cap
}

TEST(BlackBoxUtility, TheMarginCapAppliesToTheOraclesRepliesAsToTheWhiteBoxLoss) {
  auto& tiny = testing::TinyReference::get();
  // VQA questions: the tiny model answers some (counts, colours) right and confidently.
  auto data = load_training_set(tiny.dir / "synth/vqa.jsonl", "train", 64, 1, 40);
  BlackBoxUtility plain(*tiny.model, data, 2, 20, UtilityLoss::kMargin);
  std::vector<torch::Tensor> probes, losses;
  double best = -1e9;  // the largest margin of a right answer
  for (int64_t row = 0; row < static_cast<int64_t>(data.size()); ++row) {
    auto f = data.frames[static_cast<size_t>(row)].view({-1, 64, 64});
    probes.push_back(torch::stack({f, f.flip(2)}));
    losses.push_back(plain.evaluate(row, probes.back()).loss);
    best = std::max(best, -losses.back().min().item<double>());
  }
  ASSERT_GT(best, 0) << "the tiny model answers none right";
  const double cap = best / 2;  // some answers are right by more, some by less
  BlackBoxUtility capped(*tiny.model, data, 2, 20, UtilityLoss::kMargin, cap);
  int confident = 0, other = 0;
  for (int64_t row = 0; row < static_cast<int64_t>(data.size()); ++row) {
    auto b = capped.evaluate(row, probes[static_cast<size_t>(row)]).loss;
    for (int64_t p = 0; p < 2; ++p) {
      double a = losses[static_cast<size_t>(row)][p].item<double>();
      EXPECT_NEAR(b[p].item<double>(), std::max(a, -cap), 1e-6);
      (a < -cap ? confident : other) += 1;
    }
  }
  EXPECT_GT(confident, 0);  // the cap was exercised
  EXPECT_GT(other, 0);      // and left the rest alone
  // The white-box bound reads the same capped loss exactly.
  std::vector<std::vector<int64_t>> groups;
  std::vector<int64_t> rows(data.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  auto x = data.stack(rows, &groups);
  auto margins = reference_answer_losses(*tiny.model, x, std::vector<std::string>(data.prompts.begin(), data.prompts.end()),
                                        std::vector<std::string>(data.answers.begin(), data.answers.end()), groups);
  optim::ZerothOrderEstimator basis(optim::ZoOptions{});
  PixelProbeSpace space(x, groups, basis);
  WhiteBoxGradient white(*tiny.model, data, cap);
  auto step = white.step(space, rows, 1);
  EXPECT_NEAR(step.loss, margins.margin.clamp_min(-cap).mean().item<double>(), 1e-5);
}

}  // namespace
}  // namespace scrim::method
