// torchrun's variables and the CLI's flags resolved into a run's layout, and
// the deterministic shares of `--shard I/N`.
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "scrim/distributed/distributed_options.h"
#include "scrim/distributed/shard.h"

namespace scrim {
namespace {

EnvLookup env_of(const std::map<std::string, std::string>& vars) {
  return [vars](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

}  // namespace

TEST(DistributedOptions, NothingSetIsOneProcess) {
  auto o = resolve_distributed_options({}, env_of({}));
  EXPECT_EQ(o.world_size, 1);
  EXPECT_EQ(o.rank, 0);
  EXPECT_TRUE(o.master_addr.empty());
}

TEST(DistributedOptions, TorchrunVariablesAreRead) {
  auto o = resolve_distributed_options({}, env_of({{"WORLD_SIZE", "4"}, {"RANK", "3"}, {"LOCAL_RANK", "1"},
                                                   {"MASTER_ADDR", "node7"}, {"MASTER_PORT", "29501"}}));
  EXPECT_EQ(o.world_size, 4);
  EXPECT_EQ(o.rank, 3);
  EXPECT_EQ(o.local_rank, 1);
  EXPECT_EQ(o.master_addr, "node7");
  EXPECT_EQ(o.master_port, 29501);
}

TEST(DistributedOptions, FlagsOverrideTheVariables) {
  DistributedFlags f;
  f.world_size = 2;
  f.rank = 1;
  f.master = "[::1]:4000";
  auto o = resolve_distributed_options(f, env_of({{"WORLD_SIZE", "8"}, {"RANK", "5"}, {"MASTER_ADDR", "x"}, {"MASTER_PORT", "1"}}));
  EXPECT_EQ(o.world_size, 2);
  EXPECT_EQ(o.rank, 1);
  EXPECT_EQ(o.master_addr, "::1");
  EXPECT_EQ(o.master_port, 4000);
}

TEST(DistributedOptions, LayoutsThatCannotWorkAreUsageErrors) {
  using Env = std::map<std::string, std::string>;
  for (const Env& env : {Env{{"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},           // no RANK
                         Env{{"WORLD_SIZE", "2"}, {"RANK", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}},  // rank outside
                         Env{{"WORLD_SIZE", "2"}, {"RANK", "1"}},                                      // no master
                         Env{{"WORLD_SIZE", "2"}, {"RANK", "1"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}},
                         Env{{"WORLD_SIZE", "two"}}, Env{{"WORLD_SIZE", "0"}}, Env{{"WORLD_SIZE", "2x"}}})
    EXPECT_THROW(resolve_distributed_options({}, env_of(env)), UsageError) << env.begin()->second;
  for (const char* bad : {"host", ":80", "host:", "host:0", "host:65536", "[::1:80", "host:8o"})
    EXPECT_THROW(parse_host_port(bad), UsageError) << bad;
}

TEST(Shard, ParsedFromTheFlagOrRankOfWorldSize) {
  Shard s = resolve_shard("1/3", env_of({{"WORLD_SIZE", "8"}, {"RANK", "5"}}));
  EXPECT_EQ(s.index, 1);
  EXPECT_EQ(s.count, 3);
  s = resolve_shard("", env_of({{"WORLD_SIZE", "8"}, {"RANK", "5"}}));
  EXPECT_EQ(s.index, 5);
  EXPECT_EQ(s.count, 8);
  EXPECT_FALSE(resolve_shard("", env_of({})).sharded());
  for (const char* bad : {"3/3", "-1/2", "1/0", "1", "/2", "1/", "a/2", "1/2/3", " 1/2"}) EXPECT_THROW(parse_shard(bad), UsageError) << bad;
  EXPECT_THROW(resolve_shard("", env_of({{"WORLD_SIZE", "2"}})), UsageError);
}

TEST(Shard, TheSlicesCoverEveryJobOnceInOrder) {
  for (size_t n : {0u, 1u, 5u, 7u, 100u})
    for (int count : {1, 2, 3, 8}) {
      size_t next = 0;
      for (int i = 0; i < count; ++i) {
        auto [begin, end] = shard_range(n, {i, count});
        EXPECT_EQ(begin, next) << n << " " << i << "/" << count;
        EXPECT_LE(end - begin, n / count + 1);
        next = end;
      }
      EXPECT_EQ(next, n);
    }
}

}  // namespace scrim
