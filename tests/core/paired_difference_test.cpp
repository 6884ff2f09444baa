// The paired difference's mean and standard error (core/paired_difference.h).
#include "scrim/core/paired_difference.h"

#include <stdexcept>

#include <gtest/gtest.h>

namespace scrim {
namespace {

TEST(PairedDifference, MeanAndStandardErrorOfThePerItemDifferences) {
  // Differences 1, 0, 0, -1, 0, 1, 0, 1: mean 0.25, sample variance 0.5, standard error sqrt(0.5 / 8) = 0.25.
  const std::vector<double> a{1, 1, 0, 0, 1, 1, 0, 1};
  const std::vector<double> b{0, 1, 0, 1, 1, 0, 0, 0};
  const auto d = paired_difference(a, b);
  EXPECT_DOUBLE_EQ(d.mean, 0.25);
  EXPECT_DOUBLE_EQ(d.standard_error, 0.25);
  EXPECT_DOUBLE_EQ(paired_difference(b, a).mean, -0.25);
  // A constant offset has no spread, however far apart the two means are.
  const auto offset = paired_difference({0.9, 0.3, 0.6}, {0.8, 0.2, 0.5});
  EXPECT_NEAR(offset.mean, 0.1, 1e-12);
  EXPECT_NEAR(offset.standard_error, 0.0, 1e-12);
}

TEST(PairedDifference, RefusesUnpairedOrTooFewItems) {
  EXPECT_THROW(paired_difference({1, 0}, {1, 0, 1}), std::invalid_argument);
  EXPECT_THROW(paired_difference({1}, {0}), std::invalid_argument);
}

}  // namespace
}  // namespace scrim
