#include "scrim/media/image_io.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"

namespace fs = std::filesystem;

namespace scrim {

cv::Mat decode_image(std::span<const uint8_t> bytes, const std::string& name,
                     const ImageReadOptions& options) {
  if (bytes.empty()) throw Error(name + ": empty file");
  ImageHeader header = probe_image_header(bytes);
  if (header.format == ImageFormat::kUnknown)
    throw Error(name + ": not a PNG, JPEG, WebP or BMP image");
  const char* fmt = format_name(header.format);
  if (header.width <= 0 || header.height <= 0)
    throw Error(name + ": corrupt " + std::string(fmt) + " header");
  int64_t pixels = int64_t{header.width} * header.height;
  if (pixels > options.max_pixels)
    throw Error(name + ": " + std::to_string(header.width) + "x" + std::to_string(header.height) +
                " image exceeds the limit of " + std::to_string(options.max_pixels) + " pixels");
  if (!header.complete) throw Error(name + ": truncated " + std::string(fmt) + " file");
  cv::Mat image;
  try {
    // IMREAD_COLOR applies the EXIF orientation and gives 8-bit BGR for any input
    // depth or channel count (alpha is dropped, grey is expanded).
    cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<uint8_t*>(bytes.data()));
    image = cv::imdecode(buffer, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw Error(name + ": corrupt " + std::string(fmt) + " data (" + e.msg + ")");
  }
  if (image.empty()) throw Error(name + ": corrupt " + std::string(fmt) + " data");
  return image;
}

cv::Mat read_image(const fs::path& path, const ImageReadOptions& options) {
  auto bytes = read_file_bytes(path);
  return decode_image(bytes, path.string(), options);
}

std::vector<uint8_t> encode_image(const cv::Mat& image, ImageFormat format, int quality) {
  if (image.empty()) throw Error("encode_image(): empty image");
  std::string ext;
  std::vector<int> params;
  switch (format) {
    case ImageFormat::kPng:
      ext = ".png";
      params = {cv::IMWRITE_PNG_COMPRESSION, 3};  // fast; lossless either way
      break;
    case ImageFormat::kJpeg:
      ext = ".jpg";
      params = {cv::IMWRITE_JPEG_QUALITY, quality};
      break;
    case ImageFormat::kWebp:
      ext = ".webp";
      params = {cv::IMWRITE_WEBP_QUALITY, quality};
      break;
    case ImageFormat::kBmp:
      ext = ".bmp";
      break;
    default:
      throw UsageError("encode_image(): unknown output format");
  }
  std::vector<uint8_t> out;
  if (!cv::imencode(ext, image, out, params)) throw Error("encode_image(): " + ext + " encoder failed");
  return out;
}

ImageFormat format_from_extension(const fs::path& path) {
  auto ext = lower_extension(path);
  if (ext == "png") return ImageFormat::kPng;
  if (ext == "jpg" || ext == "jpeg") return ImageFormat::kJpeg;
  if (ext == "webp") return ImageFormat::kWebp;
  if (ext == "bmp") return ImageFormat::kBmp;
  return ImageFormat::kUnknown;
}

void write_image(const fs::path& path, const cv::Mat& image, int quality) {
  auto format = format_from_extension(path);
  if (format == ImageFormat::kUnknown)
    throw UsageError(path.string() + ": unsupported image extension (use png, jpg, webp or bmp)");
  auto bytes = encode_image(image, format, quality);
  write_file_atomic(path, std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool is_image_path(const fs::path& path) {
  return format_from_extension(path) != ImageFormat::kUnknown;
}

bool is_video_path(const fs::path& path) {
  auto ext = lower_extension(path);
  return ext == "mp4" || ext == "avi" || ext == "mkv" || ext == "mov" || ext == "webm" ||
         ext == "mpg" || ext == "mpeg" || ext == "m4v";
}

}  // namespace scrim
