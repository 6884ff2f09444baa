// The price of hiding in the placement search (method/answer_price.h): a picture's questions are the samples that
// ask about the same images or the same frames of the same video, and its price is minus the local model's
// log-odds margin averaged over them, read with the given picture in place of the sample's own.
#include "method/answer_price.h"

#include <algorithm>
#include <cmath>

#include <gtest/gtest.h>

#include "reference/fitted_reference.h"
#include "reference/reference_fixture.h"
#include "reference/reference_whitebox.h"
#include "test_util.h"

namespace scrim::method {
namespace {

Sample on_images(std::vector<std::string> images) {
  Sample s;
  s.media.images = std::move(images);
  return s;
}

Sample on_video(std::string video, std::vector<int> frames) {
  Sample s;
  s.media.video = std::move(video);
  s.media.frames = std::move(frames);
  return s;
}

}  // namespace

TEST(AnswerPrice, QuestionsAreGroupedByTheirPicture) {
  const std::vector<Sample> samples = {on_images({"a.png"}),          on_images({"b.png"}),  on_images({"a.png"}),
                                       on_video("v.mp4", {1, 2}),      on_video("v.mp4", {3}), on_video("v.mp4", {1, 2}),
                                       on_images({"a.png", "b.png"}), on_video("w.mp4", {1, 2})};
  TrainingSet set;
  for (const auto& s : samples) set.samples.push_back(&s);
  const std::vector<std::vector<int64_t>> expected = {{0, 2}, {1}, {0, 2}, {3, 5}, {4}, {3, 5}, {6}, {7}};
  EXPECT_EQ(questions_on_each_picture(set), expected);
}

TEST(AnswerPrice, APicturesPriceIsMinusItsQuestionsMeanMarginOnThatPicture) {
  auto& tiny = testing::TinyReference::get();
  testing::ScratchDir dir;
  // Fitted to a few pictures, so that its answers depend on the picture.
  const auto model = ReferenceMllm::load(testing::fitted_reference(tiny.dir / "synth/vqa.jsonl", dir / "fitted.pt"));
  const TrainingSet set = load_training_set(tiny.dir / "synth/vqa.jsonl", "train", 64, 1, 0);
  const auto questions = questions_on_each_picture(set);
  // Row 0's picture and the first row asking about another one.
  int64_t other = 1;
  while (other < static_cast<int64_t>(set.size()) && questions[0] == questions[static_cast<size_t>(other)]) ++other;
  ASSERT_LT(other, static_cast<int64_t>(set.size()));
  ASSERT_GE(questions[0].size(), 2u);  // several questions to average
  // Row 0's picture replaced by grey, the other's as it is.
  const auto grey = torch::full({1, 3, 64, 64}, 0.5);
  const auto pictures = torch::cat({grey, set.frames[static_cast<size_t>(other)]});
  // Each question asked alone of its picture.
  auto expected = [&](const torch::Tensor& picture, const std::vector<int64_t>& asked, double cap) {
    double sum = 0;
    for (auto q : asked) {
      auto margin = reference_answer_losses(*model, picture, {set.prompts[static_cast<size_t>(q)]},
                                            {set.answers[static_cast<size_t>(q)]}, {{0}})
                        .margin.item<double>();
      sum += cap > 0 ? std::max(margin, -cap) : margin;
    }
    return sum / static_cast<double>(asked.size());
  };
  // The model reads the picture enough for the grey one to be told from row 0's own.
  ASSERT_GT(std::abs(expected(grey, questions[0], 0) - expected(set.frames[0], questions[0], 0)), 1e-3);
  for (double cap : {0.0, 0.05}) {
    SCOPED_TRACE(cap);
    const auto price = picture_answer_loss(*model, set, pictures, {0, other}, questions, cap);
    ASSERT_EQ(price.sizes(), (std::vector<int64_t>{2}));
    EXPECT_NEAR(price[0].item<double>(), expected(grey, questions[0], cap), 1e-4);
    EXPECT_NEAR(price[1].item<double>(), expected(pictures.slice(0, 1), questions[static_cast<size_t>(other)], cap), 1e-4);
  }
}

}  // namespace scrim::method
