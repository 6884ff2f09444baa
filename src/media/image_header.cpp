#include "scrim/media/image_header.h"

#include <cstdint>
#include <cstring>

namespace scrim {
namespace {

uint32_t be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}
uint16_t be16(const uint8_t* p) { return static_cast<uint16_t>((p[0] << 8) | p[1]); }
uint32_t le32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

void probe_png(std::span<const uint8_t> b, ImageHeader& h) {
  h.format = ImageFormat::kPng;
  if (b.size() < 33 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) return;
  h.width = static_cast<int>(be32(b.data() + 16));
  h.height = static_cast<int>(be32(b.data() + 20));
  // Walk the chunks: the file is complete when an IEND chunk fits inside it.
  size_t pos = 8;
  while (pos + 12 <= b.size()) {
    uint32_t len = be32(b.data() + pos);
    if (std::memcmp(b.data() + pos + 4, "IEND", 4) == 0) {
      h.complete = true;
      return;
    }
    uint64_t next = uint64_t{pos} + 12 + len;
    if (next > b.size()) return;
    pos = static_cast<size_t>(next);
  }
}

void probe_jpeg(std::span<const uint8_t> b, ImageHeader& h) {
  h.format = ImageFormat::kJpeg;
  // Walk the segments up to the frame header (SOFn) for the size.
  size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return;
    uint8_t marker = b[pos + 1];
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    uint16_t len = be16(b.data() + pos + 2);
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && pos + 9 <= b.size()) {
      h.height = be16(b.data() + pos + 5);
      h.width = be16(b.data() + pos + 7);
      break;
    }
    if (marker == 0xDA) break;  // start of scan without a frame header
    pos += 2 + len;
  }
  // Complete when the end-of-image marker is present (trailing padding allowed).
  size_t end = b.size();
  while (end > 2 && (b[end - 1] == 0x00 || b[end - 1] == 0x0A || b[end - 1] == 0x0D)) --end;
  h.complete = end >= 4 && b[end - 2] == 0xFF && b[end - 1] == 0xD9;
}

void probe_webp(std::span<const uint8_t> b, ImageHeader& h) {
  h.format = ImageFormat::kWebp;
  uint64_t riff_size = le32(b.data() + 4);
  h.complete = riff_size + 8 <= b.size();
  if (b.size() < 30) return;
  const uint8_t* chunk = b.data() + 12;
  if (std::memcmp(chunk, "VP8 ", 4) == 0) {
    h.width = le16(b.data() + 26) & 0x3FFF;
    h.height = le16(b.data() + 28) & 0x3FFF;
  } else if (std::memcmp(chunk, "VP8L", 4) == 0) {
    uint32_t bits = le32(b.data() + 21);
    h.width = static_cast<int>((bits & 0x3FFF) + 1);
    h.height = static_cast<int>(((bits >> 14) & 0x3FFF) + 1);
  } else if (std::memcmp(chunk, "VP8X", 4) == 0) {
    h.width = static_cast<int>((b[24] | (b[25] << 8) | (b[26] << 16)) + 1);
    h.height = static_cast<int>((b[27] | (b[28] << 8) | (b[29] << 16)) + 1);
  }
}

void probe_bmp(std::span<const uint8_t> b, ImageHeader& h) {
  h.format = ImageFormat::kBmp;
  if (b.size() < 26) return;
  h.complete = le32(b.data() + 2) <= b.size();
  uint32_t dib = le32(b.data() + 14);
  if (dib == 12) {
    h.width = le16(b.data() + 18);
    h.height = le16(b.data() + 20);
  } else {
    h.width = static_cast<int>(le32(b.data() + 18));
    // A negative height means top-down rows. Negated in 64 bits: -INT32_MIN
    // does not fit an int32_t, and a height that large is corrupt (0).
    int64_t height = static_cast<int32_t>(le32(b.data() + 22));
    if (height < 0) height = -height;
    h.height = height > INT32_MAX ? 0 : static_cast<int>(height);
  }
}

}  // namespace

ImageHeader probe_image_header(std::span<const uint8_t> b) {
  ImageHeader h;
  static const uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.size() >= 8 && std::memcmp(b.data(), kPng, 8) == 0) {
    probe_png(b, h);
  } else if (b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF) {
    probe_jpeg(b, h);
  } else if (b.size() >= 16 && std::memcmp(b.data(), "RIFF", 4) == 0 &&
             std::memcmp(b.data() + 8, "WEBP", 4) == 0) {
    probe_webp(b, h);
  } else if (b.size() >= 2 && b[0] == 'B' && b[1] == 'M') {
    probe_bmp(b, h);
  }
  return h;
}

const char* format_name(ImageFormat format) {
  switch (format) {
    case ImageFormat::kPng: return "PNG";
    case ImageFormat::kJpeg: return "JPEG";
    case ImageFormat::kWebp: return "WebP";
    case ImageFormat::kBmp: return "BMP";
    default: return "unknown";
  }
}

}  // namespace scrim
