// Constructors of the built-in protectors (private: use make_protector()).
#pragma once

#include <memory>

#include "scrim/privacy/protector.h"

namespace scrim::protectors {

std::unique_ptr<Protector> make_raw();
std::unique_ptr<Protector> make_blur(const ProtectorSpec& spec);
std::unique_ptr<Protector> make_pixelate(const ProtectorSpec& spec);
std::unique_ptr<Protector> make_downsample(const ProtectorSpec& spec);
std::unique_ptr<Protector> make_regions(const ProtectorSpec& spec);
std::unique_ptr<Protector> make_bdq(const ProtectorSpec& spec);
std::unique_ptr<Protector> make_anonymizer(const ProtectorSpec& spec);

// Scales a size given at the 112x112 reference resolution to an image, by the
// square root of the area: a protector then leaves the same amount of detail
// (e.g. 196 pixelation blocks at block=8) on an image of any shape. Scaling by
// the shorter side blurred a 900x28 text line by 1.5 px (blur:sigma=6): Tesseract still read it.
double scaled(double at_112, const cv::Mat& image);

// Gaussian blur that stays fast for large sigma: beyond sigma 4 the image is
// blurred at a reduced scale (area down-sampling is itself a low-pass) and
// up-sampled back; the result matches the direct blur to a few grey levels.
cv::Mat gaussian_blur(const cv::Mat& bgr, double sigma);

}  // namespace scrim::protectors
