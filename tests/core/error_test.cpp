#include "scrim/core/error.h"

#include <gtest/gtest.h>

namespace scrim {

TEST(OneLine, JoinsLinesWithSemicolons) {
  EXPECT_EQ(one_line("a\nb\r\nc\n"), "a; b; c");
  EXPECT_EQ(one_line("plain"), "plain");
}

TEST(Errors, UsageErrorIsAnError) {
  try {
    throw UsageError("bad option");
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "bad option");
  }
}

}  // namespace scrim
