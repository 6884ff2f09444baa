// `scrim eval` end to end: the summary table a user reads.
#include <chrono>
#include <cstdlib>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "free_port.h"
#include "reference/reference_fixture.h"
#include "test_util.h"

namespace scrim {

TEST(EvalCli, TableShowsLeakageAndTheFloor) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  const auto out = d / "stdout.txt";
  std::string cmd = std::string(SCRIM_BINARY) + " -q eval --data " + (t.dir / "synth/actions.jsonl").string() + " --mllm reference:" +
                    t.model_file.string() + " --out " + (d / "eval").string() +
                    " --attackers small --attacker-epochs 1 --attacker-seeds 2 --independent-samples 0 --protector raw pixelate:block=8 > " +
                    out.string();
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  std::string table = testing::read_text(out);
  EXPECT_NE(table.find("leakage   lk-max"), std::string::npos) << table;
  // raw's leakage is 1 by definition, from the mean and from the strongest seed.
  EXPECT_NE(table.find("    1.000    1.000"), std::string::npos) << table;
  EXPECT_NE(table.find("floor (an attacker that reads nothing): cMAP "), std::string::npos) << table;
}

namespace {

// results.json without what differs between any two runs: the timings and the cache hits.
nlohmann::json without_timings(nlohmann::json results) {
  for (auto& p : results["protectors"]) {
    p.erase("seconds");
    p.erase("cache_hits");
    for (auto& a : p["attackers"]) a.erase("seconds");
  }
  return results;
}

// Starts `scrim <args[r]> --world-size 2 --rank r --master 127.0.0.1:PORT` for r = 0, 1
// at once; returns when both have exited. Rank r's stderr is in rankR.err, its exit code in rankR.rc.
void run_two_ranks(const testing::ScratchDir& d, const std::string& arg0, const std::string& arg1) {
  const int port = testing::free_port();
  ASSERT_GT(port, 0);
  std::string both;
  for (int r = 0; r < 2; ++r) {
    const std::string rank = std::to_string(r);
    both += "(WORLD_SIZE= RANK= " + std::string(SCRIM_BINARY) + " " + (r == 0 ? arg0 : arg1) + " --world-size 2 --rank " + rank +
            " --master 127.0.0.1:" + std::to_string(port) + " >/dev/null 2>" + (d / ("rank" + rank + ".err")).string() + "; echo $? > " +
            (d / ("rank" + rank + ".rc")).string() + ") & ";
  }
  ASSERT_EQ(std::system((both + "wait").c_str()), 0) << both;
}

std::string rank_rc(const testing::ScratchDir& d, int r) { return testing::read_text(d / ("rank" + std::to_string(r) + ".rc")); }
std::string rank_err(const testing::ScratchDir& d, int r) { return testing::read_text(d / ("rank" + std::to_string(r) + ".err")); }

}  // namespace

// Three protectors, one attacker architecture, two seeds: nine jobs, so rank 0
// takes raw's and pixelate's MLLM job, rank 1 the rest (pixelate's attackers
// among them): the merge crosses ranks within a protector.
TEST(EvalCli, TwoProcessesWriteWhatOneProcessWrites) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  const std::string common = "--threads 1 eval --data " + (t.dir / "synth/actions.jsonl").string() +
                             " --mllm reference:" + t.model_file.string() +
                             " --attackers small --attacker-epochs 1 --attacker-seeds 2 --independent-samples 2 --max-train 24"
                             " --protector raw pixelate:block=8 blur:sigma=3";
  std::string one = std::string(SCRIM_BINARY) + " " + common + " --out " + (d / "one").string() + " >/dev/null 2>" + (d / "one.err").string();
  ASSERT_EQ(std::system(one.c_str()), 0) << testing::read_text(d / "one.err");

  const std::string two = common + " --out " + (d / "two").string();
  run_two_ranks(d, two, two);
  for (int r = 0; r < 2; ++r) ASSERT_EQ(rank_rc(d, r), "0\n") << "rank " << r << ": " << rank_err(d, r);
  // The work was shared: each rank trained attackers for the protectors in its share only.
  const std::string err0 = rank_err(d, 0), err1 = rank_err(d, 1);
  EXPECT_NE(err0.find("raw: training the small attacker"), std::string::npos) << err0;
  EXPECT_EQ(err0.find("pixelate:block=8: training"), std::string::npos) << err0;
  EXPECT_NE(err1.find("pixelate:block=8: training the small attacker"), std::string::npos) << err1;
  EXPECT_EQ(err1.find("raw: "), std::string::npos) << err1;
  EXPECT_EQ(err1.find("pixelate:block=8: asking the MLLM"), std::string::npos) << err1;

  auto single = nlohmann::json::parse(testing::read_text(d / "one/results.json"));
  auto merged = nlohmann::json::parse(testing::read_text(d / "two/results.json"));
  ASSERT_EQ(merged["protectors"].size(), 3u);
  EXPECT_EQ(without_timings(merged), without_timings(single)) << "the merged results differ from one process's";
  EXPECT_TRUE(std::filesystem::exists(d / "two/report.html"));
}

// A rank that fails tells the others through the store: they stop at once with
// its error, instead of waiting out the five-minute timeout for its share.
TEST(EvalCli, ARankThatFailsStopsTheOthersWithItsError) {
  auto& t = testing::TinyReference::get();
  testing::ScratchDir d;
  const std::string args = "--threads 1 eval --mllm reference:" + t.model_file.string() + " --out " + (d / "out").string() +
                           " --attackers small --attacker-epochs 1 --independent-samples 0 --protector raw --data ";
  auto start = std::chrono::steady_clock::now();
  run_two_ranks(d, args + (t.dir / "synth/actions.jsonl").string(), args + (d / "missing.jsonl").string());
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 60.0);
  EXPECT_EQ(rank_rc(d, 1), "1\n") << rank_err(d, 1);
  EXPECT_EQ(rank_rc(d, 0), "1\n") << rank_err(d, 0);
  EXPECT_NE(rank_err(d, 0).find("scrim: error: eval: rank 1 failed: "), std::string::npos) << rank_err(d, 0);
  EXPECT_NE(rank_err(d, 0).find("missing.jsonl"), std::string::npos) << rank_err(d, 0);
  EXPECT_FALSE(std::filesystem::exists(d / "out/results.json"));
}

}  // namespace scrim
