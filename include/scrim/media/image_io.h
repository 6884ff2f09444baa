// Reading and writing still images. Every image scrim handles is 8-bit BGR
// (OpenCV's layout) with EXIF orientation applied; no metadata (EXIF, GPS, ICC
// text) is ever written, because the encoders below write pixels only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <opencv2/core/mat.hpp>

#include "scrim/media/image_header.h"

namespace scrim {

struct ImageReadOptions {
  // Images with more pixels than this are refused before decoding (50 MP).
  int64_t max_pixels = 50'000'000;
};

// Decodes PNG, JPEG, WebP or BMP bytes to 8-bit BGR with EXIF orientation
// applied. `name` is used in error messages. Throws scrim::Error on an unknown
// format, a truncated or corrupt file, or an image above max_pixels.
cv::Mat decode_image(std::span<const uint8_t> bytes, const std::string& name,
                     const ImageReadOptions& options = {});

cv::Mat read_image(const std::filesystem::path& path, const ImageReadOptions& options = {});

// Encodes to the given format (JPEG/WebP quality 1..100; PNG is lossless).
std::vector<uint8_t> encode_image(const cv::Mat& image, ImageFormat format, int quality = 92);

// Writes atomically; the format comes from the extension (png, jpg/jpeg, webp, bmp).
void write_image(const std::filesystem::path& path, const cv::Mat& image, int quality = 92);

// The format an extension names, or kUnknown.
ImageFormat format_from_extension(const std::filesystem::path& path);

bool is_image_path(const std::filesystem::path& path);
bool is_video_path(const std::filesystem::path& path);

}  // namespace scrim
