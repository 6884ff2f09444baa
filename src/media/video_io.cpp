#include "scrim/media/video_io.h"

#include <algorithm>
#include <set>

#include <opencv2/videoio.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"

namespace fs = std::filesystem;

namespace scrim {

FrameSampling FrameSampling::uniform(int k) {
  if (k <= 0) throw UsageError("FrameSampling::uniform(): k must be positive");
  FrameSampling s;
  s.mode = Mode::kUniform;
  s.count = k;
  return s;
}

FrameSampling FrameSampling::every_nth(int n) {
  if (n <= 0) throw UsageError("FrameSampling::every_nth(): n must be positive");
  FrameSampling s;
  s.mode = Mode::kEveryNth;
  s.stride = n;
  return s;
}

FrameSampling FrameSampling::exactly(std::vector<int> frame_indices) {
  std::sort(frame_indices.begin(), frame_indices.end());
  frame_indices.erase(std::unique(frame_indices.begin(), frame_indices.end()), frame_indices.end());
  if (frame_indices.empty() || frame_indices.front() < 0)
    throw UsageError("FrameSampling::exactly(): indices must be non-negative and non-empty");
  FrameSampling s;
  s.mode = Mode::kIndices;
  s.indices = std::move(frame_indices);
  return s;
}

std::vector<int> uniform_frame_indices(int total, int k) {
  std::vector<int> out;
  if (total <= 0 || k <= 0) return out;
  for (int i = 0; i < k; ++i) {
    double centre = (static_cast<double>(i) + 0.5) * total / k;
    out.push_back(std::min(total - 1, static_cast<int>(centre)));
  }
  return out;  // may repeat indices when k > total: a short clip is looped, as in TSN
}

namespace {

std::vector<int> wanted_indices(const FrameSampling& s, int total) {
  std::vector<int> out;
  switch (s.mode) {
    case FrameSampling::Mode::kAll:
      for (int i = 0; i < total; ++i) out.push_back(i);
      break;
    case FrameSampling::Mode::kUniform:
      out = uniform_frame_indices(total, s.count);
      break;
    case FrameSampling::Mode::kEveryNth:
      for (int i = 0; i < total; i += s.stride) out.push_back(i);
      break;
    case FrameSampling::Mode::kIndices:
      out = s.indices;
      break;
  }
  return out;
}

cv::VideoCapture open_video(const fs::path& path) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(path.string() + ": no such file");
  cv::VideoCapture cap(path.string(), cv::CAP_FFMPEG);
  if (!cap.isOpened()) throw Error(path.string() + ": cannot open as a video");
  return cap;
}

void check_frame(const cv::Mat& frame, int64_t index, int64_t max_pixels, const std::string& name) {
  if (frame.empty()) throw Error(name + ": frame " + std::to_string(index) + " cannot be decoded");
  if (int64_t{frame.cols} * frame.rows > max_pixels)
    throw Error(name + ": frame size exceeds the limit of " + std::to_string(max_pixels) + " pixels");
}

// One pass over the file: decode only the frames in `wanted` (sorted, may repeat).
// Returns the number of frames in the file.
int decode_pass(cv::VideoCapture& cap, const std::vector<int>& wanted, bool stop_after_last,
                VideoFrames& out, int64_t max_pixels, const std::string& name) {
  std::set<int> want(wanted.begin(), wanted.end());
  std::vector<std::pair<int, cv::Mat>> got;
  int index = 0;
  int last_wanted = want.empty() ? -1 : *want.rbegin();
  while (true) {
    if (!cap.grab()) break;
    if (want.count(index)) {
      cv::Mat frame;
      cap.retrieve(frame);
      check_frame(frame, index, max_pixels, name);
      got.emplace_back(index, frame);
    }
    ++index;
    // With an exact index list there is no need to count the frames after the last one.
    if (stop_after_last && index > last_wanted) break;
  }
  out.frames.clear();
  out.indices.clear();
  for (int w : wanted) {
    auto it = std::find_if(got.begin(), got.end(), [w](const auto& p) { return p.first == w; });
    if (it == got.end()) break;
    out.frames.push_back(it->second);  // repeated indices share pixels; callers copy before editing
    out.indices.push_back(w);
  }
  return index;
}

}  // namespace

VideoFrames read_video(const fs::path& path, const FrameSampling& sampling, int64_t max_pixels) {
  cv::VideoCapture cap = open_video(path);
  VideoFrames out;
  out.fps = cap.get(cv::CAP_PROP_FPS);
  out.width = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_WIDTH));
  out.height = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_HEIGHT));
  int reported = static_cast<int>(cap.get(cv::CAP_PROP_FRAME_COUNT));
  out.total_frames = std::max(reported, 0);
  auto wanted = wanted_indices(sampling, out.total_frames);
  bool exact = sampling.mode == FrameSampling::Mode::kIndices;
  int counted = decode_pass(cap, wanted, exact, out, max_pixels, path.string());
  if (counted == 0) throw Error(path.string() + ": no decodable frames");
  if (counted != out.total_frames && !exact) {
    // The container's frame count was wrong: sample again from the true count.
    out.total_frames = counted;
    cap.release();
    cap.open(path.string(), cv::CAP_FFMPEG);
    wanted = wanted_indices(sampling, counted);
    decode_pass(cap, wanted, false, out, max_pixels, path.string());
  }
  out.total_frames = std::max(out.total_frames, counted);
  if (out.frames.size() != wanted.size()) {
    int missing = wanted[out.frames.size()];
    throw Error(path.string() + ": frame " + std::to_string(missing) + " requested but the video has " +
                std::to_string(counted) + " frames");
  }
  return out;
}

namespace {

// The codec follows the extension: .mp4 → MPEG-4 part 2, .avi → Motion-JPEG.
int fourcc_for(const fs::path& path) {
  auto ext = lower_extension(path);
  if (ext == "mp4" || ext == "m4v" || ext == "mov") return cv::VideoWriter::fourcc('m', 'p', '4', 'v');
  if (ext == "avi") return cv::VideoWriter::fourcc('M', 'J', 'P', 'G');
  throw UsageError(path.string() + ": unsupported video extension (use mp4 or avi)");
}

}  // namespace

VideoInfo map_video(const fs::path& in, const fs::path& out, const std::function<cv::Mat(const cv::Mat&)>& map, int64_t max_frames,
                    int64_t max_pixels) {
  int fourcc = fourcc_for(out);
  cv::VideoCapture cap = open_video(in);
  VideoInfo info;
  info.fps = cap.get(cv::CAP_PROP_FPS);
  if (!(info.fps > 0 && info.fps < 1000)) info.fps = 25.0;
  std::error_code ec;
  if (out.has_parent_path()) fs::create_directories(out.parent_path(), ec);
  TempFileGuard tmp(temp_path_for(out));
  {
    cv::VideoWriter writer;
    cv::Mat frame;
    while (cap.read(frame)) {
      check_frame(frame, info.frames, max_pixels, in.string());
      if (info.frames == max_frames)
        throw Error(in.string() + ": more than " + std::to_string(max_frames) + " frames (raise the frame limit to process it)");
      cv::Mat mapped = map(frame);
      if (!writer.isOpened()) {
        info.width = mapped.cols;
        info.height = mapped.rows;
        writer.open(tmp.path().string(), cv::CAP_FFMPEG, fourcc, info.fps, mapped.size(), true);
        if (!writer.isOpened()) throw Error(out.string() + ": cannot open a video writer");
      }
      if (mapped.cols != info.width || mapped.rows != info.height || mapped.type() != CV_8UC3)
        throw Error(in.string() + ": frame " + std::to_string(info.frames) + " changes size or type");
      writer.write(mapped);
      ++info.frames;
    }
    if (info.frames == 0) throw Error(in.string() + ": no decodable frames");
  }
  tmp.commit(out);
  return info;
}

void write_video(const fs::path& path, const std::vector<cv::Mat>& frames, double fps) {
  if (frames.empty()) throw UsageError("write_video(): no frames for " + path.string());
  if (fps <= 0) fps = 25.0;
  int fourcc = fourcc_for(path);
  std::error_code ec;
  if (path.has_parent_path()) fs::create_directories(path.parent_path(), ec);
  TempFileGuard tmp(temp_path_for(path));
  cv::Size size = frames.front().size();
  {
    cv::VideoWriter writer(tmp.path().string(), cv::CAP_FFMPEG, fourcc, fps, size, true);
    if (!writer.isOpened()) throw Error(path.string() + ": cannot open a video writer");
    for (size_t i = 0; i < frames.size(); ++i) {
      if (frames[i].size() != size || frames[i].type() != CV_8UC3)
        throw UsageError("write_video(): frame " + std::to_string(i) + " differs in size or type");
      writer.write(frames[i]);
    }
  }
  tmp.commit(path);
}

}  // namespace scrim
