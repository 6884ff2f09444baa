// The anonymizer's trainer end to end on the tiny reference MLLM: a resumed
// run continues exactly, the query budget stops it cleanly, the white-box
// bound makes no queries, a run is never silently overwritten, --init-target
// starts from a protector's output, --fidelity keeps the output nearer its
// input, the control-space anonymizer (--anonymizer blend) trains, resumes
// exactly and logs its split-half gradient quality, and the trained model
// works as the `anonymizer:` protector.
#include "scrim/method/trainer.h"

#include <cmath>
#include <algorithm>
#include <fstream>
#include <set>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "method/anonymizer_model.h"
#include "method/blackbox_utility.h"
#include "method/training_set.h"
#include "oracle/flaky_oracle.h"
#include "reference/fitted_reference.h"
#include "reference/reference_fixture.h"
#include "scrim/core/error.h"
#include "scrim/data/manifest.h"
#include "scrim/data/synth.h"
#include "scrim/oracle/oracle_error.h"
#include "scrim/privacy/protector.h"
#include "scrim/reference/oracle_factory.h"
#include "test_util.h"

namespace scrim {
namespace {

using testing::ScratchDir;
using testing::TinyReference;

// The tiny reference MLLM as the CLI builds it, its replies cached in `out`.
OracleStack tiny_oracle(const std::filesystem::path& out, int64_t max_queries = 0) {
  OracleStackOptions s;
  s.cache = out / "oracle-cache.sqlite";
  s.budget.max_queries = max_queries;
  return make_oracle("reference:" + TinyReference::get().model_file.string(), s);
}

TrainOptions tiny_options(const std::filesystem::path& out) {
  auto& ref = TinyReference::get();
  TrainOptions o;
  o.manifest = ref.dir / "synth/actions.jsonl";
  o.mllm = "reference:" + ref.model_file.string();
  o.out = out;
  o.oracle = tiny_oracle(out);
  o.white_box = std::dynamic_pointer_cast<ReferenceMllm>(o.oracle.backend);
  o.steps = 4;
  o.batch = 2;
  o.probes = 3;
  o.scout_probes = 1;
  o.init_steps = 3;
  o.adversary_warmup = 2;
  o.adversary_restart = 2;
  o.width = 4;
  o.depth = 2;
  o.max_train = 16;
  o.checkpoint_every = 1;
  return o;
}

// The control-space anonymizer at test size, without history (it would couple the probes' halves).
TrainOptions tiny_blend_options(const std::filesystem::path& out) {
  auto o = tiny_options(out);
  o.anonymizer = "blend";
  o.blend_grid = 4;
  o.bank = "blur:sigma=2,fill:value=0.5";
  o.history = "none";
  return o;
}

// The blend anonymizer, privacy-pre-trained only: the white-box gradient (no black box), no game steps, the attackers
// warmed up for 20 steps, a tenth of each picture hidden.
TrainOptions tiny_pretrain_options(const std::filesystem::path& out, int pretrain_steps) {
  auto o = tiny_blend_options(out);
  o.gradient = "whitebox";
  o.steps = 0;
  o.adversary_warmup = 20;
  o.privacy_pretrain = pretrain_steps;
  o.hide_budget = 0.1;
  return o;
}

// A reference model fitted to the tiny set's first 16 training pictures' action questions.
std::filesystem::path fitted_reference(const std::filesystem::path& out) {
  return testing::fitted_reference(TinyReference::get().dir / "synth/actions.jsonl", out);
}

std::vector<nlohmann::json> read_log(const std::filesystem::path& path) {
  std::vector<nlohmann::json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST(Trainer, AResumedRunContinuesExactly) {
  ScratchDir dir;
  auto straight = tiny_options(dir / "straight");
  straight.adversary_steps = 2;  // the extra attacker updates replay exactly too
  auto r = train_anonymizer(straight);
  EXPECT_EQ(r.steps_done, 4);
  EXPECT_EQ(r.stopped, "done");
  EXPECT_EQ(r.queries, 4 * (2 + 2 * 2 * 3));  // per step: a center and q pairs per sample

  auto cut = tiny_options(dir / "cut");
  cut.adversary_steps = 2;
  cut.oracle = tiny_oracle(cut.out, 30);  // stops in step 3, as a kill would
  EXPECT_EQ(train_anonymizer(cut).steps_done, 2);
  cut.oracle = tiny_oracle(cut.out);
  cut.resume = true;
  EXPECT_EQ(train_anonymizer(cut).steps_done, 4);

  auto a = read_log(dir / "straight/train-log.jsonl"), b = read_log(dir / "cut/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);  // the initialisation record and 4 steps
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i)
    for (const char* k : {"privacy_loss", "utility_loss", "norm_u", "norm_p", "adversary_loss", "queries"})
      EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " field " << k;
  EXPECT_EQ(testing::read_text(dir / "straight/anonymizer.pt").size(), testing::read_text(dir / "cut/anonymizer.pt").size());
  auto img = TinyReference::get().image(0);
  auto pa = make_protector("anonymizer:" + (dir / "straight/anonymizer.pt").string())->protect(img);
  auto pb = make_protector("anonymizer:" + (dir / "cut/anonymizer.pt").string())->protect(img);
  EXPECT_EQ(cv::norm(pa, pb, cv::NORM_INF), 0.0);
}

TEST(Trainer, BlendAnonymizerTrainsInItsControlsResumesExactlyAndLogsItsGradientQuality) {
  ScratchDir dir;
  auto blend = [&](const std::string& name) {
    auto o = tiny_blend_options(dir / name);
    o.blend_residual = true;
    return o;
  };
  auto r = train_anonymizer(blend("straight"));
  EXPECT_EQ(r.queries, 4 * (2 + 2 * 2 * 3));
  auto cut = blend("cut");
  cut.oracle = tiny_oracle(cut.out, 30);
  EXPECT_EQ(train_anonymizer(cut).steps_done, 2);
  cut.oracle = tiny_oracle(cut.out);
  cut.resume = true;
  EXPECT_EQ(train_anonymizer(cut).steps_done, 4);
  auto a = read_log(dir / "straight/train-log.jsonl"), b = read_log(dir / "cut/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i) {
    for (const char* k : {"privacy_loss", "utility_loss", "norm_u", "norm_p", "split_half_cos"}) EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " " << k;
    // Every step measures its own gradient quality from its two halves of probes.
    ASSERT_TRUE(a[i]["split_half_cos"].is_number());
    EXPECT_GE(a[i]["split_half_cos"].get<double>(), 0.0);
    EXPECT_LE(a[i]["split_half_cos"].get<double>(), 1.0);
    EXPECT_TRUE(a[i]["flat_pairs"].is_number());
  }
  auto img = TinyReference::get().image(0);
  auto pa = make_protector("anonymizer:" + (dir / "straight/anonymizer.pt").string())->protect(img);
  auto pb = make_protector("anonymizer:" + (dir / "cut/anonymizer.pt").string())->protect(img);
  EXPECT_EQ(cv::norm(pa, pb, cv::NORM_INF), 0.0);
  auto bad = blend("bad");
  bad.bank = "swirl";
  EXPECT_THROW(train_anonymizer(bad), UsageError);
}

TEST(Trainer, StopsCleanlyWhenTheQueryBudgetIsSpent) {
  ScratchDir dir;
  auto o = tiny_options(dir / "run");
  o.oracle = tiny_oracle(o.out, 20);  // one step costs 14
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.stopped, "budget");
  EXPECT_EQ(r.steps_done, 1);
  EXPECT_TRUE(std::filesystem::exists(dir / "run/checkpoint.pt"));
  EXPECT_TRUE(std::filesystem::exists(dir / "run/anonymizer.pt"));
  EXPECT_EQ(read_log(dir / "run/train-log.jsonl").size(), 2u);
}

TEST(Trainer, WhiteBoxBoundReadsGradientsWithoutQueries) {
  ScratchDir dir;
  auto o = tiny_options(dir / "run");
  o.gradient = "whitebox";
  o.steps = 2;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.queries, 0);
  EXPECT_EQ(r.steps_done, 2);
  EXPECT_GT(r.last["norm_u"].get<double>(), 0.0);
  o.oracle = make_oracle("openai:http://127.0.0.1:9/v1#m");  // a black box: no gradients to read
  o.white_box = nullptr;
  EXPECT_THROW(train_anonymizer(o), UsageError);
}

TEST(Trainer, ExtraAdversaryStepsTrainTheAttackersHarder) {
  ScratchDir dir;
  auto one = tiny_options(dir / "one");
  one.gradient = "whitebox";  // no queries: the privacy side is what differs
  one.steps = 5;
  auto three = one;
  three.out = dir / "three";
  three.adversary_steps = 3;
  train_anonymizer(one);
  train_anonymizer(three);
  auto a = read_log(dir / "one/train-log.jsonl"), b = read_log(dir / "three/train-log.jsonl");
  ASSERT_EQ(a.size(), 6u);
  ASSERT_EQ(b.size(), 6u);
  EXPECT_EQ(a[1]["privacy_loss"], b[1]["privacy_loss"]);  // the same attackers before the first update
  // Then three updates a step instead of one: the attackers read the anonymizer's
  // output better, so their supervised loss on the samples of their last update
  // (logged before that update) is lower over the run (measured: at every step, by 6-15%).
  double loss_one = 0, loss_three = 0;
  for (size_t i = 2; i < a.size(); ++i) loss_one += a[i]["adversary_loss"].get<double>(), loss_three += b[i]["adversary_loss"].get<double>();
  EXPECT_LT(loss_three, 0.97 * loss_one);
  three.adversary_steps = 0;
  three.out = dir / "zero";
  EXPECT_THROW(train_anonymizer(three), UsageError);
}

// --privacy-cells focuses the blend weights' privacy gradient: a U-Net has none, and a residual
// would carry the privacy side around them. At 1/16 of a 4 x 4 grid (one cell) a white-box run trains.
TEST(Trainer, PrivacyCellsNeedTheBlendAnonymizerWithoutResidual) {
  ScratchDir dir;
  auto o = tiny_blend_options(dir / "run");
  o.gradient = "whitebox";
  o.steps = 2;
  o.privacy_cells = 1.0 / 16;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.steps_done, 2);
  EXPECT_EQ(nlohmann::json::parse(testing::read_text(dir / "run/config.json"))["privacy_cells"], 1.0 / 16);
  auto unet = tiny_options(dir / "unet");
  unet.privacy_cells = 0.1;
  EXPECT_THROW(train_anonymizer(unet), UsageError);
  o.blend_residual = true;
  o.out = dir / "residual";
  EXPECT_THROW(train_anonymizer(o), UsageError);
  o.blend_residual = false;
  o.privacy_cells = 1.5;
  EXPECT_THROW(train_anonymizer(o), UsageError);
}

TEST(Trainer, NeverOverwritesARunOrResumesUnderAnotherConfiguration) {
  ScratchDir dir;
  auto o = tiny_options(dir / "run");
  o.steps = 1;
  train_anonymizer(o);
  EXPECT_THROW(train_anonymizer(o), UsageError);
  o.resume = true;
  // A recipe's name only labels fields compared themselves: a run started with --recipe resumes with them spelt out.
  o.recipe = "head";
  EXPECT_NO_THROW(train_anonymizer(o));
  o.probes = 5;
  try {
    train_anonymizer(o);
    FAIL() << "resumed under another configuration";
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("probes"), std::string::npos) << e.what();
  }
  o.probes = 3;
  o.history = "sometimes";
  EXPECT_THROW(train_anonymizer(o), UsageError);
}

TEST(Trainer, SweepTrainsOneAnonymizerPerPreference) {
  ScratchDir dir;
  auto o = tiny_options(dir / "sweep");
  o.steps = 1;
  auto front = train_preference_sweep(o, 2);
  ASSERT_EQ(front["preferences"].size(), 2u);
  EXPECT_NEAR(front["preferences"][0]["preference"].get<double>(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(front["preferences"][1]["preference"].get<double>(), 2.0 / 3, 1e-12);
  for (const auto& p : front["preferences"]) EXPECT_TRUE(std::filesystem::exists(p["anonymizer"].get<std::string>()));
  EXPECT_TRUE(std::filesystem::exists(dir / "sweep/front.json"));
}

TEST(AnonymizerProtector, ProtectsAnySizeAndRejectsBadFiles) {
  ScratchDir dir;
  auto o = tiny_options(dir / "run");
  o.gradient = "whitebox";
  o.steps = 1;
  auto r = train_anonymizer(o);
  auto p = make_protector("anonymizer:" + r.anonymizer.string());
  cv::Mat odd(150, 201, CV_8UC3, cv::Scalar(40, 120, 200));
  auto out = p->protect(odd);
  EXPECT_EQ(out.size(), odd.size());
  EXPECT_EQ(out.type(), CV_8UC3);
  // The checkpoint works as a model file too.
  EXPECT_NO_THROW(make_protector("anonymizer:" + (dir / "run/checkpoint.pt").string()));
  EXPECT_THROW(make_protector("anonymizer:" + (dir / "missing.pt").string()), Error);
  testing::write_text(dir / "junk.pt", "not a model");
  EXPECT_THROW(make_protector("anonymizer:" + (dir / "junk.pt").string()), Error);
  EXPECT_THROW(make_protector("anonymizer"), UsageError);
}

// The oracle is handed in, so a run can meet an unreliable one: one call in ten
// fails (each transient fault in turn), the retry layer repeats it, and the run
// logs exactly what a run against the sound oracle logs.
TEST(Trainer, OneCallInTenFailingIsRetriedAndNothingIsLost) {
  ScratchDir dir;
  auto sound = tiny_options(dir / "sound");
  auto expected = train_anonymizer(sound);
  auto flaky = tiny_options(dir / "flaky");
  flaky.oracle = testing::flaky_stack(ReferenceMllm::load(TinyReference::get().model_file), testing::every_tenth_call_fails(1000));
  auto r = train_anonymizer(flaky);
  EXPECT_EQ(r.steps_done, 4);
  EXPECT_EQ(r.stopped, "done");
  EXPECT_EQ(r.queries, expected.queries);
  EXPECT_EQ(flaky.oracle.budget->usage().queries, 62);  // 56 answered calls and the 6 failed ones among them
  EXPECT_EQ(flaky.oracle.retry->retries(), 6);          // calls 9, 19, ..., 59
  auto a = read_log(dir / "sound/train-log.jsonl"), b = read_log(dir / "flaky/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i)
    for (const char* k : {"privacy_loss", "utility_loss", "utility", "norm_u", "norm_p", "adversary_loss", "queries"})
      EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " field " << k;
}

// Failures beyond the retries stop the run with the oracle's error after the
// last finished step is checkpointed; --resume then ends where an undisturbed run ends.
TEST(Trainer, ARunStoppedByAnOutageResumesToTheSameEnd) {
  ScratchDir dir;
  auto sound = tiny_options(dir / "sound");
  train_anonymizer(sound);
  auto cut = tiny_options(dir / "cut");
  cut.checkpoint_every = 10;  // only the save at the failure keeps step 1
  // Calls 20-27 fail (step 2 of 4 makes calls 14-27): with one retry and at
  // most 4 calls in flight, some request fails twice.
  std::vector<Fault> outage(28, Fault::kNone);
  std::fill(outage.begin() + 20, outage.end(), Fault::kServerError);
  OracleStackOptions one_retry;
  one_retry.retry.max_retries = 1;
  cut.oracle = testing::flaky_stack(ReferenceMllm::load(TinyReference::get().model_file), outage, one_retry);
  EXPECT_THROW(train_anonymizer(cut), OracleError);
  EXPECT_EQ(read_log(dir / "cut/train-log.jsonl").size(), 2u);  // the initialisation and step 1
  cut.oracle = tiny_oracle(cut.out);
  cut.resume = true;
  auto resumed = train_anonymizer(cut);
  EXPECT_EQ(resumed.steps_done, 4);
  EXPECT_EQ(resumed.queries, 3 * 14);  // steps 2-4 only: step 1 was not lost
  auto a = read_log(dir / "sound/train-log.jsonl"), b = read_log(dir / "cut/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i)
    for (const char* k : {"privacy_loss", "utility_loss", "norm_u", "norm_p", "adversary_loss", "queries"})
      EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " field " << k;
}

// Mean absolute difference of two 8-bit images, in grey levels.
double mean_abs_diff(const cv::Mat& a, const cv::Mat& b) { return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels()); }

TEST(Trainer, InitTargetStartsTheGameFromAProtectorsOutput) {
  ScratchDir dir;
  auto run = [&](const std::string& name, const std::string& target) {
    auto o = tiny_options(dir / name);
    o.steps = 0;
    o.init_steps = 80;
    o.width = 8;
    o.init_target = target;
    if (!target.empty()) o.init_target_protector = make_protector(target);
    train_anonymizer(o);
    return make_protector("anonymizer:" + (dir / name / "checkpoint.pt").string());
  };
  auto identity = run("identity", "");
  auto pixelated = run("pixelated", "pixelate:block=8");
  auto target = make_protector("pixelate:block=8");
  double to_input = 0, to_target = 0, identity_to_input = 0, identity_to_target = 0;
  for (int i = 0; i < 4; ++i) {
    auto img = TinyReference::get().image(i);
    auto want = target->protect(img);
    auto out = pixelated->protect(img), id = identity->protect(img);
    to_input += mean_abs_diff(out, img);
    to_target += mean_abs_diff(out, want);
    identity_to_input += mean_abs_diff(id, img);
    identity_to_target += mean_abs_diff(id, want);
  }
  // Each initialisation lands nearer its own target than the other's (the
  // same seed and steps: the target is the only difference).
  EXPECT_LT(to_target, to_input);
  EXPECT_LT(identity_to_input, identity_to_target);
  auto bad = tiny_options(dir / "bad");
  bad.init_target = "blur:sigma=2";  // a spec without the protector built from it
  EXPECT_THROW(train_anonymizer(bad), UsageError);
  bad.init_target_protector = make_protector(bad.init_target);
  bad.anonymizer = "bdq";
  EXPECT_THROW(train_anonymizer(bad), UsageError);
}

TEST(Trainer, FidelityKeepsTheOutputNearerItsInput) {
  ScratchDir dir;
  auto run = [&](const std::string& name, double fidelity) {
    auto o = tiny_options(dir / name);
    o.steps = 12;
    o.init_steps = 80;
    o.width = 8;
    o.learning_rate = 5e-3;
    o.pareto = "preference";
    o.preference = 0.5;
    o.fidelity = fidelity;
    train_anonymizer(o);
    return make_protector("anonymizer:" + (dir / name / "anonymizer.pt").string());
  };
  auto free = run("free", 0), kept = run("kept", 3);
  double free_to_input = 0, kept_to_input = 0;
  for (int i = 0; i < 4; ++i) {
    auto img = TinyReference::get().image(i);
    free_to_input += mean_abs_diff(free->protect(img), img);
    kept_to_input += mean_abs_diff(kept->protect(img), img);
  }
  // The same seed, initialisation and probes: the prior is the only difference.
  EXPECT_LT(kept_to_input, free_to_input);
  auto bad = tiny_options(dir / "bad");
  bad.fidelity = -1;
  EXPECT_THROW(train_anonymizer(bad), UsageError);
}

// The paper's cross-dataset protocol: the task on one set (UCF101), the privacy
// labels on another (VISPR). Here the tiny synthetic train split twice: its task
// samples without their labels, and a privacy-only copy (labels, no task). The
// game's attackers must learn from the privacy-only samples, where a trainer
// that reads labels from the task samples alone finds none.
// The tiny train split as the cross-dataset protocol's `dir`/cross.jsonl: each sample twice, once without its labels
// and once as a privacy-only copy.
void write_cross_manifest(const ScratchDir& dir) {
  Manifest m = read_manifest(TinyReference::get().dir / "synth/actions.jsonl");
  std::vector<Sample> samples;
  int64_t labelled = 0;
  for (const auto& s : m.samples) {
    if (s.split != "train") continue;
    Sample task = s, privacy = s;
    task.privacy = {};
    privacy.id += "-privacy";
    privacy.task = {};
    if (!privacy.privacy.attributes.empty()) ++labelled;
    samples.push_back(task);
    samples.push_back(privacy);
  }
  ASSERT_GT(labelled, 0);
  m.samples = samples;
  relocate_manifest(m, dir.path());
  write_manifest(dir / "cross.jsonl", m);
}

TEST(Trainer, TrainsItsAttackersOnPrivacyOnlySamples) {
  ScratchDir dir;
  write_cross_manifest(dir);
  auto o = tiny_options(dir / "run");
  o.manifest = dir / "cross.jsonl";
  o.gradient = "whitebox";
  o.steps = 2;
  o.adversary_warmup = 3;
  o.max_train = 16;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.steps_done, 2);
  // The attackers' supervised loss is 0 when no sample of their batch carries a label.
  auto log = read_log(dir / "run/train-log.jsonl");
  ASSERT_EQ(log.size(), 3u);
  for (const auto& record : log) EXPECT_GT(record["adversary_loss"].get<double>(), 0.1) << record.dump();
}

// search-utility and search-measured price a picture by the questions asked about it; privacy-only samples have none.
// The split is refused when it is loaded, before the attackers' warm-up and before the run writes its configuration.
TEST(Trainer, PricedSearchesRefusePrivacyOnlySamplesBeforeTraining) {
  ScratchDir dir;
  write_cross_manifest(dir);
  for (const std::string placement : {"search-utility", "search-measured"}) {
    SCOPED_TRACE(placement);
    auto o = tiny_pretrain_options(dir / placement, 5);
    o.manifest = dir / "cross.jsonl";
    o.hide_shape = "head";
    o.placement = placement;
    o.surrogate_model = ReferenceMllm::load(TinyReference::get().model_file);
    ASSERT_NO_THROW(check_train_options(o));
    EXPECT_THROW(train_anonymizer(o), UsageError);
    EXPECT_FALSE(std::filesystem::exists(dir / placement / "config.json"));
  }
}

// Privacy-only pre-training (measured on its first batch, before and after) lowers the frozen attackers'
// privacy loss at the budget's hidden share; without a budget it is refused.
TEST(Trainer, PrivacyPretrainingLowersThePrivacyLossWithinTheBudget) {
  ScratchDir dir;
  auto o = tiny_pretrain_options(dir / "run", 100);
  EXPECT_NO_THROW(check_train_options(o));
  train_anonymizer(o);
  auto log = read_log(dir / "run/train-log.jsonl");
  ASSERT_FALSE(log.empty());
  const auto& first = log.front();
  ASSERT_TRUE(first.contains("pretrain_hidden")) << first.dump();
  double privacy_before = first["pretrain_privacy_loss"][0], privacy_after = first["pretrain_privacy_loss"][1];
  EXPECT_LT(privacy_after, privacy_before - 0.01) << first.dump();
  EXPECT_NEAR(first["pretrain_hidden"][0].get<double>(), 0.1, 1e-3) << first.dump();
  EXPECT_LE(first["pretrain_hidden"][1].get<double>(), 0.1 + 1e-3) << first.dump();
  o.hide_budget = 0;
  EXPECT_THROW(check_train_options(o), UsageError);
  o.hide_budget = 0.1;
  o.anonymizer = "unet";
  EXPECT_THROW(check_train_options(o), UsageError);
}

// --pretrain-adversary-steps: the attackers go on learning the pre-training's output, so the region is placed against
// attackers that have seen its hiding. From the same start (the same warmed-up attackers on the same first batch), the
// following attackers read the pre-training's final output better than the frozen ones do (their loss on the true
// labels, recorded before and after: 3.36 -> 1.49 against 3.36 -> 3.36).
// The steps are recorded in config.json; outside 0..64, or without a pre-training, they are refused.
TEST(Trainer, AttackersThatFollowThePretrainingReadItsOutputBetterThanFrozenOnes) {
  ScratchDir dir;
  auto run = [&](const std::string& name, int steps) {
    auto o = tiny_pretrain_options(dir / name, 60);
    o.pretrain_adversary_steps = steps;
    train_anonymizer(o);
    EXPECT_EQ(nlohmann::json::parse(testing::read_text(dir / name / "config.json"))["pretrain_adversary_steps"], steps);
    auto first = read_log(dir / name / "train-log.jsonl").front();
    EXPECT_TRUE(first.contains("pretrain_attacker_loss")) << first.dump();
    return first["pretrain_attacker_loss"];
  };
  const auto frozen = run("frozen", 0), following = run("following", 2);
  EXPECT_NEAR(frozen[0].get<double>(), following[0].get<double>(), 1e-6);
  EXPECT_LT(following[1].get<double>(), frozen[1].get<double>() - 0.1) << frozen << " " << following;
  auto o = tiny_pretrain_options(dir / "refused", 10);
  for (int steps : {-1, 65}) {
    o.pretrain_adversary_steps = steps;
    EXPECT_THROW(check_train_options(o), UsageError) << steps;
  }
  o.pretrain_adversary_steps = 64;
  EXPECT_NO_THROW(check_train_options(o));
  o.privacy_pretrain = 0;
  EXPECT_THROW(check_train_options(o), UsageError);  // nothing to follow
}

// --pretrain-search-attackers: while the attackers follow the pre-training, the search can score positions against
// their running mean ("average") or against them and their warmed-up start together ("start-and-current"). From the
// same start, each places the region otherwise than a search against the current attackers alone (the placement's
// cross-entropy to its targets differs). The averaged copy has learned part of what the following attackers learned
// (on the first batch's final output its loss lies between the warmed-up attackers' start and the following ones'
// end); the start's copy has learned nothing (it reads the final output no better than it read the first). Recorded
// in config.json; an unknown choice, or one without following attackers or without a search, is refused.
TEST(Trainer, TheSearchCanScorePositionsAgainstTheFollowingAttackersRunningMeanOrTheirStart) {
  ScratchDir dir;
  auto options = [&](const std::string& attackers) {
    auto o = tiny_pretrain_options(dir / attackers, 20);
    o.hide_shape = "head";
    o.blend_grid = 8;
    o.bank = "fill:value=0.5";
    o.placement = "search-only";
    o.pretrain_adversary_steps = 2;
    o.pretrain_search_attackers = attackers;
    return o;
  };
  auto run = [&](const std::string& attackers) {
    train_anonymizer(options(attackers));
    EXPECT_EQ(nlohmann::json::parse(testing::read_text(dir / attackers / "config.json"))["pretrain_search_attackers"], attackers);
    return read_log(dir / attackers / "train-log.jsonl").front();
  };
  const auto current = run("current"), average = run("average"), both = run("start-and-current");
  EXPECT_FALSE(current.contains("pretrain_average_attacker_loss") || current.contains("pretrain_start_attacker_loss")) << current.dump();
  ASSERT_TRUE(average.contains("pretrain_average_attacker_loss")) << average.dump();
  const double start = average["pretrain_average_attacker_loss"][0], averaged = average["pretrain_average_attacker_loss"][1];
  const double followed = average["pretrain_attacker_loss"][1];
  EXPECT_NEAR(start, average["pretrain_attacker_loss"][0].get<double>(), 1e-9);
  EXPECT_LT(averaged, start - 0.1) << average.dump();
  EXPECT_GT(averaged, followed + 0.1) << average.dump();
  ASSERT_TRUE(both.contains("pretrain_start_attacker_loss")) << both.dump();
  EXPECT_GT(both["pretrain_start_attacker_loss"][1].get<double>(), both["pretrain_start_attacker_loss"][0].get<double>() - 0.05)
      << both.dump();
  EXPECT_GT(both["pretrain_start_attacker_loss"][1].get<double>(), both["pretrain_attacker_loss"][1].get<double>() + 0.1) << both.dump();
  const double current_fit = current["pretrain_placement_loss"][1];
  for (const auto& other : {average, both})
    EXPECT_GT(std::abs(other["pretrain_placement_loss"][1].get<double>() - current_fit), 1e-4) << other.dump() << current.dump();
  auto o = options("average");
  ASSERT_NO_THROW(check_train_options(o));
  o.pretrain_adversary_steps = 0;
  EXPECT_THROW(check_train_options(o), UsageError);
  o.pretrain_adversary_steps = 2;
  o.placement = "gradient";
  EXPECT_THROW(check_train_options(o), UsageError);
  o.placement = "search-only";
  o.pretrain_search_attackers = "frozen";
  EXPECT_THROW(check_train_options(o), UsageError);
}

// --privacy-identity-weight reaches the game's privacy loss: the same warmed-up attackers on the same first batch
// (the pre-training's "before" figure) give a smaller loss without the identity term; the weight is recorded in
// config.json, and a negative one is refused.
TEST(Trainer, TheIdentityWeightReachesThePrivacyLoss) {
  ScratchDir dir;
  auto run = [&](const std::string& name, double weight) {
    auto o = tiny_pretrain_options(dir / name, 1);
    o.privacy_identity_weight = weight;
    train_anonymizer(o);
    EXPECT_EQ(nlohmann::json::parse(testing::read_text(dir / name / "config.json"))["privacy_identity_weight"], weight);
    return read_log(dir / name / "train-log.jsonl").front()["pretrain_privacy_loss"][0].get<double>();
  };
  const double whole = run("whole", 1.0), attributes = run("attributes", 0.0);
  EXPECT_LT(attributes, whole - 0.01) << attributes << " " << whole;
  auto o = tiny_blend_options(dir / "refused");
  o.privacy_identity_weight = -1;
  EXPECT_THROW(check_train_options(o), UsageError);
}

// With --pretrain-surrogate the pre-training weighs a local model's utility beside the privacy side: at a
// utility-heavy preference the region ends where that model loses less than after privacy-only pre-training
// (its loss on one fixed task batch, recorded either way). The surrogate is fitted to the 16 training
// pictures' questions, so that what it answers depends on what is hidden. Without a surrogate or a
// pre-training the option is refused.
TEST(Trainer, PretrainingWithASurrogatePlacesTheRegionWhereTheSurrogateLosesLess) {
  ScratchDir dir;
  const auto fitted = fitted_reference(dir / "fitted.pt");
  auto run = [&](const std::string& name, bool with_surrogate) {
    auto o = tiny_blend_options(dir / name);
    o.gradient = "whitebox";
    o.steps = 0;
    o.adversary_warmup = 20;
    o.privacy_pretrain = 60;
    o.batch = 8;
    o.hide_budget = 0.4;
    o.preference = 0.05;
    o.blend_grid = 8;
    o.bank = "fill:value=0.5";
    o.surrogate_model = ReferenceMllm::load(fitted);
    o.pretrain_surrogate = with_surrogate;
    train_anonymizer(o);
    auto first = read_log(dir / name / "train-log.jsonl").front();
    EXPECT_TRUE(first.contains("pretrain_surrogate_loss")) << first.dump();
    return first["pretrain_surrogate_loss"];
  };
  auto privacy_only = run("privacy-only", false), with_surrogate = run("with-surrogate", true);
  EXPECT_NEAR(privacy_only[0].get<double>(), with_surrogate[0].get<double>(), 1e-6);  // the same start
  EXPECT_LT(with_surrogate[1].get<double>(), with_surrogate[0].get<double>()) << with_surrogate;
  EXPECT_LT(with_surrogate[1].get<double>(), privacy_only[1].get<double>() - 0.05) << privacy_only << " " << with_surrogate;
  auto o = tiny_blend_options(dir / "refused");
  o.hide_budget = 0.25;
  o.pretrain_surrogate = true;
  o.privacy_pretrain = 10;
  EXPECT_THROW(check_train_options(o), UsageError);  // no surrogate
  o.surrogate_model = ReferenceMllm::load(fitted);
  EXPECT_NO_THROW(check_train_options(o));
  o.privacy_pretrain = 0;
  EXPECT_THROW(check_train_options(o), UsageError);  // nothing to weigh it in
}

// --placement search, search-only, search-utility and search-measured: the pre-training trains the placement scores
// toward each picture's searched target, so their cross-entropy against it on the first batch falls (recorded before
// and after).
// Without the cross-entropy term `search`'s rises (the privacy gradient alone moves the region away: 4.2 -> 6.0) and
// search-only's stays where it was to the digit (nothing else reaches the scores: 4.16 -> 4.16; with it, 3.92;
// search-utility's, priced by the tiny reference's answers, 4.16 -> 3.41). Without a pre-training or a head shape
// all are refused, the priced two without a surrogate to price the cells by too, and an unknown placement.
TEST(Trainer, PlacementSearchTrainsTheScoresTowardTheSearchedTargets) {
  ScratchDir dir;
  auto o = tiny_pretrain_options(dir / "run", 40);
  o.hide_shape = "head";
  o.blend_grid = 8;
  o.bank = "fill:value=0.5";
  for (const std::string placement : {"search", "search-only", "search-utility", "search-measured"}) {
    SCOPED_TRACE(placement);
    o.placement = placement;
    o.out = dir / placement;
    if (placement == "search-utility" || placement == "search-measured") {
      o.surrogate_model = nullptr;
      EXPECT_THROW(check_train_options(o), UsageError);  // nothing to price the cells by
      o.surrogate_model = ReferenceMllm::load(TinyReference::get().model_file);
    }
    EXPECT_NO_THROW(check_train_options(o));
    train_anonymizer(o);
    auto first = read_log(dir / placement / "train-log.jsonl").front();
    ASSERT_TRUE(first.contains("pretrain_placement_loss")) << first.dump();
    EXPECT_LT(first["pretrain_placement_loss"][1].get<double>(), first["pretrain_placement_loss"][0].get<double>() - 0.1) << first.dump();
    EXPECT_EQ(nlohmann::json::parse(testing::read_text(dir / placement / "config.json"))["placement"], placement);
    o.privacy_pretrain = 0;
    EXPECT_THROW(check_train_options(o), UsageError);
    o.privacy_pretrain = 10;
    o.hide_shape = "ellipse";  // the search is for a head-shaped region
    EXPECT_THROW(check_train_options(o), UsageError);
    o.hide_shape = "head";
    o.privacy_pretrain = 40;
  }
  o.placement = "nearest";
  EXPECT_THROW(check_train_options(o), UsageError);
}

// The colour fill:value=fit gives a trained model's placed region on the run's training pictures (RGB, float).
torch::Tensor fitted_colour_on_training_set(nets::BlendAnonymizerImpl& blend, const TrainOptions& o) {
  auto data = method::load_training_set(o.manifest, "train", o.size, o.frames, o.max_train);
  std::vector<int64_t> rows(data.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  auto sums = blend.fill_statistics(data.stack(rows));
  return (sums.slice(0, 0, 3) / sums[3]).to(torch::kFloat32);
}

// fill:value=fit: once the pre-training has placed the region (and every 50 of its steps on the way), the trainer
// sets the fill's colour to the mean of what it covers on the training pictures, records it and saves it with the
// weights. No game step follows, so
// the saved model's own statistics on the training set give the same colour; unfitted, it would stay grey.
TEST(Trainer, AFittedFillIsFittedToTheTrainingPicturesAfterThePretraining) {
  ScratchDir dir;
  auto o = tiny_blend_options(dir / "run");
  o.gradient = "whitebox";
  o.steps = 0;
  o.adversary_warmup = 2;
  o.privacy_pretrain = 5;
  o.hide_budget = 0.2;
  o.bank = "fill:value=fit";
  train_anonymizer(o);
  auto first = read_log(dir / "run/train-log.jsonl").front();
  ASSERT_TRUE(first.contains("fill_colour")) << first.dump();
  // Refitted during the pre-training too (from its first step), so that it weighs the fill it will get, not grey.
  ASSERT_TRUE(first.contains("pretrain_fill_colour")) << first.dump();
  double from_grey = 0;
  for (int c = 0; c < 3; ++c) from_grey = std::max(from_grey, std::abs(first["pretrain_fill_colour"][c].get<double>() - 0.5));
  EXPECT_GT(from_grey, 0.02) << first.dump();
  auto model = method::read_anonymizer(dir / "run/anonymizer.pt");
  auto& blend = *method::blend_anonymizer(model);
  auto expected = fitted_colour_on_training_set(blend, o);
  auto saved = blend.fill_colour();
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(first["fill_colour"][c].get<double>(), expected[c].item<double>(), 1e-4) << first.dump();
    EXPECT_NEAR(saved[c].item<double>(), expected[c].item<double>(), 1e-4);
  }
  EXPECT_GT((saved - 0.5).abs().max().item<double>(), 0.02) << saved;  // the synthetic pictures are not grey on average
}

// --pretrain-fill grey: the pre-training places the region against a grey fill — step for step what a bank with a
// grey fill does (same seed, same losses) — and the fill's colour is fitted to what the placed region hides once,
// after it. Refused without a fitted fill or without a pre-training.
TEST(Trainer, PretrainFillGreyPlacesTheRegionAgainstGreyAndFitsTheColourAfter) {
  ScratchDir dir;
  auto run = [&](const std::string& name, const std::string& bank, const std::string& pretrain_fill) {
    auto o = tiny_blend_options(dir / name);
    o.gradient = "whitebox";
    o.steps = 0;
    o.adversary_warmup = 2;
    o.privacy_pretrain = 5;
    o.hide_budget = 0.2;
    o.bank = bank;
    o.pretrain_fill = pretrain_fill;
    train_anonymizer(o);
    return read_log(dir / name / "train-log.jsonl").front();
  };
  const auto grey = run("grey", "fill:value=fit", "grey");
  const auto fixed = run("fixed", "fill:value=0.5", "fitted");
  const auto refitted = run("refitted", "fill:value=fit", "fitted");
  ASSERT_TRUE(grey.contains("pretrain_fill_colour")) << grey.dump();
  EXPECT_EQ(grey["pretrain_fill_colour"], nlohmann::json({0.5, 0.5, 0.5})) << grey.dump();
  for (const auto* key : {"pretrain_privacy_loss", "pretrain_hidden", "pretrain_attacker_loss"}) {
    EXPECT_EQ(grey[key], fixed[key]) << key;
    EXPECT_NE(grey[key], refitted[key]) << key;  // refitted, the pre-training sees another colour
  }
  auto model = method::read_anonymizer(dir / "grey/anonymizer.pt");
  auto& blend = *method::blend_anonymizer(model);
  auto o = tiny_blend_options(dir / "grey");
  auto expected = fitted_colour_on_training_set(blend, o);
  for (int c = 0; c < 3; ++c) EXPECT_NEAR(grey["fill_colour"][c].get<double>(), expected[c].item<double>(), 1e-4) << grey.dump();
  EXPECT_GT((blend.fill_colour() - 0.5).abs().max().item<double>(), 0.02) << blend.fill_colour();
  o.privacy_pretrain = 5;
  o.hide_budget = 0.2;
  o.pretrain_fill = "grey";
  o.bank = "fill:value=fit";
  EXPECT_NO_THROW(check_train_options(o));
  o.pretrain_fill = "pink";
  EXPECT_THROW(check_train_options(o), UsageError);
  o.pretrain_fill = "grey";
  o.bank = "fill:value=0.5";  // nothing to fit
  EXPECT_THROW(check_train_options(o), UsageError);
  o.bank = "fill:value=fit";
  o.privacy_pretrain = 0;  // nothing to place against grey
  EXPECT_THROW(check_train_options(o), UsageError);
}

// --candidates K: K pre-trained draws (the first is the run without the option), each answering the same
// training questions through the black box (counted in the run's queries, as the --candidate-baseline's are)
// and read by a fresh attacker; the run keeps the chosen draw, whose model answers those questions with the
// utility loss recorded for it. A budget too small for the draws, no pre-training, the white box, or a
// baseline without candidates are refused.
TEST(Trainer, CandidateDrawsAreScoredByTheBlackBoxAndTheChosenOneIsKept) {
  ScratchDir dir;
  const auto fitted = fitted_reference(dir / "fitted.pt");
  auto black_box = [&](const std::filesystem::path& out, int64_t max_queries = 0) {
    OracleStackOptions s;
    s.cache = out / "oracle-cache.sqlite";
    s.budget.max_queries = max_queries;
    return make_oracle("reference:" + fitted.string(), s);
  };
  auto options = [&](const std::string& name) {
    auto o = tiny_blend_options(dir / name);
    o.mllm = "reference:" + fitted.string();
    o.oracle = black_box(dir / name);
    o.steps = 0;
    o.adversary_warmup = 2;
    o.adversary_erasing = 2;  // the warm-up draws from torch's generator: the baseline's scoring must leave it as it was
    o.privacy_pretrain = 2;
    o.hide_budget = 0.2;  // a fifth of each picture greyed, where each draw puts it: the answers differ
    o.bank = "fill:value=0.5";
    o.blend_grid = 8;
    o.candidates = 3;
    o.candidate_questions = 100;  // more than the 16 training samples: every one
    return o;
  };
  auto o = options("run");
  o.candidate_baseline = "blur:sigma=2";
  o.candidate_baseline_protector = make_protector(o.candidate_baseline);
  // Every draw answers all 16 questions right, 0.25 above the blur, 2.24 standard errors (run alone): held to 2.5,
  // none is eligible and the best-answering one (the first of equals) is kept.
  o.candidate_lead = 2.5;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.queries, 4 * 16);
  auto first = read_log(dir / "run/train-log.jsonl").front();
  ASSERT_TRUE(first.contains("candidates")) << first.dump();
  const auto draws = first["candidates"];
  ASSERT_EQ(draws.size(), 3u);
  EXPECT_EQ(draws[0]["draw_seed"].get<uint64_t>(), o.seed);
  std::set<uint64_t> seeds;
  std::set<double> losses;
  for (const auto& d : draws) {
    seeds.insert(d["draw_seed"].get<uint64_t>());
    losses.insert(d["utility_loss"].get<double>());
    EXPECT_GT(d["attacker_loss"].get<double>(), 0) << d.dump();
    EXPECT_TRUE(d["utility"].get<double>() >= 0 && d["utility"].get<double>() <= 1) << d.dump();
  }
  EXPECT_EQ(seeds.size(), 3u);
  ASSERT_EQ(losses.size(), 3u);
  // The draws' losses lie apart by more than the check below allows, so it tells them apart.
  for (auto a = losses.begin(), b = std::next(a); b != losses.end(); ++a, ++b) ASSERT_GT(*b - *a, 1e-3) << *a << " " << *b;
  const int chosen = first["chosen"];
  EXPECT_EQ(chosen, 0);
  EXPECT_EQ(first["queries"], 64);
  ASSERT_TRUE(first.contains("baseline")) << first.dump();
  EXPECT_EQ(first["baseline"]["protector"], "blur:sigma=2");
  EXPECT_TRUE(first["baseline"]["utility"].get<double>() >= 0 && first["baseline"]["utility"].get<double>() <= 1) << first.dump();
  EXPECT_GT(first["baseline"]["attacker_loss"].get<double>(), 0) << first.dump();
  for (const auto& d : draws) EXPECT_NEAR(d["utility_gap"][0].get<double>(), first["baseline"]["utility"].get<double>() - d["utility"].get<double>(), 1e-9);
  // The run's --candidate-lead is the rule's: a draw is eligible when it leads the baseline by that many standard errors.
  EXPECT_EQ(first["baseline"]["lead"].get<double>(), o.candidate_lead);
  for (const auto& d : draws)
    EXPECT_EQ(d["eligible"].get<bool>(), -d["utility_gap"][0].get<double>() >= o.candidate_lead * d["utility_gap"][1].get<double>()) << d.dump();

  auto data = method::load_training_set(o.manifest, "train", o.size, o.frames, o.max_train);
  auto model = method::read_anonymizer(dir / "run/anonymizer.pt");
  auto check = black_box(dir / "check");
  method::BlackBoxUtility utility(*check.oracle, data, 2, o.top_logprobs, method::UtilityLoss::kMargin);
  // All 16 pictures in one forward pass, as the trainer protects them (one at a time, float rounding can move a
  // pixel across an 8-bit level of the PNG and the answer's margin with it).
  std::vector<int64_t> rows(data.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = static_cast<int64_t>(i);
  std::vector<std::vector<int64_t>> groups;
  torch::Tensor xp;
  {
    torch::NoGradGuard no_grad;
    xp = model.forward(data.stack(rows, &groups));
  }
  double sum = 0;
  for (int64_t row : rows) {
    auto frames = xp.index_select(0, torch::tensor(groups[static_cast<size_t>(row)], torch::kLong));
    sum += utility.evaluate(row, frames.reshape({1, -1, xp.size(2), xp.size(3)})).loss[0].item<double>();
  }
  EXPECT_NEAR(sum / static_cast<double>(data.size()), draws[chosen]["utility_loss"].get<double>(), 1e-4);

  // Held to the blur by just less than the first draw's lead (2.24 standard errors when run alone; the fitted
  // reference's answers vary with the thread count), the first draw, which also leaves the fresh attacker a higher
  // loss than the blur does, beats the baseline on both axes and no other draw is drawn.
  auto stop = options("stop");
  stop.candidate_baseline = o.candidate_baseline;
  stop.candidate_baseline_protector = o.candidate_baseline_protector;
  ASSERT_GT(draws[0]["utility_gap"][1].get<double>(), 0);
  stop.candidate_lead = -draws[0]["utility_gap"][0].get<double>() / draws[0]["utility_gap"][1].get<double>() - 0.01;
  ASSERT_TRUE(stop.candidate_lead > -5 && stop.candidate_lead < o.candidate_lead) << stop.candidate_lead;
  ASSERT_GT(draws[0]["attacker_loss"].get<double>(), first["baseline"]["attacker_loss"].get<double>());
  auto stopped = train_anonymizer(stop);
  EXPECT_EQ(stopped.queries, 2 * 16);
  EXPECT_EQ(stopped.selection, (nlohmann::json{{"drawn", 1}, {"chosen", 0}, {"dominates", true}}));
  auto stopped_first = read_log(dir / "stop/train-log.jsonl").front();
  EXPECT_EQ(stopped_first["candidates"].size(), 1u);
  EXPECT_EQ(stopped_first["candidates"][0]["pretrain_privacy_loss"], draws[0]["pretrain_privacy_loss"]);
  EXPECT_EQ(r.selection, (nlohmann::json{{"drawn", 3}, {"chosen", 0}, {"dominates", false}}));

  auto plain = options("plain");
  plain.candidates = 1;
  train_anonymizer(plain);
  EXPECT_EQ(read_log(dir / "plain/train-log.jsonl").front()["pretrain_privacy_loss"], draws[0]["pretrain_privacy_loss"]);

  auto small = options("small");
  small.oracle = black_box(dir / "small", 40);
  EXPECT_THROW(train_anonymizer(small), UsageError);
  auto refused = options("refused");
  refused.privacy_pretrain = 0;
  EXPECT_THROW(check_train_options(refused), UsageError);
  refused = options("refused");
  refused.gradient = "whitebox";
  EXPECT_THROW(check_train_options(refused), UsageError);
  refused = options("refused");
  refused.candidates = 1;
  refused.candidate_baseline = "blur:sigma=2";
  refused.candidate_baseline_protector = make_protector(refused.candidate_baseline);
  EXPECT_THROW(check_train_options(refused), UsageError);
  for (double lead : {std::nan(""), 6.0, -6.0}) {
    refused = options("refused");
    refused.candidate_lead = lead;
    EXPECT_THROW(check_train_options(refused), UsageError) << lead;
  }
}

TEST(Trainer, TrainsOnVideoClips) {
  ScratchDir dir;
  SynthOptions s;
  s.out = dir / "clips";
  s.train = 6;
  s.test = 0;
  s.clips = 8;
  s.seed = 3;
  generate_synth(s);
  auto o = tiny_options(dir / "run");
  o.manifest = dir / "clips/actions.jsonl";
  o.steps = 1;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.steps_done, 1);
  EXPECT_EQ(r.queries, 2 + 2 * 2 * 3);  // a clip is one query with its frames
}

TEST(Trainer, LearnsBdqBlurAndBinsForTheBdqProtector) {
  ScratchDir dir;
  auto o = tiny_options(dir / "bdq");
  o.anonymizer = "bdq";
  o.levels = 5;
  o.steps = 2;
  o.learning_rate = 0.05;
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.steps_done, 2);
  auto p = make_protector("bdq:model=" + r.anonymizer.string());
  EXPECT_EQ(p->spec(), "bdq:model=" + r.anonymizer.string() + ",difference=1");
  auto img = TinyReference::get().image(1);
  auto out = p->protect(img);
  ASSERT_EQ(out.size(), img.size());
  // Every value is one of the 5 levels.
  for (int y = 0; y < out.rows; ++y)
    for (int x = 0; x < out.cols; ++x)
      for (int c = 0; c < 3; ++c) {
        int v = out.at<cv::Vec3b>(y, x)[c];
        EXPECT_TRUE(v == 0 || v == 64 || v == 128 || v == 191 || v == 255) << v;
        if (HasFailure()) return;
      }
  EXPECT_NO_THROW(make_protector("anonymizer:" + r.anonymizer.string())->protect(img));
  EXPECT_THROW(make_protector("bdq:sigma=2,model=" + r.anonymizer.string()), UsageError);
  auto unet = tiny_options(dir / "unet");
  unet.steps = 1;
  unet.gradient = "whitebox";
  EXPECT_THROW(make_protector("bdq:model=" + train_anonymizer(unet).anonymizer.string()), Error);
}

}  // namespace
TEST(Trainer, AnOnlineSurrogatePriorGuidesTheProbesLearnsFromThemAndResumesExactly) {
  ScratchDir dir;
  auto guided = [&](const std::string& name) {
    auto o = tiny_blend_options(dir / name);
    o.prior = "surrogate";
    o.surrogate = TinyReference::get().model_file.string();
    o.surrogate_model = ReferenceMllm::load(o.surrogate);  // a private copy, as the CLI loads it
    o.surrogate_lr = 1e-3;
    return o;
  };
  auto r = train_anonymizer(guided("straight"));
  EXPECT_EQ(r.queries, 4 * (2 + 2 * 2 * 3));  // the prior spends a pair, not extra queries
  auto cut = guided("cut");
  cut.oracle = tiny_oracle(cut.out, 30);
  EXPECT_EQ(train_anonymizer(cut).steps_done, 2);
  cut = guided("cut");  // the resumed process loads the surrogate from its file again
  cut.resume = true;
  EXPECT_EQ(train_anonymizer(cut).steps_done, 4);
  auto a = read_log(dir / "straight/train-log.jsonl"), b = read_log(dir / "cut/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i) {
    // The black box measured the prior's cosine, and the surrogate learned from the replies.
    ASSERT_TRUE(a[i]["prior_alpha"].is_number()) << a[i].dump();
    EXPECT_GE(a[i]["prior_alpha"].get<double>(), 0.0);
    EXPECT_LE(a[i]["prior_alpha"].get<double>(), 1.0);
    ASSERT_TRUE(a[i]["surrogate_agreement"].is_number()) << a[i].dump();
    for (const char* k : {"privacy_loss", "utility_loss", "norm_u", "prior_alpha", "surrogate_agreement"})
      EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " " << k;
  }
  auto img = TinyReference::get().image(0);
  auto pa = make_protector("anonymizer:" + (dir / "straight/anonymizer.pt").string())->protect(img);
  auto pb = make_protector("anonymizer:" + (dir / "cut/anonymizer.pt").string())->protect(img);
  EXPECT_EQ(cv::norm(pa, pb, cv::NORM_INF), 0.0);
  auto white = guided("white");
  white.gradient = "whitebox";
  EXPECT_THROW(train_anonymizer(white), UsageError);
  auto missing = guided("missing");
  missing.surrogate_model = nullptr;
  EXPECT_THROW(train_anonymizer(missing), UsageError);
}

TEST(Trainer, PrgfMixingRunsThroughTheTrainerAndLogsTheMeasuredCosine) {
  ScratchDir dir;
  auto o = tiny_blend_options(dir / "prgf");
  o.prior = "surrogate";
  o.prior_mix = "prgf";
  o.scout_probes = 2;  // one pair along the prior, one orthogonal: alpha
  o.surrogate = TinyReference::get().model_file.string();
  o.surrogate_model = ReferenceMllm::load(o.surrogate);
  auto r = train_anonymizer(o);
  EXPECT_EQ(r.queries, 4 * (2 + 2 * 2 * 3));  // two scouts measure alpha, the third pair is mixed: no extra queries
  auto log = read_log(dir / "prgf/train-log.jsonl");
  ASSERT_EQ(log.size(), 5u);
  // The same run with the subspace variant: the same queries, a different estimate from the first step on.
  auto subspace = o;
  subspace.out = dir / "subspace";
  subspace.oracle = tiny_oracle(subspace.out);
  subspace.prior_mix = "subspace";
  train_anonymizer(subspace);
  auto other = read_log(dir / "subspace/train-log.jsonl");
  ASSERT_EQ(other.size(), 5u);
  EXPECT_NE(log[1]["norm_u"], other[1]["norm_u"]);
  for (size_t i = 1; i < log.size(); ++i) {
    ASSERT_TRUE(log[i]["prior_alpha"].is_number()) << log[i].dump();
    EXPECT_TRUE(log[i]["split_half_cos"].is_null());  // the halves share the prior's part: no figure
  }
  auto no_prior = tiny_blend_options(dir / "no-prior");
  no_prior.prior_mix = "prgf";
  EXPECT_THROW(train_anonymizer(no_prior), UsageError);
  o.out = dir / "one-scout";
  o.oracle = tiny_oracle(o.out);
  o.scout_probes = 1;  // nothing to measure alpha with
  EXPECT_THROW(train_anonymizer(o), UsageError);
  o.scout_probes = 3;  // nothing left to mix
  EXPECT_THROW(train_anonymizer(o), UsageError);
}

// --utility-norm split-half: the utility side is divided by its signal's norm (split-half cosine x its norm, the
// cosine floored at 0.1) instead of its own; the step differs from the raw one once the cosine is below 1.
TEST(Trainer, TheSplitHalfUtilityNormScalesTheUtilitySideByItsMeasuredSignal) {
  ScratchDir dir;
  auto run = [&](const std::string& norm) {
    auto o = tiny_blend_options(dir / norm);
    o.pareto = "preference";
    o.utility_norm = norm;
    train_anonymizer(o);
    return read_log(dir / norm / "train-log.jsonl");
  };
  auto raw = run("raw"), scaled = run("split-half");
  ASSERT_EQ(raw.size(), 5u);
  ASSERT_EQ(scaled.size(), 5u);
  size_t first_scaled = 0;
  for (size_t i = 1; i < scaled.size(); ++i) {
    EXPECT_EQ(raw[i]["utility_signal_cos"], 1.0);
    double c = scaled[i]["utility_signal_cos"].get<double>();
    const auto& figure = scaled[i]["split_half_param_cos"];  // the batch's split-half cosine, floored at 0.1
    EXPECT_DOUBLE_EQ(c, figure.is_number() ? std::clamp(figure.get<double>(), 0.1, 1.0) : 1.0) << scaled[i].dump();
    if (c < 1 && first_scaled == 0) first_scaled = i;
  }
  ASSERT_GT(first_scaled, 0u) << "no step measured a split-half cosine below 1";
  ASSERT_LT(first_scaled, scaled.size() - 1);
  // Up to that step the runs are the same; after it they part (Adam's first steps follow the update's signs,
  // so the difference may show a step later).
  EXPECT_EQ(raw[first_scaled]["utility_loss"], scaled[first_scaled]["utility_loss"]);
  bool parted = false;
  for (size_t i = first_scaled + 1; i < scaled.size(); ++i) parted = parted || raw[i]["norm_u"] != scaled[i]["norm_u"];
  EXPECT_TRUE(parted);
  for (auto bad : {std::string("weighted"), std::string("whitebox"), std::string("prior"), std::string("fidelity")}) {
    auto o = tiny_blend_options(dir / ("bad-" + bad));
    o.utility_norm = "split-half";
    if (bad == "weighted") o.pareto = "weighted";
    if (bad == "whitebox") o.gradient = "whitebox";
    if (bad == "fidelity") o.fidelity = 0.5;
    if (bad == "prior") {
      o.prior = "surrogate";
      o.surrogate = TinyReference::get().model_file.string();
      o.surrogate_model = ReferenceMllm::load(o.surrogate);
    }
    EXPECT_THROW(train_anonymizer(o), UsageError) << bad;
  }
}

TEST(Trainer, ARunsConfigReadsBackToTheSameOptions) {
  ScratchDir dir;
  auto o = tiny_blend_options(dir / "run");
  o.gradient = "whitebox";
  o.pareto = "weighted";
  o.preference = 0.3;
  o.fidelity = 0.5;
  o.init_target = "downsample:factor=4";
  o.prior = "surrogate";
  o.surrogate = "sur.pt";
  o.surrogate_lr = 1e-4;
  o.prior_mix = "prgf";
  o.utility_norm = "split-half";
  o.seed = 1234567890123ULL;
  o.steps = 3;
  train_anonymizer([&] {
    auto r = o;
    r.prior = "none";  // a white-box run takes no prior; config.json is what is compared below
    r.prior_mix = "subspace";
    r.utility_norm = "raw";
    r.init_target.clear();
    return r;
  }());
  auto written = nlohmann::json::parse(testing::read_text(dir / "run/config.json"));
  auto back = train_options_from_json(written);
  EXPECT_EQ(to_json(back), written);
  EXPECT_EQ(back.manifest, o.manifest);
  EXPECT_EQ(back.anonymizer, "blend");
  EXPECT_EQ(back.seed, 1234567890123ULL);
  // Every recorded field comes back, not only those a run wrote: a full round trip.
  EXPECT_EQ(to_json(train_options_from_json(to_json(o))), to_json(o));
  auto typo = to_json(o);
  typo["prefrence"] = 0.3;
  EXPECT_THROW(train_options_from_json(typo), UsageError);
  auto wrong = to_json(o);
  wrong["steps"] = "many";
  EXPECT_THROW(train_options_from_json(wrong), UsageError);
}

}  // namespace scrim
