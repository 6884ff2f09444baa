// The scrim binary end to end: exit codes, one-line errors, --json output.
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "oracle/slow_servers.h"
#include "scrim/media/image_io.h"
#include "test_util.h"

namespace scrim {
namespace {

struct Run {
  int code;
  std::string out;  // stdout
  std::string err;  // stderr
};

Run run(const std::string& args) {
  auto err_path = std::filesystem::temp_directory_path() / ("scrim_cli_err_" + std::to_string(getpid()));
  std::string cmd = std::string(SCRIM_BINARY) + " " + args + " 2>" + err_path.string();
  Run r{};
  FILE* p = popen(cmd.c_str(), "r");
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = testing::read_text(err_path);
  std::filesystem::remove(err_path);
  return r;
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

}  // namespace

TEST(Cli, VersionAndHelp) {
  auto v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_NE(v.out.find("scrim "), std::string::npos);
  auto h = run("data synth --help");
  EXPECT_EQ(h.code, 0);
  EXPECT_NE(h.out.find("--clips"), std::string::npos);
}

TEST(Cli, UsageErrorsExitTwo) {
  auto r = run("data synth --no-such-flag");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_EQ(run("").code, 2);
  EXPECT_EQ(run("data synth --out x --size 5").code, 2);
  EXPECT_EQ(run("data synth --out /tmp/scrim_never --clips 3 --train 1 --test 0").code, 2);
}

TEST(Cli, RuntimeErrorsExitOneWithTheFileNamed) {
  testing::ScratchDir d;
  auto r = run("data stats " + (d / "missing.jsonl").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("missing.jsonl: no such file"), std::string::npos) << r.err;
  EXPECT_EQ(lines(r.err), 1);
  testing::write_text(d / "bad.jsonl", "{\"id\": \"a\", \"split\": \"train\", \"media\": {\"images\": [\"a.png\"]}}\n{oops\n");
  r = run("data stats " + (d / "bad.jsonl").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("bad.jsonl:2: malformed JSON"), std::string::npos) << r.err;
}

TEST(Cli, SynthThenStatsAsJson) {
  testing::ScratchDir d;
  auto s = run("--json data synth --out " + (d / "s").string() + " --train 10 --test 5 --seed 9");
  ASSERT_EQ(s.code, 0) << s.err;
  auto j = nlohmann::json::parse(s.out);
  EXPECT_EQ(j["images"], 15);
  auto st = run("data stats --json " + (d / "s/actions.jsonl").string());
  ASSERT_EQ(st.code, 0) << st.err;
  auto stats = nlohmann::json::parse(st.out);
  EXPECT_EQ(stats["splits"]["train"], 10);
  EXPECT_EQ(stats["splits"]["test"], 5);
  EXPECT_EQ(stats["identities"].get<int>() > 0, true);
  EXPECT_TRUE(s.err.empty()) << "no progress output when stderr is not a terminal: " << s.err;
}

TEST(Cli, StatsOnAThirtyThousandCharacterSplitIsAOneLineError) {
  testing::ScratchDir d;
  testing::write_text(d / "m.jsonl", R"({"id": "a", "split": ")" + std::string(30000, 's') + R"(", "media": {"images": ["a.png"]}})" "\n");
  auto r = run("data stats " + (d / "m.jsonl").string());
  EXPECT_EQ(r.code, 1) << r.err.substr(0, 300);  // a stack overflow in std::regex before
  EXPECT_EQ(lines(r.err), 1);
  EXPECT_NE(r.err.find("m.jsonl:1: field 'split'"), std::string::npos) << r.err.substr(0, 300);
  EXPECT_LT(r.err.size(), 400u);
}

TEST(Cli, AnUnknownSubcommandIsNamedInTheUsageError) {
  auto r = run("data import nosuchformat --out x.jsonl");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("'nosuchformat'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("vispr"), std::string::npos) << "the choices are listed: " << r.err;
  r = run("data nosuchtool");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("'nosuchtool'"), std::string::npos) << r.err;
}

TEST(Cli, ThreadCountsAreBounded) {
  // --threads 100000 started 100,000 threads (1.7 GB resident) before any work.
  auto r = run("--threads 100000 data stats missing.jsonl");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_NE(r.err.find("--threads"), std::string::npos) << r.err;
  r = run("--threads 4 data stats missing.jsonl");
  EXPECT_EQ(r.code, 1) << r.err;
}

TEST(Cli, OracleFlagsAreRangeChecked) {
  // Each was accepted before: NaN rates and budgets, no HTTP slot at all, negative retries.
  for (const char* bad : {"--rps nan", "--max-cost -1", "--concurrency 0", "--retries -1"}) {
    auto r = run(std::string("ask --mllm openai:http://127.0.0.1:9/v1#m --image missing.png --prompt q ") + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
  }
}

TEST(Cli, AskTimeoutIsADeadlineForTheWholeCallRetriesIncluded) {
  testing::ScratchDir d;
  write_image(d / "a.png", cv::Mat(32, 32, CV_8UC3, cv::Scalar(40, 90, 200)));
  testing::SilentServer silent;
  auto seconds_since = [](std::chrono::steady_clock::time_point t) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  };
  auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run("--version").code, 0);
  double startup = seconds_since(start);  // loading LibTorch, twice with the re-exec
  start = std::chrono::steady_clock::now();
  auto r = run("ask --mllm 'openai:" + silent.base_url() + "#m' --timeout 2 --image " + (d / "a.png").string() +
               " --prompt 'What is this?'");
  double s = seconds_since(start);
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("deadline of 2 s"), std::string::npos) << r.err;
  EXPECT_LT(s, startup + 2 + 1.5) << "24.5 s before: --timeout was per attempt and per read";
  for (const char* bad : {"nan", "1e300"})
    EXPECT_EQ(run(std::string("ask --mllm openai:http://127.0.0.1:9/v1#m --image x.png --prompt q --timeout ") + bad).code, 2) << bad;
}

TEST(Cli, ImportFolderWritesARelocatedManifest) {
  testing::ScratchDir d;
  auto s = run("-q data synth --out " + (d / "s").string() + " --train 3 --test 0");
  ASSERT_EQ(s.code, 0) << s.err;
  auto r = run("-q data import folder " + (d / "s/images").string() + " --out " + (d / "m/folder.jsonl").string());
  ASSERT_EQ(r.code, 0) << r.err;
  std::string text = testing::read_text(d / "m/folder.jsonl");
  EXPECT_NE(text.find("../s/images/train/train-000000.png"), std::string::npos) << text;
}

}  // namespace scrim

namespace scrim {

TEST(Cli, ProtectMirrorsFoldersRecordsEachFileAndReportsBadOnes) {
  testing::ScratchDir d;
  ASSERT_EQ(run("-q data synth --out " + (d / "s").string() + " --train 3 --test 0 --clips 8").code, 0);
  testing::write_text(d / "s/images/train/broken.png", "\x89PNG\r\n\x1a\n garbage");
  auto r = run("-q protect --protector pixelate:block=8 " + (d / "s").string() + " --out " + (d / "p").string());
  EXPECT_EQ(r.code, 1) << r.err;
  EXPECT_NE(r.err.find("broken.png"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::exists(d / "p/images/train/train-000001.png"));
  EXPECT_TRUE(std::filesystem::exists(d / "p/clips/train/train-000001.mp4"));
  EXPECT_FALSE(std::filesystem::exists(d / "p/images/train/broken.png"));
  std::string log = testing::read_text(d / "p/scrim-protect.jsonl");
  EXPECT_NE(log.find("\"kind\":\"video\""), std::string::npos);
  EXPECT_NE(log.find("\"status\":\"error\""), std::string::npos);
  EXPECT_EQ(run("protect --protector sepia " + (d / "s").string() + " --out " + (d / "q").string()).code, 2);
  EXPECT_FALSE(std::filesystem::exists(d / "q"));
  auto list = run("--json protect --list");
  EXPECT_EQ(list.code, 0);
  EXPECT_EQ(nlohmann::json::parse(list.out).size(), 7u);
}

}  // namespace scrim

namespace scrim {

TEST(Cli, DemoRunsEndToEndAtTestSize) {
  testing::ScratchDir d;
  auto r = run("--json demo --out " + (d / "demo").string() +
               " --train 40 --test 10 --reference-epochs 1 --evaluator-epochs 1 --attacker-epochs 1"
               " --anonymizer-steps 2 --anonymizer-warmup 4 --anonymizer-pretrain 4"
               " --protector raw pixelate:block=8");
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["protectors"].size(), 3u);  // the two baselines and the trained anonymizer
  EXPECT_EQ(j["protectors"][2]["protector"].get<std::string>().rfind("anonymizer:", 0), 0u);
  EXPECT_TRUE(std::filesystem::exists(j["report"].get<std::string>()));
  EXPECT_TRUE(std::filesystem::exists(d / "demo/eval/results.json"));
  EXPECT_TRUE(j["reference_accuracy"].contains("action_label"));
  // The demo trains the configuration measured best: the control-space anonymizer's head-shaped,
  // hard-edged region of a fixed budget, pre-trained.
  auto config = nlohmann::json::parse(testing::read_text(d / "demo/anonymizer/config.json"));
  EXPECT_EQ(config["anonymizer"], "blend");
  EXPECT_EQ(config["hide_budget"], 0.014);
  EXPECT_EQ(config["hide_shape"], "head");
  EXPECT_EQ(config["blend_edge"], "hard:0.35");
  EXPECT_EQ(config["blend_stride"], 4);
  EXPECT_EQ(config["bank"], "fill:value=fit");
  EXPECT_EQ(config["pretrain_fill"], "grey");
  EXPECT_EQ(config["privacy_pretrain"], 4);
}

// With no privacy-only pre-training there is no pre-training fill to keep grey: the demo still trains (the trainer
// refuses --pretrain-fill grey without --privacy-pretrain), with the fill fitted from the start.
TEST(Cli, DemoRunsWithoutPreTraining) {
  testing::ScratchDir d;
  auto r = run("demo --out " + (d / "demo").string() +
               " --train 40 --test 10 --reference-epochs 1 --evaluator-epochs 1 --attacker-epochs 1"
               " --anonymizer-steps 2 --anonymizer-warmup 4 --anonymizer-pretrain 0 --protector raw");
  ASSERT_EQ(r.code, 0) << r.err;
  auto config = nlohmann::json::parse(testing::read_text(d / "demo/anonymizer/config.json"));
  EXPECT_EQ(config["privacy_pretrain"], 0);
  EXPECT_EQ(config["pretrain_fill"], "fitted");
}

}  // namespace scrim

namespace scrim {

// Launched once per rank (torchrun sets WORLD_SIZE), train runs data-parallel
// (tests/distributed/train_distributed_test.cpp); a world of several processes
// that cannot find rank 0 is refused in one line, before anything is written.
TEST(Cli, TrainInAWorldOfSeveralProcessesNeedsItsMaster) {
  testing::ScratchDir d;
  ::setenv("WORLD_SIZE", "2", 1);
  ::setenv("RANK", "1", 1);
  auto r = run("train --data " + (d / "none.jsonl").string() + " --mllm reference:" + (d / "none.pt").string() + " --out " +
               (d / "run").string());
  ::unsetenv("WORLD_SIZE");
  ::unsetenv("RANK");
  EXPECT_EQ(r.code, 2) << r.err;
  EXPECT_EQ(lines(r.err), 1) << r.err;
  EXPECT_NE(r.err.find("MASTER_ADDR"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(d / "run"));
}

TEST(Cli, TrainThenProtectWithTheAnonymizer) {
  testing::ScratchDir d;
  std::string data = (d / "s").string(), model = (d / "m.pt").string(), run_dir = (d / "run").string();
  ASSERT_EQ(run("-q data synth --out " + data + " --train 24 --test 6 --seed 4").code, 0);
  ASSERT_EQ(run("-q reference train --data " + data + "/actions.jsonl --out " + model + " --epochs 1 --width 8 --batch 8").code, 0);
  std::string train = "--json train --data " + data + "/actions.jsonl --mllm reference:" + model + " --out " + run_dir +
                      " --steps 2 --batch 2 --probes 2 --init-steps 2 --adversary-warmup 1 --width 4 --depth 2";
  auto r = run(train);
  ASSERT_EQ(r.code, 0) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["steps"], 2);
  EXPECT_EQ(j["queries"], 2 * (2 + 2 * 2 * 2));
  // The same command again would overwrite the run: refused, one line, exit 2.
  auto again = run(train);
  EXPECT_EQ(again.code, 2);
  EXPECT_EQ(lines(again.err), 1) << again.err;
  EXPECT_NE(again.err.find("--resume"), std::string::npos);
  auto p = run("--json protect --protector anonymizer:" + run_dir + "/anonymizer.pt " + data + "/images/test --out " + (d / "out").string());
  ASSERT_EQ(p.code, 0) << p.err;
  EXPECT_TRUE(std::filesystem::exists(d / "out/test-000000.png"));
  auto bad = run("protect --protector anonymizer:" + (d / "nope.pt").string() + " " + data + "/images/test --out " + (d / "o2").string());
  EXPECT_NE(bad.code, 0);
  EXPECT_EQ(lines(bad.err), 1) << bad.err;
  EXPECT_FALSE(std::filesystem::exists(d / "o2/test-000000.png"));
}

// --candidates K: the summary line counts the kept draw from 1 (the log's "chosen" is its index from 0).
TEST(Cli, TrainNamesTheKeptDrawCountingFromOne) {
  testing::ScratchDir d;
  std::string data = (d / "s").string(), model = (d / "m.pt").string(), run_dir = (d / "run").string();
  ASSERT_EQ(run("-q data synth --out " + data + " --train 12 --test 2 --seed 4").code, 0);
  ASSERT_EQ(run("-q reference train --data " + data + "/actions.jsonl --out " + model + " --epochs 1 --width 8 --batch 8").code, 0);
  auto r = run("train --data " + data + "/actions.jsonl --mllm reference:" + model + " --out " + run_dir +
               " --steps 0 --batch 2 --adversary-warmup 1 --width 4 --anonymizer blend --blend-grid 4 --hide-budget 0.2"
               " --privacy-pretrain 1 --candidates 2 --candidate-questions 12 --candidate-baseline blur:sigma=2");
  ASSERT_EQ(r.code, 0) << r.err;
  std::ifstream log(d / "run/train-log.jsonl");
  std::string first;
  std::getline(log, first);
  const auto record = nlohmann::json::parse(first);
  const auto kept = std::to_string(record["chosen"].get<int>() + 1), drawn = std::to_string(record["candidates"].size());
  EXPECT_NE(r.out.find("kept draw " + kept + " of " + drawn + " drawn"), std::string::npos) << r.out;
}

// --preference alone trains with the preference combiner (config.json says so); beside --pareto mgda,
// which has no weights, it is refused before any work.
TEST(Cli, APreferenceSelectsItsCombinerAndMgdaRefusesIt) {
  testing::ScratchDir d;
  std::string data = (d / "s").string(), model = (d / "m.pt").string();
  ASSERT_EQ(run("-q data synth --out " + data + " --train 12 --test 2 --seed 4").code, 0);
  ASSERT_EQ(run("-q reference train --data " + data + "/actions.jsonl --out " + model + " --epochs 1 --width 8 --batch 8").code, 0);
  std::string train = "-q train --data " + data + "/actions.jsonl --mllm reference:" + model +
                      " --steps 0 --batch 2 --init-steps 1 --adversary-warmup 1 --width 4 --depth 2 --preference 0.8 --out ";
  auto r = run(train + (d / "a").string());
  ASSERT_EQ(r.code, 0) << r.err;
  auto config = nlohmann::json::parse(testing::read_text(d / "a/config.json"));
  EXPECT_EQ(config["pareto"], "preference");
  EXPECT_EQ(config["preference"], 0.8);
  auto refused = run(train + (d / "b").string() + " --pareto mgda");
  EXPECT_EQ(refused.code, 2);
  EXPECT_EQ(lines(refused.err), 1) << refused.err;
  EXPECT_NE(refused.err.find("--preference"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(d / "b/config.json"));
}

// --recipe head trains the front's configuration; the flags given beside it win over its values (config.json
// records both, and the recipe's name); an unknown recipe is refused in one line before any work.
TEST(Cli, ARecipeSetsItsConfigurationAndTheFlagsGivenOverrideIt) {
  testing::ScratchDir d;
  std::string data = (d / "s").string(), model = (d / "m.pt").string();
  ASSERT_EQ(run("-q data synth --out " + data + " --train 12 --test 2 --seed 4").code, 0);
  ASSERT_EQ(run("-q reference train --data " + data + "/actions.jsonl --out " + model + " --epochs 1 --width 8 --batch 8").code, 0);
  std::string train = "-q train --data " + data + "/actions.jsonl --mllm reference:" + model + " --steps 0 --batch 2 --out ";
  auto r = run(train + (d / "a").string() + " --recipe head --hide-budget 0.2 --privacy-pretrain 1 --adversary-warmup 1");
  ASSERT_EQ(r.code, 0) << r.err;
  auto config = nlohmann::json::parse(testing::read_text(d / "a/config.json"));
  EXPECT_EQ(config["recipe"], "head");
  EXPECT_EQ(config["anonymizer"], "blend");
  EXPECT_EQ(config["hide_shape"], "head");
  EXPECT_EQ(config["blend_edge"], "hard:0.35");
  EXPECT_EQ(config["adversary_arch"], "resnet18");
  EXPECT_EQ(config["pareto"], "preference");
  EXPECT_EQ(config["preference"], 0.9);
  EXPECT_EQ(config["hide_budget"], 0.2);  // the flags given
  EXPECT_EQ(config["privacy_pretrain"], 1);
  EXPECT_EQ(config["adversary_warmup"], 1);
  auto refused = run(train + (d / "b").string() + " --recipe best");
  EXPECT_EQ(refused.code, 2);
  EXPECT_EQ(lines(refused.err), 1) << refused.err;
  EXPECT_NE(refused.err.find("head"), std::string::npos) << refused.err;
  EXPECT_FALSE(std::filesystem::exists(d / "b"));
}

}  // namespace scrim
