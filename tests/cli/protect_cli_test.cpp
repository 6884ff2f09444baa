// `scrim protect` end to end: bad specs are usage errors before any file is
// touched, a folder's pictures are each protected alone, colliding outputs
// and an --out that is a file are refused before any work, videos stream
// under a frame cap.
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
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

// Runs the scrim binary with `args`; stdout is discarded.
Exit scrim(const testing::ScratchDir& d, const std::string& args) {
  fs::path err = d / "stderr.txt";
  int status = std::system((std::string(SCRIM_BINARY) + " -q " + args + " >/dev/null 2>" + err.string()).c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, testing::read_text(err)};
}

cv::Mat flat(int w, int h) { return cv::Mat(h, w, CV_8UC3, cv::Scalar(90, 140, 200)); }

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

}  // namespace scrim
