#include "scrim/core/fs_util.h"

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "scrim/core/rng.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {

TEST(WriteFileAtomic, WritesAndLeavesNoTemporaries) {
  testing::ScratchDir dir;
  write_file_atomic(dir / "sub/out.txt", "hello");
  EXPECT_EQ(read_file_text(dir / "sub/out.txt"), "hello");
  write_file_atomic(dir / "sub/out.txt", "again");
  EXPECT_EQ(read_file_text(dir / "sub/out.txt"), "again");
  int files = 0;
  for (const auto& e : fs::directory_iterator(dir / "sub")) files += e.is_regular_file();
  EXPECT_EQ(files, 1);
}

TEST(ReadFile, MissingFileNamesThePath) {
  try {
    read_file_bytes("/nonexistent/scrim.png");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/scrim.png"), std::string::npos);
  }
}

TEST(DeriveSeed, DistinctPerIndexAndStable) {
  EXPECT_EQ(derive_seed(1, 2, 3), derive_seed(1, 2, 3));
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(1, 2, 4));
  EXPECT_NE(derive_seed(1, 2, 3), derive_seed(2, 2, 3));
}

TEST(LowerExtension, Normalises) {
  EXPECT_EQ(lower_extension("a/b.JPeG"), "jpeg");
  EXPECT_EQ(lower_extension("noext"), "");
}

}  // namespace scrim
