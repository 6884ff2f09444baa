#include "scrim/reference/reference_mllm.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "reference/reference_vqa_net.h"
#include "reference/reference_fixture.h"
#include "reference/reference_whitebox.h"
#include "scrim/media/tensor_image.h"
#include "scrim/core/error.h"
#include "scrim/oracle/oracle_error.h"
#include "test_util.h"

namespace scrim {

TEST(ReferenceMllm, TrainsSavesLoadsAndAnswersWithLogprobs) {
  auto& t = testing::TinyReference::get();
  EXPECT_GT(t.report.train_questions, 48 * 6);
  std::set<std::string> types;
  for (const auto& row : t.report.test_accuracy) types.insert(row.question_type);
  for (const char* type : {"action_label", "action", "object_color", "count", "presence", "clothing_color", "privacy:identity"})
    EXPECT_TRUE(types.count(type)) << type;
  EXPECT_FALSE(types.count("privacy:plate_text"));

  OracleRequest req{{t.image(0)}, "How many people are there? Answer with a single word or number.", {}};
  req.options.top_logprobs = 3;
  auto reply = t.model->query(req);
  EXPECT_FALSE(reply.text.empty());
  ASSERT_EQ(reply.logprobs.size(), 1u);
  ASSERT_EQ(reply.logprobs[0].top.size(), 3u);
  double mass = 0;
  for (const auto& a : reply.logprobs[0].top) mass += std::exp(a.logprob);
  EXPECT_LE(mass, 1.0 + 1e-6);
  EXPECT_EQ(reply.logprobs[0].top[0].token, reply.text);
  // Deterministic: the same request gives the same answer and log-probs.
  auto again = t.model->query(req);
  EXPECT_EQ(again.text, reply.text);
  EXPECT_DOUBLE_EQ(again.logprobs[0].logprob, reply.logprobs[0].logprob);
  // Several frames pool into one answer.
  OracleRequest clip{{t.image(0), t.image(1), t.image(2)}, "What is the person in the middle doing? Answer with a single word or number.", {}};
  EXPECT_FALSE(t.model->query(clip).text.empty());
  EXPECT_THROW(t.model->query(OracleRequest{{}, "no image", {}}), OracleError);
}

TEST(ReferenceMllm, AnAnswerDoesNotDependOnThePromptsBatchedBesideIt) {
  // Training and evaluation batch short questions with the long action prompt;
  // a served query comes alone. The question encoder must read the same words
  // the same way in both (the first models' left padding did not).
  auto& t = testing::TinyReference::get();
  auto image = images_to_batch({t.image(0)}, 0);
  std::string short_q = "How many people are there? Answer with a single word or number.";
  std::string long_q = "Which of these actions is the person doing?";
  for (int i = 0; i < 6; ++i) long_q += " standing, walking, running, sitting, waving, jumping, clapping or pointing";
  torch::NoGradGuard no_grad;
  auto alone = reference_answer_loss(*t.model, image, {short_q}, {"1"}, {{0}});
  auto beside = reference_answer_loss(*t.model, image, {short_q, long_q}, {"1", "1"}, {{0}, {0}});
  EXPECT_NEAR(alone[0].item<double>(), beside[0].item<double>(), 2e-6);  // left padding: 9e-6 here
}

TEST(ReferenceMllm, OnePictureNamedByTwoManifestsIsOneTrainingImage) {
  // actions.jsonl, reached through "synth/../synth", names its images relative
  // to itself; a copy of vqa.jsonl elsewhere names the same files by their
  // plain absolute paths.
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  Manifest vqa = read_manifest(t.dir / "synth/vqa.jsonl");
  for (auto& s : vqa.samples) s.media.images = {vqa.resolve(s.media.images[0]).string()};
  write_manifest(d / "vqa-absolute.jsonl", vqa);
  ReferenceTrainOptions o;
  o.manifests = {t.dir / "synth/../synth/actions.jsonl", d / "vqa-absolute.jsonl"};
  o.epochs = 1;
  o.width = 8;
  o.out = d / "m.pt";
  auto report = train_reference_mllm(o);
  EXPECT_EQ(report.train_images, 48);
  EXPECT_EQ(report.train_questions, t.report.train_questions);
}

TEST(ReferenceMllm, RefusesBadModelFiles) {
  testing::ScratchDir d;
  EXPECT_THROW(ReferenceMllm::load(d / "missing.pt"), Error);
  testing::write_text(d / "junk.pt", "not a model");
  EXPECT_THROW(ReferenceMllm::load(d / "junk.pt"), Error);
}

}  // namespace scrim

namespace scrim {

TEST(ReferenceMllm, ModelIdChangesWithTheWeights) {
  // Cache keys include the model id: a retrained file under the same name must not hit old replies.
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  std::filesystem::copy_file(t.model_file, d / "same.pt");
  auto a = ReferenceMllm::load(d / "same.pt");
  EXPECT_EQ(a->model_id().rfind("reference:same@", 0), 0u);
  ReferenceTrainOptions o;
  o.manifests = {t.dir / "synth/vqa.jsonl"};
  o.out = d / "same.pt";
  o.epochs = 1;
  o.width = 8;
  o.seed = 99;
  train_reference_mllm(o);
  EXPECT_NE(ReferenceMllm::load(d / "same.pt")->model_id(), a->model_id());
}

}  // namespace scrim

namespace scrim {

TEST(ReferenceMllm, ABareQuestionIsReadWithTheTrainingInstruction) {
  auto& t = testing::TinyReference::get();
  OracleRequest bare{{t.image(0)}, "How many people are there?", {}};
  bare.options.top_logprobs = 3;
  OracleRequest full = bare;
  full.prompt += " Answer with a single word or number.";
  auto a = t.model->query(bare), b = t.model->query(full);
  EXPECT_EQ(a.text, b.text);
  ASSERT_FALSE(a.logprobs.empty());
  EXPECT_DOUBLE_EQ(a.logprobs[0].logprob, b.logprobs[0].logprob);
  // A prompt with its own instruction is read as it is.
  OracleRequest own = bare;
  own.prompt = "How many people are there? Answer with one of: 1, 2, 3.";
  EXPECT_NE(t.model->query(own).logprobs[0].logprob, b.logprobs[0].logprob);
}

TEST(ReferenceMllm, ArchitectureVariantsTrainLoadAndAnswer) {
  // The first models' single FiLM projection (film_blocks = 0) and GRU-only
  // question encoder still train and load beside today's default; so do the
  // zoom glimpse, the focal loss, a model taught without the evidence regions
  // and one trained on shifted pictures.
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  ReferenceTrainOptions o;
  o.manifests = {t.dir / "synth/vqa.jsonl"};
  o.epochs = 1;
  o.width = 8;
  o.film_blocks = 0;
  o.word_path = false;
  o.focal_gamma = 2.0;
  o.zoom = 24;
  o.grounding = 0;
  o.out = d / "projection.pt";
  train_reference_mllm(o);
  auto model = ReferenceMllm::load(o.out);
  OracleRequest req{{t.image(0)}, "How many people are there? Answer with a single word or number.", {}};
  EXPECT_FALSE(model->query(req).text.empty());
  o.film_blocks = 9;
  EXPECT_THROW(train_reference_mllm(o), UsageError);
  o.film_blocks = 0;
  o.zoom = 4;
  EXPECT_THROW(train_reference_mllm(o), UsageError);
  o.zoom = 0;
  o.grounding = -1;
  EXPECT_THROW(train_reference_mllm(o), UsageError);
  // Shifted training pictures, with the grounding loss on the moved regions.
  o.grounding = 1;
  o.shift = 29;
  EXPECT_THROW(train_reference_mllm(o), UsageError);
  o.shift = 4;
  o.out = d / "shifted.pt";
  auto report = train_reference_mllm(o);
  EXPECT_GT(report.grounded_questions, 0);
  EXPECT_FALSE(ReferenceMllm::load(o.out)->query(req).text.empty());
}

}  // namespace scrim

namespace scrim {

TEST(ReferenceMllm, FocalLossWeighsEachQuestionByItsError) {
  // Two questions: one answered with p = 0.9, one with p = 0.2 (two classes).
  auto logits = torch::tensor({std::log(0.9), std::log(0.1), std::log(0.8), std::log(0.2)}).view({2, 2});
  auto targets = torch::tensor({0, 1}, torch::kLong);
  double ce0 = -std::log(0.9), ce1 = -std::log(0.2);
  EXPECT_NEAR(nets::answer_loss(logits, targets, 0).item<double>(), (ce0 + ce1) / 2, 1e-6);
  double focal = (0.1 * 0.1 * ce0 + 0.8 * 0.8 * ce1) / 2;
  EXPECT_NEAR(nets::answer_loss(logits, targets, 2).item<double>(), focal, 1e-6);
}

}  // namespace scrim

namespace scrim {

TEST(ReferenceMllm, GroundingLossIsMinusTheLogOfTheMassOnTheEvidence) {
  // Two (question, frame) rows over a 2x2 map, two glimpses; the second row has
  // no evidence and adds nothing; only the first glimpse is supervised.
  auto attention = torch::tensor({0.5, 0.25, 0.25, 0.0, /*glimpse 2*/ 0.0, 0.0, 0.0, 1.0,  //
                                  0.25, 0.25, 0.25, 0.25, /*glimpse 2*/ 1.0, 0.0, 0.0, 0.0})
                       .view({2, 2, 4});
  auto evidence = torch::tensor({1.0, 0.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0}).view({2, 4});
  EXPECT_NEAR(nets::grounding_loss(attention, evidence).item<double>(), -std::log(0.75), 1e-6);
  EXPECT_EQ(nets::grounding_loss(attention, torch::zeros({2, 4})).item<double>(), 0.0);
}

TEST(ReferenceMllm, GroundingTeachesTheAttentionToLookAtTheEvidence) {
  // The same tiny training with and without the grounding loss: with it, the
  // first glimpse puts clearly more of its mass on the sign, the face, the
  // name tag and the asked-about object.
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  ReferenceTrainOptions o;
  o.manifests = {t.dir / "synth/actions.jsonl", t.dir / "synth/vqa.jsonl"};
  o.epochs = 6;
  o.learning_rate = 3e-3;
  o.batch_images = 8;
  o.width = 8;
  o.augment = false;
  auto mean_on_evidence = [&](double grounding) {
    o.grounding = grounding;
    o.out = d / ("g" + std::to_string(grounding) + ".pt");
    auto report = train_reference_mllm(o);
    EXPECT_GT(report.grounded_questions, 0);
    double sum = 0;
    int n = 0;
    for (const auto& row : ReferenceMllm::load(o.out)->evaluate(o.manifests, "train"))
      if (row.evidence_attention >= 0) sum += row.evidence_attention * row.questions, n += row.questions;
    return sum / n;
  };
  double without = mean_on_evidence(0.0), with = mean_on_evidence(1.0);
  std::printf("attention on evidence: %.3f without grounding, %.3f with\n", without, with);
  EXPECT_GT(with, without + 0.05);
}

}  // namespace scrim

namespace scrim {

TEST(ReferenceMllm, TrainingContinuesFromAModelFile) {
  // --init starts from the model's weights, vocabulary and answers: a model
  // that has fitted 16 pictures starts its continued training at the low loss
  // it ended with, not at a fresh network's, and keeps its answers.
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  ReferenceTrainOptions o;
  o.manifests = {t.dir / "synth/vqa.jsonl"};
  o.max_images = 16;  // one step an epoch
  o.epochs = 12;
  o.learning_rate = 2e-3;
  o.grounding = 0;  // the answer loss alone
  o.augment = false;
  o.out = d / "fitted.pt";
  double fresh_first = 0, fresh_last = 0, continued_first = 0;
  auto fitted = train_reference_mllm(o, [&](int step, int, double loss) { (step == 1 ? fresh_first : fresh_last) = loss; });
  ASSERT_LT(fresh_last, 0.7 * fresh_first) << "the first training did not fit: " << fresh_first << " -> " << fresh_last;
  o.init = o.out;
  o.epochs = 1;
  o.out = d / "continued.pt";
  auto report = train_reference_mllm(o, [&](int step, int, double loss) { if (step == 1) continued_first = loss; });
  // Without --init the same seed would start at exactly fresh_first.
  EXPECT_LT(continued_first, 0.8 * fresh_first) << "fresh " << fresh_first << ", continued " << continued_first;
  EXPECT_EQ(report.answers, fitted.answers);
  OracleRequest req{{t.image(0)}, "How many people are there? Answer with a single word or number.", {}};
  EXPECT_FALSE(ReferenceMllm::load(o.out)->query(req).text.empty());

  // Data asking for an answer the model does not know is a usage error.
  auto manifest = d / "zebra.jsonl";
  {
    std::ofstream f(manifest);
    f << R"({"attributes":[],"name":"zebra","scrim_manifest":1})" << "\n";
    f << R"({"id":"z0","media":{"images":[")" << (t.dir / "synth/images/train/train-000000.png").string()
      << R"("]},"split":"train","task":{"answers":["zebra","zebra","zebra"],"question":"What animal is this?","type":"vqa"}})" << "\n";
  }
  o.init = t.dir / "tiny.pt";
  o.manifests = {manifest};
  try {
    train_reference_mllm(o);
    ADD_FAILURE() << "expected a usage error";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("'zebra'"), std::string::npos) << e.what();
  }
}

}  // namespace scrim
