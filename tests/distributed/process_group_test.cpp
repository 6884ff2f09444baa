// scrim::ProcessGroup across real processes on 127.0.0.1 (Gloo): the peers are
// separate runs of tests/distributed/process_group_peer.cpp, started with
// torchrun's variables, each on a fresh free port.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "free_port.h"
#include "test_util.h"

extern char** environ;

namespace scrim {
namespace {

using testing::free_port;

struct Peer {
  pid_t pid = -1;
  std::filesystem::path out, err;
};

struct Done {
  int code;
  std::string out, err;
};

// Starts the peer program with `vars` added to this environment.
Peer spawn_peer(const testing::ScratchDir& d, const std::string& name, const std::map<std::string, std::string>& vars) {
  Peer p{-1, d / (name + ".out"), d / (name + ".err")};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string kv = *e;
    if (!vars.count(kv.substr(0, kv.find('=')))) env.push_back(kv);
  }
  for (const auto& [k, v] : vars) env.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& kv : env) envp.push_back(kv.data());
  envp.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, p.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, p.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string program = SCRIM_PROCESS_GROUP_PEER;
  char* argv[] = {program.data(), nullptr};
  if (posix_spawn(&p.pid, program.c_str(), &actions, nullptr, argv, envp.data()) != 0) p.pid = -1;
  posix_spawn_file_actions_destroy(&actions);
  return p;
}

Done wait_peer(const Peer& p) {
  int status = 0;
  if (p.pid < 0 || waitpid(p.pid, &status, 0) != p.pid) return {-1, "", "not started"};
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::read_text(p.out), testing::read_text(p.err)};
}

std::map<std::string, std::string> rank_vars(int rank, int world, int port, const std::string& timeout_ms) {
  return {{"RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(world)}, {"LOCAL_RANK", std::to_string(rank)},
          {"MASTER_ADDR", "127.0.0.1"}, {"MASTER_PORT", std::to_string(port)}, {"SCRIM_PEER_TIMEOUT_MS", timeout_ms},
          {"OMP_NUM_THREADS", "1"}};
}

// Ranks 0 and 1 of a world of two, each with `extra` added to its variables.
std::vector<Peer> spawn_two(const testing::ScratchDir& d, int port, const std::string& timeout_ms,
                            const std::map<std::string, std::string>& extra = {}) {
  std::vector<Peer> peers;
  for (int r = 0; r < 2; ++r) {
    auto vars = rank_vars(r, 2, port, timeout_ms);
    for (const auto& [k, v] : extra) vars[k] = v;
    peers.push_back(spawn_peer(d, "rank" + std::to_string(r), vars));
  }
  return peers;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST(ProcessGroup, TwoProcessesAllReduceBroadcastAndShareACounter) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  auto peers = spawn_two(d, port, "60000");
  for (int r = 0; r < 2; ++r) {
    Done done = wait_peer(peers[r]);
    ASSERT_EQ(done.code, 0) << "rank " << r << ": " << done.err;
    auto j = nlohmann::json::parse(done.out);
    EXPECT_EQ(j["rank"], r);
    EXPECT_EQ(j["world_size"], 2);
    EXPECT_EQ(j["backend"], "gloo");
    EXPECT_EQ(j["sum_float"], std::vector<double>({3, 3, 3}));          // 1 + 2
    EXPECT_EQ(j["sum_double"], std::vector<double>({30, 30, 30, 30}));  // 10 + 20
    EXPECT_EQ(j["sum_long"], std::vector<double>({1, 1}));              // 0 + 1
    EXPECT_EQ(j["mean"], std::vector<double>({0, 1.5, 3, 4.5}));        // (1 + 2) / 2 · arange(4)
    EXPECT_EQ(j["broadcast"], std::vector<double>(5, 101));             // rank 1's 100 + 1
    EXPECT_EQ(j["counter"], 3);                                         // 1 + 2, drawn through the store
  }
}

TEST(ProcessGroup, OneProcessWithoutVariablesStartsNothing) {
  testing::ScratchDir d;
  auto p = spawn_peer(d, "alone", {{"RANK", ""}, {"WORLD_SIZE", ""}, {"MASTER_ADDR", ""}, {"MASTER_PORT", ""}});
  Done done = wait_peer(p);
  ASSERT_EQ(done.code, 0) << done.err;
  auto j = nlohmann::json::parse(done.out);
  EXPECT_EQ(j["world_size"], 1);
  EXPECT_EQ(j["backend"], "none");
  EXPECT_EQ(j["sum_float"], std::vector<double>({1, 1, 1}));  // the identity
  EXPECT_EQ(j["broadcast"], std::vector<double>(5, 100));
  EXPECT_EQ(j["counter"], 1);
}

TEST(ProcessGroup, AMissingPeerIsNamedInOneLineAfterTheTimeout) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  auto start = std::chrono::steady_clock::now();
  Done alone = wait_peer(spawn_peer(d, "rank0", rank_vars(0, 3, port, "1500")));  // ranks 1 and 2 never start
  double took = seconds_since(start);
  EXPECT_EQ(alone.code, 1) << alone.err;
  EXPECT_NE(alone.err.find("ranks 1, 2 of 3 did not arrive at 127.0.0.1:" + std::to_string(port) + " within 1.5 s"), std::string::npos)
      << alone.err;
  EXPECT_EQ(std::count(alone.err.begin(), alone.err.end(), '\n'), 1) << alone.err;
  EXPECT_LT(took, 20.0);
}

TEST(ProcessGroup, APeerLostAfterStartUpFailsTheCollectiveWithoutWaitingOutTheTimeout) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  auto start = std::chrono::steady_clock::now();
  auto peers = spawn_two(d, port, "60000", {{"SCRIM_PEER_DIE", "1"}});
  Done survivor = wait_peer(peers[0]);
  Done lost = wait_peer(peers[1]);
  double took = seconds_since(start);
  EXPECT_EQ(lost.code, 3) << lost.err;
  EXPECT_EQ(survivor.code, 1) << survivor.err;
  EXPECT_NE(survivor.err.find("distributed: all_reduce failed on rank 0"), std::string::npos) << survivor.err;
  EXPECT_EQ(std::count(survivor.err.begin(), survivor.err.end(), '\n'), 1) << survivor.err;
  EXPECT_LT(took, 30.0) << "rank 0 waited for a peer that was gone";
}

// Texts through the store: every rank gets every rank's, in rank order, and waits
// for a late rank past the timeout as long as its heart beats.
TEST(ProcessGroup, EveryRankGathersEveryRanksTextAndWaitsForALateOneThatLives) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  // Rank 1 shares 1.5 s after the timeout.
  auto peers = spawn_two(d, port, "3000", {{"SCRIM_PEER_GATHER", "1"}, {"SCRIM_PEER_LATE_MS", "4500"}});
  for (int r = 0; r < 2; ++r) {
    Done done = wait_peer(peers[r]);
    ASSERT_EQ(done.code, 0) << "rank " << r << ": " << done.err;
    auto j = nlohmann::json::parse(done.out);
    EXPECT_EQ(j["texts"], std::vector<std::string>({"from rank 0", "from rank 1"})) << "rank " << r;
  }
}

TEST(ProcessGroup, AGatherNamesARankThatDiedInOneLineAfterTheTimeout) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  auto start = std::chrono::steady_clock::now();
  auto peers = spawn_two(d, port, "3000", {{"SCRIM_PEER_GATHER", "1"}, {"SCRIM_PEER_DIE", "1"}});
  Done survivor = wait_peer(peers[0]);
  Done lost = wait_peer(peers[1]);
  EXPECT_EQ(lost.code, 3) << lost.err;
  EXPECT_EQ(survivor.code, 1) << survivor.err;
  EXPECT_NE(survivor.err.find("distributed: rank 1 shared no peer-text and has shown no sign of life for 3 s (seen from rank 0)"),
            std::string::npos)
      << survivor.err;
  EXPECT_EQ(std::count(survivor.err.begin(), survivor.err.end(), '\n'), 1) << survivor.err;
  EXPECT_LT(seconds_since(start), 30.0);
}

TEST(ProcessGroup, ARankWithoutItsMasterNamesTheAddress) {
  testing::ScratchDir d;
  int port = free_port();
  ASSERT_GT(port, 0);
  auto start = std::chrono::steady_clock::now();
  Done lost = wait_peer(spawn_peer(d, "rank1", rank_vars(1, 2, port, "1500")));  // rank 0 never starts
  double took = seconds_since(start);
  EXPECT_EQ(lost.code, 1) << lost.err;
  EXPECT_NE(lost.err.find("rank 1 could not reach rank 0's store at 127.0.0.1:" + std::to_string(port)), std::string::npos) << lost.err;
  EXPECT_EQ(std::count(lost.err.begin(), lost.err.end(), '\n'), 1) << lost.err;
  EXPECT_LT(took, 20.0);
}

}  // namespace scrim
