// Data-parallel `scrim train`: two real processes over 127.0.0.1 (Gloo), each
// probing its half of every batch, against one process with the same global
// batch and seed; a two-process run stopped by its (shared) query budget and
// resumed; what the run's files record and who writes them.
//
// The configuration is one where one process and two can agree: the
// control-space anonymizer (--anonymizer blend) has no BatchNorm, so a rank's
// half batch gives each sample the output the whole batch gives it (the
// U-Net's BatchNorm normalizes by the batch: docs/distributed.md); the
// attackers' BatchNorm sees the whole batch on every rank (their update is
// duplicated, not divided). What remains between one process and two is the
// order of floating-point sums (a gradient summed as two halves), hence the
// 1e-4 relative tolerance. --history full exercises the parts that must span
// the global batch: the probe allocator (over both ranks' scouts) and the
// per-sample history (every rank records every sample). Seed 1 gives a step
// whose scouts find a sample flat, so the allocator moves probes between the
// ranks' halves (with seed 5 every sample is critical and a per-rank
// allocation would spend the probes alike).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "free_port.h"
#include "method/anonymizer_model.h"
#include "reference/reference_fixture.h"
#include "test_util.h"

namespace scrim {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// data: the manifest (empty: the tiny reference's synthetic set).
std::string train_args(int steps, std::string data = "") {
  auto& t = testing::TinyReference::get();
  if (data.empty()) data = (t.dir / "synth/actions.jsonl").string();
  return "--threads 1 -q train --data " + data + " --mllm reference:" + t.model_file.string() +
         " --anonymizer blend --blend-grid 4 --bank blur:sigma=2,fill:value=0.5 --history full --batch 4 --probes 3 --scout-probes 1"
         " --adversary-warmup 2 --adversary-restart 2 --max-train 16 --checkpoint-every 1 --seed 1 --steps " +
         std::to_string(steps);
}

// One process: `scrim ARGS --out OUT`; its exit code.
int run_one(const testing::ScratchDir& d, const std::string& args, const std::string& out) {
  std::string cmd = "WORLD_SIZE= RANK= " + std::string(SCRIM_BINARY) + " " + args + " --out " + (d / out).string() + " >/dev/null 2>" +
                    (d / (out + ".err")).string();
  return std::system(cmd.c_str());
}

// Two ranks at once, `scrim ARGS --out OUT` for rank 0 and `--out OUT-rank1` for rank 1 (so what
// each writes shows); returns when both have exited. Rank r's exit code and stderr: OUT.rankR.{rc,err}.
void run_two(const testing::ScratchDir& d, const std::string& args, const std::string& out) {
  const int port = testing::free_port();
  ASSERT_GT(port, 0);
  std::string both;
  for (int r = 0; r < 2; ++r) {
    const std::string rank = std::to_string(r), tag = out + ".rank" + rank;
    both += "(WORLD_SIZE= RANK= " + std::string(SCRIM_BINARY) + " " + args + " --out " + (d / (r == 0 ? out : out + "-rank1")).string() +
            " --world-size 2 --rank " + rank + " --master 127.0.0.1:" + std::to_string(port) + " >/dev/null 2>" + (d / (tag + ".err")).string() +
            "; echo $? > " + (d / (tag + ".rc")).string() + ") & ";
  }
  ASSERT_EQ(std::system((both + "wait").c_str()), 0) << both;
}

std::string rank_rc(const testing::ScratchDir& d, const std::string& out, int r) {
  return testing::read_text(d / (out + ".rank" + std::to_string(r) + ".rc"));
}
std::string rank_err(const testing::ScratchDir& d, const std::string& out, int r) {
  return testing::read_text(d / (out + ".rank" + std::to_string(r) + ".err"));
}

std::vector<json> read_log(const fs::path& path) {
  std::vector<json> out;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) out.push_back(json::parse(line));
  return out;
}

bool near(double a, double b, double rel) { return std::abs(a - b) <= rel * std::max({std::abs(a), std::abs(b), 1e-6}); }

// The largest |a - b| / max|a| over the anonymizers' parameters.
double relative_difference(const fs::path& a, const fs::path& b) {
  auto ma = method::read_anonymizer(a), mb = method::read_anonymizer(b);
  auto pa = ma.net().named_parameters(), pb = mb.net().named_parameters();
  double worst = 0;
  for (const auto& p : pa) {
    auto x = p.value().detach(), y = pb[p.key()].detach();
    double scale = std::max(x.abs().max().item<double>(), 1e-12);
    worst = std::max(worst, (x - y).abs().max().item<double>() / scale);
  }
  return worst;
}

const char* const kCompared[] = {"privacy_loss", "utility_loss", "utility", "adversary_loss", "norm_p",
                                 "norm_u",       "alpha",        "cos_pu",  "split_half_cos", "split_half_param_cos"};

TEST(TrainDistributed, TwoProcessesTrainAsOneProcessDoesAndOnlyRankZeroWrites) {
  testing::ScratchDir d;
  ASSERT_EQ(run_one(d, train_args(4), "one"), 0) << testing::read_text(d / "one.err");
  run_two(d, train_args(4), "two");
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, "two", r), "0\n") << "rank " << r << ": " << rank_err(d, "two", r);

  auto one = read_log(d / "one/train-log.jsonl"), two = read_log(d / "two/train-log.jsonl");
  ASSERT_EQ(one.size(), 5u);  // the initialisation and one record per step
  ASSERT_EQ(two.size(), 5u);
  for (size_t i = 1; i < one.size(); ++i) {
    SCOPED_TRACE("step " + std::to_string(i));
    for (const char* k : kCompared) {
      ASSERT_TRUE(one[i][k].is_number()) << k << " " << one[i].dump();
      EXPECT_TRUE(near(one[i][k].get<double>(), two[i][k].get<double>(), 1e-4)) << k << ": " << one[i][k] << " vs " << two[i][k];
    }
    // What the allocator and the per-sample streams decide is the same, not only close.
    for (const char* k : {"step_queries", "queries", "critical_samples", "flat_pairs", "adversary_restart"}) EXPECT_EQ(one[i][k], two[i][k]) << k;
  }
  EXPECT_LE(relative_difference(d / "one/anonymizer.pt", d / "two/anonymizer.pt"), 1e-4);

  // Every record and the config carry the number of processes; the ranks compared their parameters at each checkpoint.
  for (size_t i = 0; i < one.size(); ++i) {
    EXPECT_EQ(one[i]["world_size"], 1) << one[i].dump();
    EXPECT_EQ(two[i]["world_size"], 2) << two[i].dump();
    if (i > 0) {
      EXPECT_TRUE(two[i]["params_checksum"].is_number()) << two[i].dump();
    }
  }
  EXPECT_EQ(json::parse(testing::read_text(d / "one/config.json"))["world_size"], 1);
  EXPECT_EQ(json::parse(testing::read_text(d / "two/config.json"))["world_size"], 2);
  // Rank 0 alone writes the run; rank 1's --out holds at most its MLLM cache.
  for (const char* f : {"train-log.jsonl", "checkpoint.pt", "anonymizer.pt", "config.json"}) {
    EXPECT_TRUE(fs::exists(d / "two" / f)) << f;
    EXPECT_FALSE(fs::exists(d / "two-rank1" / f)) << f;
  }
}

// The budget is one for the run: each step asks 4 x (1 + 2 x 3) = 28 queries of both ranks
// together, so 60 lets two steps through and stops the third on both ranks alike (a rank
// alone would see 14 a step and stop in the fifth). The resumed run, on two processes again,
// takes rank 0's checkpoint (rank 1's --out holds none) and ends where an uninterrupted one does.
TEST(TrainDistributed, ATwoProcessRunStoppedByItsSharedBudgetResumesExactly) {
  testing::ScratchDir d;
  run_two(d, train_args(4), "straight");
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, "straight", r), "0\n") << rank_err(d, "straight", r);
  run_two(d, train_args(4) + " --max-queries 60", "cut");
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, "cut", r), "0\n") << rank_err(d, "cut", r);
  auto cut = read_log(d / "cut/train-log.jsonl");
  ASSERT_EQ(cut.size(), 3u) << "the budget should stop the third step";
  EXPECT_EQ(cut.back()["queries"], 56);
  run_two(d, train_args(4) + " --resume", "cut");
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, "cut", r), "0\n") << rank_err(d, "cut", r);

  auto a = read_log(d / "straight/train-log.jsonl"), b = read_log(d / "cut/train-log.jsonl");
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  for (size_t i = 1; i < a.size(); ++i)
    for (const char* k : {"privacy_loss", "utility_loss", "adversary_loss", "norm_p", "norm_u", "alpha", "queries", "params_checksum"})
      EXPECT_EQ(a[i][k], b[i][k]) << "step " << i << " " << k;
  EXPECT_EQ(relative_difference(d / "straight/anonymizer.pt", d / "cut/anonymizer.pt"), 0.0);
}

// --sweep K on two processes: rank 0 copies the shared initialisation into each
// preference's folder and writes the front; every run's state reaches rank 1 from it.
TEST(TrainDistributed, ASweepOnTwoProcessesWritesOneFront) {
  testing::ScratchDir d;
  run_two(d, train_args(1) + " --sweep 2", "sweep");
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, "sweep", r), "0\n") << rank_err(d, "sweep", r);
  auto front = json::parse(testing::read_text(d / "sweep/front.json"));
  ASSERT_EQ(front["preferences"].size(), 2u);
  for (const auto& p : front["preferences"]) EXPECT_EQ(p["steps"], 1) << p.dump();
  EXPECT_EQ(read_log(d / "sweep/pref-2/train-log.jsonl").back()["world_size"], 2);
  EXPECT_FALSE(fs::exists(d / "sweep-rank1/front.json"));
  EXPECT_FALSE(fs::exists(d / "sweep-rank1/pref-1/checkpoint.pt"));
}

// A rank that cannot start (here: its --data is missing) tells the others through the store:
// all stop at once with its error, instead of waiting in the first collective for the timeout.
TEST(TrainDistributed, ARankThatCannotStartStopsTheOthersWithItsError) {
  testing::ScratchDir d;
  const int port = testing::free_port();
  ASSERT_GT(port, 0);
  const std::string world = " --world-size 2 --master 127.0.0.1:" + std::to_string(port);
  std::string both = "(WORLD_SIZE= RANK= " + std::string(SCRIM_BINARY) + " " + train_args(2) + world + " --rank 0 --out " + (d / "a").string() +
                     " >/dev/null 2>" + (d / "rank0.err").string() + "; echo $? > " + (d / "rank0.rc").string() + ") & (WORLD_SIZE= RANK= " +
                     SCRIM_BINARY + " " + train_args(2, (d / "missing.jsonl").string()) + world + " --rank 1 --out " + (d / "b").string() +
                     " >/dev/null 2>" + (d / "rank1.err").string() + "; echo $? > " + (d / "rank1.rc").string() + ") & wait";
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(std::system(both.c_str()), 0);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 60.0);
  EXPECT_EQ(testing::read_text(d / "rank1.rc"), "1\n") << testing::read_text(d / "rank1.err");
  EXPECT_EQ(testing::read_text(d / "rank0.rc"), "1\n") << testing::read_text(d / "rank0.err");
  const std::string err0 = testing::read_text(d / "rank0.err");
  EXPECT_NE(err0.find("train: rank 1 failed: "), std::string::npos) << err0;
  EXPECT_NE(err0.find("missing.jsonl"), std::string::npos) << err0;
  EXPECT_FALSE(fs::exists(d / "a/checkpoint.pt"));
}

}  // namespace
}  // namespace scrim
