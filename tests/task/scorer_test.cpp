#include "scrim/task/scorer.h"

#include <cmath>

#include <gtest/gtest.h>

#include "scrim/core/error.h"

namespace scrim {
namespace {

Manifest action_manifest() {
  Manifest m;
  m.label_sets["acts"] = {"standing", "walking", "running", "waving", "brush hair"};
  Sample s;
  s.id = "a";
  s.split = "test";
  s.media.images = {"a.png"};
  s.task.kind = Task::Kind::kAction;
  s.task.label = "waving";
  s.task.label_set = "acts";
  m.samples.push_back(s);
  return m;
}

OracleReply reply(const std::string& text, std::vector<TokenAlternative> top = {}) {
  OracleReply r;
  r.text = text;
  if (!top.empty()) r.logprobs.push_back({top[0].token, top[0].logprob, top});
  return r;
}

}  // namespace

TEST(ClassificationScorer, MatchesNormalisedAnswers) {
  ClassificationScorer scorer(std::vector<std::pair<std::string, std::string>>{{"hopping", "running"}});
  auto labels = action_manifest().label_sets["acts"];
  EXPECT_EQ(scorer.match_label("Waving.", labels), "waving");
  EXPECT_EQ(scorer.match_label("The person is waving their hand", labels), "waving");
  EXPECT_EQ(scorer.match_label("She waves", labels), "waving");
  EXPECT_EQ(scorer.match_label("brushing her hair", labels), "brush hair");
  EXPECT_EQ(scorer.match_label("hopping", labels), "running");
  EXPECT_EQ(scorer.match_label("walking or running", labels), "");  // ambiguous
  EXPECT_EQ(scorer.match_label("dancing", labels), "");
}

TEST(ClassificationScorer, UtilityProbabilityAndLoss) {
  Manifest m = action_manifest();
  ClassificationScorer scorer;
  EXPECT_NE(scorer.prompt(m.samples[0], m).find("standing, walking, running, waving, brush hair"), std::string::npos);
  auto hit = scorer.score(m.samples[0], m, reply("waving", {{"waving", std::log(0.7)}, {"walking", std::log(0.2)}}));
  EXPECT_EQ(hit.utility, 1.0);
  EXPECT_NEAR(hit.probability, 0.7, 1e-9);
  EXPECT_NEAR(hit.loss, -(std::log(0.7) - std::log(0.2)), 1e-9);  // minus the log-odds margin
  auto miss = scorer.score(m.samples[0], m, reply("walking"));
  EXPECT_EQ(miss.utility, 0.0);
  EXPECT_EQ(miss.probability, -1.0);
  EXPECT_EQ(miss.loss, 1.0);
}

TEST(AnswerMargin, DoesNotSaturateOnAConfidentAnswer) {
  // The reference MLLM on a clean image: -log p is 3e-6, the margin 12.8; a probe that
  // moves the runner-up by 0.5 changes the margin by 0.5 but -log p by ~1e-6 only.
  auto clean = reply("waving", {{"waving", -3e-6}, {"walking", -12.8}, {"running", -14.0}});
  auto probed = reply("waving", {{"waving", -5e-6}, {"walking", -12.3}, {"running", -14.0}});
  EXPECT_NEAR(answer_margin(clean, "waving"), 12.8 - 3e-6, 1e-9);
  EXPECT_NEAR(answer_margin(clean, "waving") - answer_margin(probed, "waving"), 0.5 + 2e-6, 1e-9);
  // Prefix tokens add up; the best other answer is the largest of the rest.
  EXPECT_NEAR(answer_margin(reply("waving", {{"wav", std::log(0.5)}, {" Wav", std::log(0.2)}, {"walk", std::log(0.3)}}), "waving"),
              std::log(0.7) - std::log(0.3), 1e-9);
  // The right answer outside the list: bounded by the smallest listed log-prob.
  EXPECT_NEAR(answer_margin(reply("walking", {{"walking", std::log(0.6)}, {"running", std::log(0.3)}}), "waving"),
              std::log(0.1) - std::log(0.6), 1e-9);
  // Only the right answer listed (top_logprobs 1): the rest of the mass is the best other, exactly even near 1.
  EXPECT_NEAR(answer_margin(reply("waving", {{"waving", -1e-9}}), "waving"), -1e-9 - std::log(1e-9), 1e-6);
  EXPECT_TRUE(std::isnan(answer_margin(reply("waving"), "waving")));
}

TEST(AnswerProbability, CreditsFirstTokenPrefixes) {
  // A real tokenizer splits "waving" into "wav" + "ing": the first token carries the mass.
  auto r = reply("waving", {{"wav", std::log(0.5)}, {" Wav", std::log(0.2)}, {"walk", std::log(0.3)}});
  EXPECT_NEAR(answer_probability(r, "waving"), 0.7, 1e-9);
  EXPECT_EQ(answer_probability(reply("x"), "waving"), -1.0);
}

TEST(VqaScorer, SoftAccuracy) {
  Manifest m;
  Sample s;
  s.id = "q";
  s.split = "test";
  s.media.images = {"a.png"};
  s.task.kind = Task::Kind::kVqa;
  s.task.vqa = {"How many people are there?", {"2", "2", "two", "3", "3", "3", "3", "3", "3", "3"}, "count", std::nullopt};
  VqaScorer scorer;
  EXPECT_NEAR(scorer.score(s, m, reply("Two.")).utility, 0.9, 1e-12);
  EXPECT_NEAR(scorer.score(s, m, reply("3")).utility, 1.0, 1e-12);
  EXPECT_THROW(ClassificationScorer().score(s, m, reply("3")), UsageError);
}

}  // namespace scrim
