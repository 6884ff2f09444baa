// `scrim reference train|eval|serve` and `scrim ask`, end to end as a user runs them.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <regex>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_util.h"

namespace scrim {
namespace {

std::string run_ok(const std::string& args) {
  std::string cmd = std::string(SCRIM_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int status = pclose(p);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << cmd << "\n" << out;
  return out;
}

}  // namespace

TEST(ReferenceCli, TrainServeAndAskOverHttp) {
  testing::ScratchDir d;
  std::string data = (d / "s").string();
  run_ok("-q data synth --out " + data + " --train 24 --test 6 --seed 4");
  std::string model = (d / "m.pt").string();
  auto trained = nlohmann::json::parse(run_ok("--json reference train --data " + data + "/actions.jsonl " + data +
                                              "/vqa.jsonl --out " + model + " --epochs 1 --width 8 --batch 8"));
  EXPECT_TRUE(trained["test_accuracy"].contains("privacy:identity"));
  auto eval = nlohmann::json::parse(run_ok("--json reference eval --model " + model + " --data " + data + "/vqa.jsonl"));
  EXPECT_EQ(eval["accuracy"]["count"]["questions"], 6);
  // Per attribute value: the rows split the type's questions; a sample
  // without the attribute is counted under "=?".
  auto by = nlohmann::json::parse(run_ok("--json reference eval --model " + model + " --data " + data + "/actions.jsonl " +
                                         data + "/vqa.jsonl --by a4_gender nope"));
  for (const char* type : {"privacy:identity", "count"}) {
    const auto& row = by["accuracy"][type];
    int questions = 0;
    double correct = 0;
    for (const auto& [key, sub] : row["by"].items()) {
      EXPECT_TRUE(std::regex_match(key, std::regex("a4_gender=[01], nope=\\?"))) << key;
      questions += sub["questions"].get<int>();
      correct += sub["accuracy"].get<double>() * sub["questions"].get<int>();
    }
    EXPECT_EQ(questions, 6) << type;
    EXPECT_NEAR(correct / questions, row["accuracy"].get<double>(), 1e-9) << type;
  }

  // The server on a free port; its address is printed on stderr.
  std::string log = (d / "serve.log").string();
  pid_t pid = fork();
  if (pid == 0) {
    freopen(log.c_str(), "w", stderr);
    execl(SCRIM_BINARY, SCRIM_BINARY, "reference", "serve", "--model", model.c_str(), "--port", "0", "--name", "tiny", nullptr);
    _exit(127);
  }
  std::smatch m;
  std::string text;
  std::regex listening("listening on (http://127\\.0\\.0\\.1:[0-9]+/v1)");
  for (int i = 0; i < 200 && !std::regex_search(text, m, listening); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    text = testing::read_text(log);
  }
  ASSERT_TRUE(std::regex_search(text, m, listening)) << text;
  std::string url = m[1].str();
  std::string image = data + "/images/test/test-000001.png";
  std::string prompt = "\"How many people are there? Answer with a single word or number.\"";
  auto remote = nlohmann::json::parse(run_ok("--json ask --mllm openai:" + url + "#tiny --image " + image + " --prompt " + prompt));
  auto local = nlohmann::json::parse(run_ok("--json ask --mllm reference:" + model + " --image " + image + " --prompt " + prompt));
  EXPECT_EQ(remote["answer"], local["answer"]);
  EXPECT_EQ(remote["logprobs"][0]["top_logprobs"].size(), 5u);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << testing::read_text(log);

  // A dead endpoint: one line, exit 1, after the configured retries.
  std::string cmd = std::string(SCRIM_BINARY) + " ask --mllm openai:http://127.0.0.1:9/v1#x --retries 0 --image " + image +
                    " --prompt hi 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  char buf[1024] = {0};
  size_t n = fread(buf, 1, sizeof buf - 1, p);
  int rc = pclose(p);
  std::string err(buf, n);
  EXPECT_EQ(WEXITSTATUS(rc), 1) << err;
  EXPECT_NE(err.find("127.0.0.1:9"), std::string::npos) << err;
}

}  // namespace scrim
