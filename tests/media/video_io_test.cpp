#include "scrim/media/video_io.h"

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "test_util.h"

namespace scrim {
namespace {

// Frame i is filled with grey level 20*i, so the decoded frame tells its index.
std::vector<cv::Mat> numbered_frames(int n) {
  std::vector<cv::Mat> frames;
  for (int i = 0; i < n; ++i) frames.emplace_back(48, 64, CV_8UC3, cv::Scalar::all(20 * i));
  return frames;
}

int index_of(const cv::Mat& frame) { return static_cast<int>(std::lround(cv::mean(frame)[0] / 20.0)); }

}  // namespace

TEST(UniformFrameIndices, CentresOfEqualSegments) {
  EXPECT_EQ(uniform_frame_indices(10, 5), (std::vector<int>{1, 3, 5, 7, 9}));
  EXPECT_EQ(uniform_frame_indices(3, 6), (std::vector<int>{0, 0, 1, 1, 2, 2}));
  EXPECT_TRUE(uniform_frame_indices(0, 4).empty());
}

TEST(VideoIo, WritesAndSamplesFrames) {
  testing::ScratchDir dir;
  for (const char* ext : {"mp4", "avi"}) {
    auto path = dir / (std::string("clip.") + ext);
    write_video(path, numbered_frames(12), 6.0);
    auto all = read_video(path, FrameSampling::all());
    ASSERT_EQ(all.frames.size(), 12u) << ext;
    EXPECT_NEAR(all.fps, 6.0, 0.01) << ext;
    EXPECT_EQ(all.total_frames, 12);
    for (int i = 0; i < 12; ++i) EXPECT_EQ(index_of(all.frames[i]), i) << ext;

    auto uni = read_video(path, FrameSampling::uniform(4));
    EXPECT_EQ(uni.indices, (std::vector<int>{1, 4, 7, 10}));
    for (size_t k = 0; k < uni.frames.size(); ++k) EXPECT_EQ(index_of(uni.frames[k]), uni.indices[k]);

    auto nth = read_video(path, FrameSampling::every_nth(5));
    EXPECT_EQ(nth.indices, (std::vector<int>{0, 5, 10}));
    auto exact = read_video(path, FrameSampling::exactly({2, 9}));
    EXPECT_EQ(index_of(exact.frames[1]), 9);
  }
}

TEST(VideoIo, ClearErrors) {
  testing::ScratchDir dir;
  EXPECT_THROW(read_video(dir / "missing.mp4", FrameSampling::all()), Error);
  testing::write_text(dir / "junk.mp4", "this is not a video");
  EXPECT_THROW(read_video(dir / "junk.mp4", FrameSampling::all()), Error);
  write_video(dir / "c.mp4", numbered_frames(5), 5.0);
  try {
    read_video(dir / "c.mp4", FrameSampling::exactly({3, 40}));
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("frame 40"), std::string::npos) << e.what();
  }
  EXPECT_THROW(write_video(dir / "x.mp4", {}, 5), UsageError);
  EXPECT_FALSE(std::filesystem::exists(dir / "x.mp4"));
}

}  // namespace scrim
