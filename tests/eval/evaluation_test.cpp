#include "scrim/eval/evaluation.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <tuple>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "oracle/flaky_oracle.h"
#include "reference/reference_fixture.h"
#include "scrim/core/error.h"
#include "scrim/data/manifest.h"
#include "scrim/eval/real_photos.h"
#include "scrim/reference/oracle_factory.h"
#include "scrim/task/answer_normalization.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

OracleStackOptions cached_in(const fs::path& cache) {
  OracleStackOptions s;
  s.cache = cache;
  return s;
}

// One protector, one small attacker trained one epoch on 16 pictures: the
// MLLM side of the protocol at its cheapest.
EvalOptions one_protector_quickly(const fs::path& manifest, const std::string& protector) {
  EvalOptions o;
  o.manifest = manifest;
  o.protectors = {protector};
  o.attackers = {"small"};
  o.attacker_epochs = 1;
  o.max_train = 16;
  o.independent_samples = 1;
  o.examples = 1;
  return o;
}

}  // namespace

TEST(Evaluation, ProtocolResultsReportAndCacheReuse) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  EvalOptions o;
  o.manifest = t.dir / "synth/actions.jsonl";
  o.protectors = {"raw", "pixelate:block=16"};
  o.mllm = "reference:" + t.model_file.string();
  o.oracle = make_oracle(o.mllm, cached_in(d / "cache.sqlite"));
  o.attackers = {"small"};
  o.attacker_epochs = 1;
  o.independent_samples = 3;
  auto r = run_evaluation(o);
  ASSERT_EQ(r["protectors"].size(), 2u);
  for (const auto& p : r["protectors"]) {
    EXPECT_GE(p["utility"].get<double>(), 0.0);
    EXPECT_LE(p["utility"].get<double>(), 1.0);
    EXPECT_EQ(p["utility_questions"], 8);
    EXPECT_GT(p["queries"].get<int>(), 8);  // task questions plus the private questions
    EXPECT_EQ(p["attackers"].size(), 1u);
    EXPECT_TRUE(p.contains("mllm_leakage"));
    EXPECT_TRUE(p.contains("ocr_character_recall"));
    EXPECT_EQ(p["examples"].size(), 4u);
  }
  EXPECT_GE(r["pareto_front"].size(), 1u);
  // The floor, hand-computed from the manifest: the mean over attributes with a
  // positive test label of their positive rate; identity: the most frequent one's share.
  Manifest m = read_manifest(o.manifest);
  double prevalence_sum = 0;
  int counted = 0;
  for (const auto& attr : m.attributes) {
    int known = 0, positive = 0;
    for (const Sample* s : m.split("test")) {
      auto it = s->privacy.attributes.find(attr);
      if (it == s->privacy.attributes.end() || it->second < 0) continue;
      ++known, positive += it->second == 1;
    }
    if (positive > 0) prevalence_sum += static_cast<double>(positive) / known, ++counted;
  }
  ASSERT_GT(counted, 0);
  EXPECT_NEAR(r["cmap_floor"].get<double>(), prevalence_sum / counted, 1e-12);
  std::map<std::string, int> identities;
  int with_identity = 0, most = 0;
  for (const Sample* s : m.split("test"))
    if (s->privacy.identity) most = std::max(most, ++identities[*s->privacy.identity]), ++with_identity;
  EXPECT_NEAR(r["identity_floor"].get<double>(), with_identity ? static_cast<double>(most) / with_identity : 0.0, 1e-12);
  // Leakage scales each cMAP between the floor (0) and raw (1).
  const double floor = r["cmap_floor"], raw = r["protectors"][0]["cmap"], pixelated = r["protectors"][1]["cmap"];
  ASSERT_GT(raw, floor);
  EXPECT_DOUBLE_EQ(r["cmap_raw"].get<double>(), raw);
  EXPECT_DOUBLE_EQ(r["protectors"][0]["leakage"].get<double>(), 1.0);
  EXPECT_NEAR(r["protectors"][1]["leakage"].get<double>(), (pixelated - floor) / (raw - floor), 1e-12);
  std::string html = render_html_report(r);
  EXPECT_NE(html.find("floor: reads nothing"), std::string::npos);
  EXPECT_NE(html.find("<th>leakage</th>"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("pixelate:block=16"), std::string::npos);
  EXPECT_NE(html.find("data:image/png;base64,"), std::string::npos);
  EXPECT_NE(html.find("fill='#22aa77'"), std::string::npos);  // the front is drawn in green
  // Running again answers every MLLM query from the cache.
  auto again = run_evaluation(o);
  for (const auto& p : again["protectors"]) {
    EXPECT_EQ(p["queries"], 0);
    EXPECT_GT(p["cache_hits"].get<int>(), 8);
  }
  EXPECT_DOUBLE_EQ(again["protectors"][0]["utility"], r["protectors"][0]["utility"]);

  o.protectors = {"raw", "nonsense"};
  EXPECT_THROW(run_evaluation(o), UsageError);
}

// The oracle is handed in: against one that fails one call in ten, the retry
// layer repeats the failed calls and the evaluation reports what it reports
// against the sound oracle, the failed attempts counted among its queries.
TEST(Evaluation, OneCallInTenFailingIsRetriedAndTheResultsStand) {
  auto& t = testing::TinyReference::get();
  EvalOptions o = one_protector_quickly(t.dir / "synth/actions.jsonl", "pixelate:block=16");
  o.oracle = wrap_oracle(ReferenceMllm::load(t.model_file));
  auto sound = run_evaluation(o)["protectors"][0];
  o.oracle = testing::flaky_stack(ReferenceMllm::load(t.model_file), testing::every_tenth_call_fails(1000));
  auto flaky = run_evaluation(o)["protectors"][0];
  for (const char* k : {"utility", "utility_probability", "utility_questions", "mllm_leakage", "mllm_leakage_by_type"})
    EXPECT_EQ(sound[k], flaky[k]) << k;
  const int64_t retries = o.oracle.retry->retries(), attempts = flaky["queries"];
  EXPECT_EQ(retries, attempts / 10);  // calls 9, 19, ... of all attempts failed, each retried once
  EXPECT_GT(retries, 0);
  EXPECT_EQ(attempts, sound["queries"].get<int64_t>() + retries);
}

// An MLLM that answers "yes" to everything: on the VQA manifest its accuracy is
// the share of "yes" answers of each question type, which the evaluation must
// report per type (utility_by_type) as well as overall.
TEST(Evaluation, VqaUtilityIsReportedPerQuestionType) {
  class AlwaysYes : public Oracle {
   public:
    OracleReply query(const OracleRequest&) override {
      OracleReply r;
      r.text = "yes";
      return r;
    }
    std::string model_id() const override { return "always-yes"; }
  };
  auto& t = testing::TinyReference::get();
  EvalOptions o = one_protector_quickly(t.dir / "synth/vqa.jsonl", "raw");
  o.oracle = wrap_oracle(std::make_shared<AlwaysYes>());
  auto p = run_evaluation(o)["protectors"][0];
  std::map<std::string, std::pair<double, int>> expected;
  double all = 0;
  int n = 0;
  const Manifest m = read_manifest(o.manifest);
  for (const Sample* s : m.split("test")) {
    double acc = vqa_accuracy("yes", s->task.vqa.answers);
    auto& [sum, count] = expected[s->task.vqa.question_type];
    sum += acc, ++count, all += acc, ++n;
  }
  ASSERT_GE(expected.size(), 2u);
  ASSERT_TRUE(p.contains("utility_by_type"));
  ASSERT_EQ(p["utility_by_type"].size(), expected.size());
  for (const auto& [type, v] : expected) EXPECT_NEAR(p["utility_by_type"][type].get<double>(), v.first / v.second, 1e-12) << type;
  EXPECT_NEAR(p["utility"].get<double>(), all / n, 1e-12);
  EXPECT_GT(p["utility_by_type"]["presence"].get<double>(), 0.0);  // "Is there a cup?" is sometimes yes
  EXPECT_EQ(p["utility_by_type"]["count"].get<double>(), 0.0);
}

// An MLLM whose yes/no answer follows the picture's pixels: raw and pixelated pictures get different answers on
// some questions, and the evaluation pairs each protector's per-question utilities with raw's.
TEST(Evaluation, UtilityIsComparedWithRawsOnTheSameQuestions) {
  class AnswersByPixels : public Oracle {
   public:
    OracleReply query(const OracleRequest& request) override {
      uint64_t sum = 0;
      for (const auto& image : request.images) sum += static_cast<uint64_t>(cv::sum(image)[0]);
      OracleReply r;
      r.text = (sum / 7) % 2 ? "yes" : "no";
      return r;
    }
    std::string model_id() const override { return "answers-by-pixels"; }
  };
  auto& t = testing::TinyReference::get();
  EvalOptions o = one_protector_quickly(t.dir / "synth/vqa.jsonl", "raw");
  o.protectors = {"raw", "pixelate:block=16"};
  o.oracle = wrap_oracle(std::make_shared<AnswersByPixels>());
  auto r = run_evaluation(o);
  const auto raw = r["protectors"][0]["utility_by_question"].get<std::vector<double>>();
  const auto pixelated = r["protectors"][1]["utility_by_question"].get<std::vector<double>>();
  ASSERT_EQ(raw.size(), r["protectors"][0]["utility_questions"].get<size_t>());
  ASSERT_EQ(pixelated.size(), raw.size());
  const double n = static_cast<double>(raw.size());
  double mean = 0, sum = 0;
  for (size_t q = 0; q < raw.size(); ++q) mean += (pixelated[q] - raw[q]) / n, sum += pixelated[q];
  EXPECT_NEAR(sum / n, r["protectors"][1]["utility"].get<double>(), 1e-12);
  double squares = 0;
  for (size_t q = 0; q < raw.size(); ++q) squares += (pixelated[q] - raw[q] - mean) * (pixelated[q] - raw[q] - mean);
  const double standard_error = std::sqrt(squares / (n - 1) / n);
  ASSERT_GT(standard_error, 0.0);  // the two answer differently on some questions
  const auto gap = r["protectors"][1]["utility_vs_raw"];
  EXPECT_NEAR(gap[0].get<double>(), mean, 1e-12);
  EXPECT_NEAR(gap[1].get<double>(), standard_error, 1e-12);
  EXPECT_EQ(r["protectors"][0]["utility_vs_raw"], (nlohmann::json{0.0, 0.0}));
  EXPECT_NE(render_html_report(r).find(" vs raw)"), std::string::npos);
}

TEST(Evaluation, SeveralAttackerSeedsReportTheMeanAndSpread) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  EvalOptions o;
  o.manifest = t.dir / "synth/actions.jsonl";
  o.protectors = {"pixelate:block=8", "raw"};
  o.mllm = "reference:" + t.model_file.string();
  o.oracle = make_oracle(o.mllm, cached_in(d / "cache.sqlite"));
  o.attackers = {"small"};
  o.attacker_epochs = 1;
  o.attacker_seeds = 2;
  o.independent_samples = 0;
  o.seed = 5;
  auto r = run_evaluation(o);
  EXPECT_EQ(r["attacker_seeds"], 2);
  const auto& p = r["protectors"][0];
  ASSERT_EQ(p["attackers"].size(), 2u);
  EXPECT_EQ(p["attackers"][0]["seed"], 5);
  EXPECT_EQ(p["attackers"][1]["seed"], 6);
  double c1 = p["attackers"][0]["cmap"], c2 = p["attackers"][1]["cmap"];
  EXPECT_NE(c1, c2);  // the second seed trains a different attacker
  EXPECT_DOUBLE_EQ(p["cmap_by_seed"][0].get<double>(), c1);
  EXPECT_DOUBLE_EQ(p["cmap_by_seed"][1].get<double>(), c2);
  EXPECT_NEAR(p["cmap"].get<double>(), (c1 + c2) / 2, 1e-12);
  EXPECT_NEAR(p["cmap_sd"].get<double>(), std::abs(c1 - c2) / std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(p["privacy"].get<double>(), 1 - (c1 + c2) / 2, 1e-12);
  // The strongest seed's cMAP, and leakage from it against raw's strongest seed.
  EXPECT_DOUBLE_EQ(p["cmap_worst_seed"].get<double>(), std::max(c1, c2));
  const auto& raw = r["protectors"][1];
  const double floor = r["cmap_floor"], raw_worst = std::max(raw["cmap_by_seed"][0].get<double>(), raw["cmap_by_seed"][1].get<double>());
  EXPECT_NEAR(p["leakage_worst_seed"].get<double>(), (std::max(c1, c2) - floor) / (raw_worst - floor), 1e-12);
  EXPECT_DOUBLE_EQ(raw["leakage_worst_seed"].get<double>(), 1.0);
  EXPECT_NE(render_html_report(r).find(" ± "), std::string::npos);

  o.attacker_seeds = 0;
  EXPECT_THROW(run_evaluation(o), UsageError);
}

// Pulls every number of `attribute='...'` out of an SVG, in order.
std::vector<double> svg_values(const std::string& svg, const std::string& attribute) {
  std::vector<double> out;
  const std::string key = " " + attribute + "='";
  for (auto at = svg.find(key); at != std::string::npos; at = svg.find(key, at + 1)) out.push_back(std::stod(svg.substr(at + key.size())));
  return out;
}

TEST(EvaluationReport, ThePlotScalesToThePointsNamesThemAndDrawsFloorAndRaw) {
  // Protectors a few hundredths apart, as measured: on a 0-1 square they would share one corner.
  nlohmann::json r = {{"manifest", "m.jsonl"}, {"mllm", "x"}, {"train_samples", 10}, {"test_samples", 5}, {"attackers", {"small"}},
                      {"attacker_seeds", 1}, {"hypervolume", 0.1}, {"pareto_front", {"raw", "blur:sigma=2"}},
                      {"cmap_floor", 0.66}, {"identity_floor", 0.05}, {"cmap_raw", 0.96},
                      {"attribute_prevalence", {{"a10_face_partial", 0.34}}}, {"protectors", nlohmann::json::array()}};
  for (auto [spec, u, c] : {std::tuple{"raw", 0.93, 0.96}, {"blur:sigma=2", 0.83, 0.886}, {"pixelate:block=4", 0.80, 0.885}})
    r["protectors"].push_back({{"protector", spec}, {"utility", u}, {"cmap", c}, {"privacy", 1 - c}, {"mean_f1", 0.8},
                               {"identity_top1", 0.1}, {"queries", 0}, {"cache_hits", 0}, {"seconds", 1},
                               {"leakage", (c - 0.66) / 0.3}, {"examples", nlohmann::json::array()},
                               {"attackers", {{{"arch", "small"}, {"seed", 1}, {"per_attribute_ap", {{"a10_face_partial", 0.91}}}}}}});
  std::string html = render_html_report(r);
  auto svg = html.substr(html.find("<svg"), html.find("</svg>") - html.find("<svg"));
  auto cx = svg_values(svg, "cx"), cy = svg_values(svg, "cy");
  ASSERT_EQ(cx.size(), 3u);
  const double width = svg_values(svg, "width")[0];
  // The points spread over most of the plot, not into a corner.
  EXPECT_GT(*std::max_element(cx.begin(), cx.end()) - *std::min_element(cx.begin(), cx.end()), 0.5 * width);
  // Their names are written beside them, and the floor and raw are drawn as levels.
  EXPECT_NE(svg.find("blur:sigma=2</text>"), std::string::npos);
  EXPECT_NE(svg.find("floor: reads nothing (cMAP 0.660)"), std::string::npos);
  EXPECT_NE(svg.find("raw (cMAP 0.960)"), std::string::npos);
  // The floor's level (privacy 1 - 0.66) lies inside the plot, above every point (more private than any).
  auto floor_line = svg.substr(svg.rfind("<line", svg.find("floor: reads nothing")));
  const double floor_y = svg_values(floor_line, "y1")[0];
  EXPECT_GT(floor_y, 0.0);
  EXPECT_LT(floor_y, *std::min_element(cy.begin(), cy.end()));
  // The per-attribute table names the floor of each attribute.
  EXPECT_NE(html.find("a10_face_partial (0.34)"), std::string::npos);
}

TEST(RealEvaluation, FacesTextAndPeopleBeforeAndAfter) {
  fs::path realdata = fs::path(SCRIM_SHARED_DIR) / "realdata";
  if (!fs::exists(realdata / "faces")) GTEST_SKIP() << "no ../shared/realdata";
  RealEvalOptions o;
  o.realdata = realdata;
  o.protectors = {"raw", "regions:faces,mode=solid"};
  o.limit = 2;
  auto r = run_real_evaluation(o);
  ASSERT_EQ(r["protectors"].size(), 2u);
  double before = r["protectors"][0]["faces"]["yunet"], after = r["protectors"][1]["faces"]["yunet"];
  EXPECT_GT(before, 0.8);
  EXPECT_LT(after, 0.2);
  EXPECT_GT(r["protectors"][0]["faces_total"].get<int>(), 10);
  EXPECT_NE(format_real_evaluation(r).find("YuNet"), std::string::npos);
  o.realdata = "/nonexistent";
  EXPECT_THROW(run_real_evaluation(o), Error);
}

}  // namespace scrim
