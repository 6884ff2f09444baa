// Reads an image's format and size from its first bytes, before any decoding,
// so that decompression bombs are refused cheaply and truncated files are
// caught (OpenCV's JPEG decoder fills a truncated file with grey and succeeds).
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace scrim {

enum class ImageFormat { kUnknown, kPng, kJpeg, kWebp, kBmp };

struct ImageHeader {
  ImageFormat format = ImageFormat::kUnknown;
  int width = 0;   // 0 when the header does not say
  int height = 0;
  bool complete = false;  // the file's end marker / declared length is present
};

// Parses the header; never throws. Unknown formats give format kUnknown.
ImageHeader probe_image_header(std::span<const uint8_t> bytes);

const char* format_name(ImageFormat format);

}  // namespace scrim
