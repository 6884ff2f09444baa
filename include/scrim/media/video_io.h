// Reading videos as sampled frames and writing frames back as a video.
// Audio is not read or written: scrim's outputs carry pixels only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

namespace scrim {

// Which frames to take from a video.
struct FrameSampling {
  enum class Mode { kAll, kUniform, kEveryNth, kIndices };
  Mode mode = Mode::kAll;
  int count = 0;              // kUniform: number of frames spread over the video
  int stride = 1;             // kEveryNth: take frames 0, n, 2n, ...
  std::vector<int> indices;   // kIndices: exactly these frames (sorted, unique)

  static FrameSampling all() { return {}; }
  static FrameSampling uniform(int k);
  static FrameSampling every_nth(int n);
  static FrameSampling exactly(std::vector<int> frame_indices);
};

struct VideoFrames {
  std::vector<cv::Mat> frames;  // 8-bit BGR
  std::vector<int> indices;     // the source frame index of each frame
  double fps = 0.0;
  int total_frames = 0;         // frames in the source video
  int width = 0, height = 0;
};

// The centre frame of each of k equal segments of [0, total): the usual
// "k frames spread uniformly" of action-recognition pipelines (TSN).
std::vector<int> uniform_frame_indices(int total, int k);

// Reads the frames `sampling` selects. Throws scrim::Error when the file is
// missing, cannot be decoded, has no frames, exceeds max_pixels per frame, or
// lacks a requested frame index.
VideoFrames read_video(const std::filesystem::path& path, const FrameSampling& sampling,
                       int64_t max_pixels = 50'000'000);

// Writes frames (all the same size, 8-bit BGR) at fps, atomically. The codec
// follows the extension: .mp4 → MPEG-4 part 2, .avi → Motion-JPEG.
void write_video(const std::filesystem::path& path, const std::vector<cv::Mat>& frames, double fps);

// What map_video() read and wrote.
struct VideoInfo {
  double fps = 0.0;
  int width = 0, height = 0;
  int64_t frames = 0;
};

// Streams `in` to `out` frame by frame: decodes a frame, writes map(frame)
// (8-bit BGR, the size of the first mapped frame), and keeps no other frame,
// so memory does not grow with the video's length. `out` appears only when
// every frame is written. Throws scrim::Error when `in` cannot be decoded or
// has no frames, a frame exceeds max_pixels, or the video has more than
// max_frames frames (checked as it streams: nothing is written then).
VideoInfo map_video(const std::filesystem::path& in, const std::filesystem::path& out,
                    const std::function<cv::Mat(const cv::Mat&)>& map, int64_t max_frames,
                    int64_t max_pixels = 50'000'000);

}  // namespace scrim
