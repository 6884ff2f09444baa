#include "scrim/core/runtime.h"

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

}  // namespace
}  // namespace scrim
