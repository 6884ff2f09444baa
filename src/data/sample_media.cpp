#include "scrim/data/sample_media.h"

#include <algorithm>

#include "scrim/media/image_io.h"
#include "scrim/media/video_io.h"

namespace scrim {

std::vector<cv::Mat> load_sample_frames(const Manifest& m, const Sample& s, int frames) {
  std::vector<cv::Mat> out;
  if (s.media.is_video()) {
    auto sampling = s.media.frames.empty() ? FrameSampling::uniform(frames) : FrameSampling::exactly(s.media.frames);
    auto v = read_video(m.resolve(s.media.video), sampling);
    for (int i : uniform_frame_indices(static_cast<int>(v.frames.size()), std::min<int>(frames, static_cast<int>(v.frames.size()))))
      out.push_back(v.frames[i].clone());  // owns its pixels, whatever the decoder shares
  } else {
    for (const auto& p : s.media.images) out.push_back(read_image(m.resolve(p)));
  }
  return out;
}

}  // namespace scrim
