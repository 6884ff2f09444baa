#include "scrim/core/fs_util.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <mutex>
#include <vector>

#include <gtest/gtest.h>

#include "scrim/core/error.h"
#include "scrim/core/rng.h"
#include "test_util.h"

namespace fs = std::filesystem;

// Records the inode of every file fsync()ed while a test asks for it. Defined
// in the test binary, it takes the place of libc's for scrim_core as well,
// and calls libc's.
namespace {
std::mutex g_synced_mutex;
std::vector<ino_t> g_synced;
std::atomic<bool> g_record_syncs{false};
}  // namespace

extern "C" int fsync(int fd) {
  using Fsync = int (*)(int);
  static auto libc_fsync = reinterpret_cast<Fsync>(dlsym(RTLD_NEXT, "fsync"));
  struct stat st {};
  if (g_record_syncs && ::fstat(fd, &st) == 0) {
    std::lock_guard lock(g_synced_mutex);
    g_synced.push_back(st.st_ino);
  }
  return libc_fsync(fd);
}

namespace scrim {

TEST(WriteFileAtomic, SyncsTheFileAndItsFolderToDisk) {
  testing::ScratchDir dir;
  write_file_atomic(dir / "sub/seed.txt", "x");  // creates the folder before recording
  g_synced.clear();
  g_record_syncs = true;
  write_file_atomic(dir / "sub/out.txt", "hello");
  g_record_syncs = false;
  auto inode = [](const fs::path& p) {
    struct stat st {};
    EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
    return st.st_ino;
  };
  auto synced = [&](ino_t ino) { return std::find(g_synced.begin(), g_synced.end(), ino) != g_synced.end(); };
  EXPECT_TRUE(synced(inode(dir / "sub/out.txt"))) << "the file's data was not synced";
  EXPECT_TRUE(synced(inode(dir / "sub"))) << "the folder holding the new name was not synced";
}

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
