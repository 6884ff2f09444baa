#include "scrim/eval/evaluation.h"

#include <cmath>

#include <gtest/gtest.h>

#include "oracle/reference_fixture.h"
#include "scrim/core/error.h"
#include "scrim/eval/real_photos.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {

TEST(Evaluation, ProtocolResultsReportAndCacheReuse) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  EvalOptions o;
  o.manifest = t.dir / "synth/actions.jsonl";
  o.protectors = {"raw", "pixelate:block=16"};
  o.mllm = "reference:" + t.model_file.string();
  o.oracle.cache = d / "cache.sqlite";
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
  std::string html = render_html_report(r);
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

TEST(Evaluation, SeveralAttackerSeedsReportTheMeanAndSpread) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  EvalOptions o;
  o.manifest = t.dir / "synth/actions.jsonl";
  o.protectors = {"pixelate:block=8"};
  o.mllm = "reference:" + t.model_file.string();
  o.oracle.cache = d / "cache.sqlite";
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
  EXPECT_NE(render_html_report(r).find(" ± "), std::string::npos);

  o.attacker_seeds = 0;
  EXPECT_THROW(run_evaluation(o), UsageError);
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
