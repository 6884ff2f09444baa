#include "scrim/core/runtime.h"

#include <algorithm>
#include <string>

#include <gtest/gtest.h>

namespace scrim {
namespace {

// The OpenMP limit binds LibTorch's pool as well as Tesseract's: a fixed 2
// held a 16-core machine to two threads (and stalled a training step there).
TEST(Runtime, OpenMpLimitFollowsTheCores) {
  EXPECT_EQ(omp_thread_limit_for(0), 2u);
  EXPECT_EQ(omp_thread_limit_for(1), 2u);
  EXPECT_EQ(omp_thread_limit_for(2), 2u);
  EXPECT_EQ(omp_thread_limit_for(16), 16u);
}

// libgomp's default spin-wait burned the cores a competing job needed: beside
// one, a two-thread LibTorch run slowed several-fold.
TEST(Runtime, OpenMpThreadsWaitPassively) {
  auto env = thread_environment_defaults(2);
  auto has = [&](const std::string& name, const std::string& value) {
    return std::find(env.begin(), env.end(), std::make_pair(name, value)) != env.end();
  };
  EXPECT_TRUE(has("OMP_WAIT_POLICY", "PASSIVE"));
  EXPECT_TRUE(has("OPENBLAS_NUM_THREADS", "1"));
  EXPECT_TRUE(has("OMP_THREAD_LIMIT", "2"));
}

}  // namespace
}  // namespace scrim
