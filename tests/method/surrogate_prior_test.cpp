// The online surrogate prior (method/surrogate_prior.h): learning from the black
// box's probe differences raises its agreement with the black box on directions
// it never saw; a fixed transfer prior does not move; its learned state survives
// a save and load exactly.
#include "method/surrogate_prior.h"

#include <gtest/gtest.h>

#include "method/blackbox_utility.h"
#include "nets/blend_anonymizer.h"
#include "reference/reference_fixture.h"
#include "reference/reference_whitebox.h"

namespace scrim::method {
namespace {

struct Setting {
  testing::TinyReference& tiny = testing::TinyReference::get();
  TrainingSet data = load_training_set(tiny.dir / "synth/actions.jsonl", "train", 64, 2, 4);
  nets::BlendAnonymizer blend = [] {
    torch::manual_seed(3);
    nets::BlendAnonymizerOptions o;
    o.grid = 4;
    o.bank = "blur:sigma=3,fill:value=0.5";
    o.width = 4;
    o.input_size = 64;
    return nets::BlendAnonymizer(o);
  }();

  // The probe space of sample `row` alone.
  std::unique_ptr<ControlProbeSpace> space(int64_t row) {
    torch::NoGradGuard no_grad;
    std::vector<std::vector<int64_t>> groups;
    auto x = data.stack({row}, &groups);
    return std::make_unique<ControlProbeSpace>(blend->bank(x), blend->weights(x), torch::Tensor{}, groups);
  }

  // The black box's differences (L+ - L-) along `dirs` at radius mu, through the oracle and the task scorer.
  std::vector<double> differences(BlackBoxUtility& box, const ControlProbeSpace& s, int64_t row, const std::vector<torch::Tensor>& dirs, double mu) {
    std::vector<torch::Tensor> offsets;
    for (const auto& d : dirs) offsets.push_back(mu * d), offsets.push_back(-mu * d);
    auto loss = box.evaluate(row, s.images(0, torch::stack(offsets))).loss;
    std::vector<double> out;
    for (size_t k = 0; k < dirs.size(); ++k) out.push_back(loss[2 * k].item<double>() - loss[2 * k + 1].item<double>());
    return out;
  }
};

// A copy of the black box whose weights are scrambled, so it starts out disagreeing.
std::shared_ptr<ReferenceMllm> scrambled_copy(const std::filesystem::path& file, double noise) {
  auto model = ReferenceMllm::load(file);
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  for (auto& p : reference_network(*model).parameters()) p.add_(noise * p.std().item<double>() * torch::randn_like(p));
  return model;
}

std::vector<torch::Tensor> random_directions(const ControlProbeSpace& s, int n, uint64_t seed) {
  torch::manual_seed(seed);
  std::vector<torch::Tensor> out;
  for (int i = 0; i < n; ++i) out.push_back(s.constrain(torch::randn(s.shape(0))));
  return out;
}

// Mean agreement (cosine of the difference vectors) on fixed held-out directions, without learning.
double held_out_agreement(Setting& st, BlackBoxUtility& box, ReferenceMllm& surrogate, double mu) {
  double sum = 0;
  for (int64_t row = 0; row < static_cast<int64_t>(st.data.size()); ++row) {
    auto s = st.space(row);
    auto dirs = random_directions(*s, 6, 1000 + static_cast<uint64_t>(row));
    auto target = torch::tensor(st.differences(box, *s, row, dirs, mu));
    std::vector<torch::Tensor> offsets;
    for (const auto& d : dirs) offsets.push_back(mu * d), offsets.push_back(-mu * d);
    torch::NoGradGuard no_grad;
    auto images = s->images(0, torch::stack(offsets));
    const int64_t probes = images.size(0), frames = images.size(1) / 3;
    std::vector<std::vector<int64_t>> groups(static_cast<size_t>(probes));
    for (int64_t p = 0; p < probes; ++p)
      for (int64_t f = 0; f < frames; ++f) groups[static_cast<size_t>(p)].push_back(p * frames + f);
    auto margin = reference_answer_losses(surrogate, images.reshape({probes * frames, 3, images.size(2), images.size(3)}),
                                          std::vector<std::string>(static_cast<size_t>(probes), st.data.prompts[static_cast<size_t>(row)]),
                                          std::vector<std::string>(static_cast<size_t>(probes), st.data.answers[static_cast<size_t>(row)]), groups)
                      .margin.view({-1, 2});
    auto own = (margin.select(1, 0) - margin.select(1, 1)).to(torch::kFloat64);
    sum += ((own * target).sum() / (own.norm() * target.norm()).clamp_min(1e-12)).item<double>();
  }
  return sum / static_cast<double>(st.data.size());
}

}  // namespace

TEST(SurrogatePrior, LearningFromRepliesRaisesItsAgreementOnUnseenDirections) {
  Setting st;
  BlackBoxUtility box(*st.tiny.model, st.data, 2, 20, UtilityLoss::kMargin);
  auto surrogate = scrambled_copy(st.tiny.model_file, 0.6);
  SurrogatePriorOptions options;
  options.learning_rate = 3e-3;
  options.max_pairs = 8;
  SurrogatePrior prior(surrogate, st.data, options);
  const double mu = 0.2;
  double before = held_out_agreement(st, box, *surrogate, mu);
  for (int round = 0; round < 12; ++round) {
    for (int64_t row = 0; row < static_cast<int64_t>(st.data.size()); ++row) {
      auto s = st.space(row);
      auto dirs = random_directions(*s, 8, 17 * static_cast<uint64_t>(round) + static_cast<uint64_t>(row));
      prior.observe(*s, 0, row, dirs, st.differences(box, *s, row, dirs, mu), mu);
    }
  }
  auto [agreement, samples] = prior.take_agreement();
  EXPECT_EQ(samples, 12 * static_cast<int>(st.data.size()));
  double after = held_out_agreement(st, box, *surrogate, mu);
  EXPECT_GT(after, before + 0.2) << "before " << before << ", after " << after << ", during training " << agreement;
}

TEST(SurrogatePrior, AFixedTransferPriorDoesNotLearn) {
  Setting st;
  BlackBoxUtility box(*st.tiny.model, st.data, 2, 20, UtilityLoss::kMargin);
  auto surrogate = scrambled_copy(st.tiny.model_file, 0.6);
  SurrogatePrior prior(surrogate, st.data);  // learning rate 0
  auto before = torch::cat([&] {
    std::vector<torch::Tensor> v;
    for (const auto& p : reference_network(*surrogate).parameters()) v.push_back(p.detach().flatten().clone());
    return v;
  }());
  auto s = st.space(0);
  auto dirs = random_directions(*s, 4, 9);
  prior.observe(*s, 0, 0, dirs, st.differences(box, *s, 0, dirs, 0.2), 0.2);
  std::vector<torch::Tensor> after;
  for (const auto& p : reference_network(*surrogate).parameters()) after.push_back(p.detach().flatten());
  EXPECT_TRUE(torch::equal(before, torch::cat(after)));
  EXPECT_EQ(prior.take_agreement().second, 0);
}

TEST(SurrogatePrior, ItsLearnedStateSurvivesSaveAndLoadExactly) {
  Setting st;
  BlackBoxUtility box(*st.tiny.model, st.data, 2, 20, UtilityLoss::kMargin);
  SurrogatePriorOptions options;
  options.learning_rate = 3e-3;
  auto a_model = scrambled_copy(st.tiny.model_file, 0.6);
  SurrogatePrior a(a_model, st.data, options);
  auto s = st.space(1);
  auto learn = [&](SurrogatePrior& p, uint64_t seed) {
    auto dirs = random_directions(*s, 4, seed);
    p.observe(*s, 0, 1, dirs, st.differences(box, *s, 1, dirs, 0.2), 0.2);
  };
  learn(a, 1);
  torch::serialize::OutputArchive out;
  a.save(out);
  std::stringstream bytes;
  out.save_to(bytes);
  // A second surrogate from the untouched file, given the first's state: the next update matches.
  auto b_model = ReferenceMllm::load(st.tiny.model_file);
  SurrogatePrior b(b_model, st.data, options);
  torch::serialize::InputArchive in;
  in.load_from(bytes);
  b.load(in);
  learn(a, 2);
  learn(b, 2);
  auto pa = a.prior(*s, 0, 1), pb = b.prior(*s, 0, 1);
  EXPECT_TRUE(torch::allclose(pa, pb, 1e-6, 1e-9)) << (pa - pb).abs().max().item<double>();
}

}  // namespace scrim::method
