// `scrim protect` end to end: bad specs are usage errors before any file is
// touched, a folder's pictures are each protected alone, colliding outputs
// and an --out that is a file are refused before any work, videos stream
// under a frame cap.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

struct Exit {
  int code;
  std::string err;
};

// Runs the scrim binary with `args` (after the shell assignments in `env`); stdout is discarded.
Exit scrim(const testing::ScratchDir& d, const std::string& args, const std::string& env = "") {
  fs::path err = d / "stderr.txt";
  int status = std::system((env + " " + std::string(SCRIM_BINARY) + " -q " + args + " >/dev/null 2>" + err.string()).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::read_text(err)};
}

cv::Mat flat(int w, int h) { return cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 140, 200)); }

// Every file under `root` (relative path -> bytes), but the records named `skip_prefix`*.
std::map<std::string, std::string> files_under(const fs::path& root, const std::string& skip_prefix) {
  std::map<std::string, std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().filename().string().rfind(skip_prefix, 0) != 0)
      files[fs::relative(e.path(), root).string()] = testing::read_text(e.path());
  return files;
}

// The record's lines without their timings, which differ from run to run.
std::vector<std::string> records_without_seconds(const fs::path& jsonl) {
  std::vector<std::string> lines;
  std::istringstream in(testing::read_text(jsonl));
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line);
    j.erase("seconds");
    lines.push_back(j.dump());
  }
  return lines;
}

}  // namespace

TEST(ProtectCli, SpecsThatProtectNothingAreUsageErrors) {
  testing::ScratchDir d;
  write_image(d / "in.png", flat(64, 48));
  for (const char* spec : {"pixelate:block=nan", "blur:sigma=1e-9", "blur:sigma=inf", "bdq:sigma=nan"}) {
    auto r = scrim(d, std::string("protect --protector ") + spec + " " + (d / "in.png").string() + " --out " + (d / "out").string());
    EXPECT_EQ(r.code, 2) << spec << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_FALSE(fs::exists(d / "out")) << spec;
  }
}

TEST(ProtectCli, AFolderRunProtectsEachPictureAlone) {
  fs::path photo = fs::path(SCRIM_SHARED_DIR) / "realdata/faces/dlib_pascal/2008_001322.jpg";
  if (!fs::exists(photo)) GTEST_SKIP() << "no ../shared/realdata";
  testing::ScratchDir d;
  fs::create_directories(d / "in");
  fs::copy_file(photo, d / "in/a_faces.jpg");  // protected first: inputs are taken in name order
  cv::Mat blank = flat(500, 375);
  write_image(d / "in/b_blank.png", blank);
  auto r = scrim(d, "protect --workers 1 --protector regions:faces,mode=solid " + (d / "in").string() + " --out " + (d / "out").string());
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(cv::norm(read_image(d / "out/b_blank.png"), blank, cv::NORM_INF), 0) << "the blank picture got boxes from the photo before it";
}

TEST(ProtectCli, CollidingOutputsAndAFileAsOutAreRefusedBeforeAnyWork) {
  testing::ScratchDir d;
  fs::create_directories(d / "one");
  fs::create_directories(d / "two");
  write_image(d / "one/x.png", flat(32, 32));
  write_image(d / "two/x.png", flat(40, 40));
  auto clash = scrim(d, "protect " + (d / "one/x.png").string() + " " + (d / "two/x.png").string() + " --out " + (d / "out").string());
  EXPECT_EQ(clash.code, 2) << clash.err;
  EXPECT_NE(clash.err.find("x.png"), std::string::npos) << clash.err;
  EXPECT_FALSE(fs::exists(d / "out/x.png"));
  testing::write_text(d / "file", "not a folder");
  auto file = scrim(d, "protect " + (d / "one/x.png").string() + " --out " + (d / "file").string());
  EXPECT_EQ(file.code, 2) << file.err;
  EXPECT_NE(file.err.find("is a file"), std::string::npos) << file.err;
  auto self = scrim(d, "protect --protector raw " + (d / "one").string() + " --out " + (d / "one").string());
  EXPECT_EQ(self.code, 2) << self.err;
  EXPECT_NE(self.err.find("overwrite"), std::string::npos) << self.err;
}

TEST(ProtectCli, VideosStreamUnderAFrameCap) {
  testing::ScratchDir d;
  std::vector<cv::Mat> frames;
  for (int i = 0; i < 12; ++i) frames.push_back(cv::Mat(48, 64, CV_8UC3, cv::Scalar(20 * i, 100, 200 - 10 * i)));
  write_video(d / "in/clip.avi", frames, 10);
  auto ok = scrim(d, "protect --protector bdq --max-frames 12 " + (d / "in/clip.avi").string() + " --out " + (d / "out").string());
  ASSERT_EQ(ok.code, 0) << ok.err;
  auto v = read_video(d / "out/clip.avi", FrameSampling::all());
  EXPECT_EQ(v.frames.size(), 12u);
  EXPECT_EQ(v.width, 64);
  auto capped = scrim(d, "protect --protector bdq --max-frames 5 " + (d / "in/clip.avi").string() + " --out " + (d / "capped").string());
  EXPECT_EQ(capped.code, 1) << capped.err;
  EXPECT_NE(capped.err.find("more than 5 frames"), std::string::npos) << capped.err;
  EXPECT_FALSE(fs::exists(d / "capped/clip.avi"));  // nothing half-written
}

TEST(ProtectCli, TwoShardsWriteWhatOneProcessWrites) {
  testing::ScratchDir d;
  cv::RNG rng(21);
  for (int i = 0; i < 7; ++i) {  // two folders, distinct noisy pictures of several sizes
    cv::Mat img(24 + 4 * i, 32 + 2 * i, CV_8UC3);
    rng.fill(img, cv::RNG::UNIFORM, 0, 256);
    write_image(d / ("in/" + std::string(i % 2 ? "a/" : "b/") + "p" + std::to_string(i) + ".png"), img);
  }
  const std::string common = "protect --workers 2 --protector blur:sigma=2 " + (d / "in").string();
  auto whole = scrim(d, common + " --out " + (d / "out").string());
  ASSERT_EQ(whole.code, 0) << whole.err;
  fs::rename(d / "out", d / "one");  // the shards write to the same --out, as their records name it

  auto first = scrim(d, common + " --out " + (d / "out").string() + " --shard 0/2");
  ASSERT_EQ(first.code, 0) << first.err;
  EXPECT_EQ(files_under(d / "out", "scrim-protect").size(), 3u) << "shard 0 of 2 takes 3 of the 7 pictures";
  auto second = scrim(d, common + " --out " + (d / "out").string(), "RANK=1 WORLD_SIZE=2");  // torchrun's variables
  ASSERT_EQ(second.code, 0) << second.err;
  fs::rename(d / "out", d / "two");

  auto unsharded = files_under(d / "one", "scrim-protect");
  EXPECT_EQ(unsharded.size(), 7u);
  EXPECT_TRUE(unsharded == files_under(d / "two", "scrim-protect")) << "the shards' pictures differ from one process's";
  EXPECT_FALSE(fs::exists(d / "two/scrim-protect.jsonl"));
  auto shard0 = records_without_seconds(d / "two/scrim-protect-0-of-2.jsonl");
  auto shard1 = records_without_seconds(d / "two/scrim-protect-1-of-2.jsonl");
  EXPECT_EQ(shard0.size(), 3u);
  EXPECT_EQ(shard1.size(), 4u);
  shard0.insert(shard0.end(), shard1.begin(), shard1.end());
  EXPECT_EQ(shard0, records_without_seconds(d / "one/scrim-protect.jsonl")) << "the records, concatenated in shard order";
}

TEST(ProtectCli, EveryShardRefusesTheSameCollisionAndABadShard) {
  testing::ScratchDir d;
  write_image(d / "one/x.png", flat(32, 32));  // sorted first: shard 0's
  write_image(d / "two/x.png", flat(40, 40));  // sorted last: shard 1's
  write_image(d / "one/y.png", flat(36, 36));
  write_image(d / "one/z.png", flat(36, 36));
  const std::string inputs = (d / "one").string() + " " + (d / "two/x.png").string() + " --out " + (d / "out").string();
  for (const char* shard : {"0/2", "1/2"}) {
    auto r = scrim(d, "protect " + inputs + " --shard " + shard);
    EXPECT_EQ(r.code, 2) << shard << ": " << r.err;
    EXPECT_NE(r.err.find("would both be written to"), std::string::npos) << shard << ": " << r.err;
  }
  EXPECT_FALSE(fs::exists(d / "out"));
  for (const char* bad : {"2/2", "a/b"}) {  // the parser itself: Shard.ParsedFromTheFlagOrRankOfWorldSize
    auto r = scrim(d, "protect " + (d / "one/y.png").string() + " --out " + (d / "out").string() + " --shard " + bad);
    EXPECT_EQ(r.code, 2) << bad << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  }
  auto env = scrim(d, "protect " + (d / "one/y.png").string() + " --out " + (d / "out").string(), "WORLD_SIZE=2 RANK=");
  EXPECT_EQ(env.code, 2) << env.err;
  EXPECT_FALSE(fs::exists(d / "out"));
}

}  // namespace scrim
