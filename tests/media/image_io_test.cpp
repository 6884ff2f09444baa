#include "scrim/media/image_io.h"

#include <cstdint>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "scrim/core/fs_util.h"
#include "test_util.h"

namespace scrim {
namespace {

cv::Mat gradient(int w, int h) {
  cv::Mat img(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) img.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / w, y * 255 / h, 128);
  return img;
}

std::string error_of(const std::vector<uint8_t>& bytes, const ImageReadOptions& o = {}) {
  try {
    decode_image(bytes, "img", o);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

// A JPEG with an EXIF APP1 segment whose Orientation tag is `orientation`.
std::vector<uint8_t> jpeg_with_orientation(const cv::Mat& img, uint8_t orientation) {
  auto jpeg = encode_image(img, ImageFormat::kJpeg, 95);
  std::vector<uint8_t> app1 = {0xFF, 0xE1, 0x00, 34, 'E', 'x', 'i', 'f', 0, 0,
                               'I', 'I', 0x2A, 0x00, 0x08, 0x00, 0x00, 0x00,  // TIFF header, IFD at 8
                               0x01, 0x00,                                      // one entry
                               0x12, 0x01, 0x03, 0x00, 0x01, 0x00, 0x00, 0x00, orientation, 0x00, 0x00, 0x00,
                               0x00, 0x00, 0x00, 0x00};                         // no next IFD
  jpeg.insert(jpeg.begin() + 2, app1.begin(), app1.end());
  return jpeg;
}

}  // namespace

TEST(ImageIo, RoundTripsEveryFormat) {
  testing::ScratchDir dir;
  cv::Mat img = gradient(40, 30);
  for (const char* ext : {"png", "bmp", "jpg", "webp"}) {
    auto path = dir / (std::string("x.") + ext);
    write_image(path, img, 100);
    cv::Mat back = read_image(path);
    ASSERT_EQ(back.size(), img.size()) << ext;
    double err = cv::norm(back, img, cv::NORM_INF);
    if (std::string(ext) == "png" || std::string(ext) == "bmp") EXPECT_EQ(err, 0) << ext;
    else EXPECT_LT(err, 40) << ext;
  }
}

TEST(ImageIo, AppliesExifOrientationAndDropsMetadata) {
  testing::ScratchDir dir;
  cv::Mat img = gradient(20, 10);
  auto bytes = jpeg_with_orientation(img, 6);  // 6: rotate 90 degrees clockwise to display
  ASSERT_EQ(probe_image_header(bytes).width, 20);
  cv::Mat decoded = decode_image(bytes, "exif.jpg");
  EXPECT_EQ(decoded.cols, 10);
  EXPECT_EQ(decoded.rows, 20);
  write_image(dir / "out.jpg", decoded);
  std::string out = testing::read_text(dir / "out.jpg");
  EXPECT_EQ(out.find("Exif"), std::string::npos);
  EXPECT_NE(testing::read_text(dir / "out.jpg").size(), 0u);
}

TEST(ImageIo, RefusesTruncatedFiles) {
  cv::Mat img = gradient(64, 64);
  for (auto fmt : {ImageFormat::kPng, ImageFormat::kJpeg, ImageFormat::kWebp, ImageFormat::kBmp}) {
    auto bytes = encode_image(img, fmt, 90);
    bytes.resize(bytes.size() * 2 / 3);
    EXPECT_NE(error_of(bytes).find("truncated"), std::string::npos) << format_name(fmt) << ": " << error_of(bytes);
  }
}

TEST(ImageIo, RefusesGarbageAndEmptyFiles) {
  std::vector<uint8_t> garbage(100, 0x42);
  EXPECT_NE(error_of(garbage).find("not a PNG"), std::string::npos);
  EXPECT_NE(error_of({}).find("empty"), std::string::npos);
}

TEST(ImageIo, RefusesCorruptPixelData) {
  auto bytes = encode_image(gradient(64, 64), ImageFormat::kPng);
  // Scramble the compressed data but keep the chunk structure (and IEND) intact.
  for (size_t i = 60; i < bytes.size() - 20; ++i) bytes[i] ^= 0x5A;
  EXPECT_NE(error_of(bytes).find("corrupt"), std::string::npos) << error_of(bytes);
}

TEST(ImageIo, RefusesImagesAboveThePixelLimitBeforeDecoding) {
  auto bytes = encode_image(gradient(8, 8), ImageFormat::kPng);
  // Claim 30000x30000 in the IHDR chunk: 900 MP.
  uint8_t big[4] = {0x00, 0x00, 0x75, 0x30};
  std::copy(big, big + 4, bytes.begin() + 16);
  std::copy(big, big + 4, bytes.begin() + 20);
  EXPECT_NE(error_of(bytes).find("exceeds the limit"), std::string::npos);
  ImageReadOptions small;
  small.max_pixels = 50;
  EXPECT_NE(error_of(encode_image(gradient(8, 8), ImageFormat::kJpeg), small).find("exceeds"), std::string::npos);
}

TEST(ImageIo, BmpHeightOfInt32MinIsACorruptHeaderNotANegation) {
  // A real 4x3 BMP, then its height field (offset 22) overwritten.
  auto bytes = encode_image(gradient(4, 3), ImageFormat::kBmp, 90);
  auto set_height = [&](int32_t h) {
    auto u = static_cast<uint32_t>(h);
    for (int i = 0; i < 4; ++i) bytes[22 + i] = static_cast<uint8_t>(u >> (8 * i));
  };
  set_height(-3);  // top-down rows: the height is 3
  EXPECT_EQ(probe_image_header(bytes).height, 3);
  set_height(INT32_MIN);  // -INT32_MIN does not fit an int
  EXPECT_EQ(probe_image_header(bytes).height, 0);
  EXPECT_NE(error_of(bytes).find("corrupt BMP header"), std::string::npos) << error_of(bytes);
}

TEST(ImageIo, GreyAndAlphaInputsBecomeBgr) {
  cv::Mat grey(10, 12, CV_8UC1, cv::Scalar(77));
  std::vector<uint8_t> png;
  cv::imencode(".png", grey, png);
  cv::Mat out = decode_image(png, "grey.png");
  EXPECT_EQ(out.type(), CV_8UC3);
  cv::Mat rgba(10, 12, CV_8UC4, cv::Scalar(1, 2, 3, 4));
  cv::imencode(".png", rgba, png);
  EXPECT_EQ(decode_image(png, "rgba.png").type(), CV_8UC3);
}

TEST(ImageIo, WriteRejectsUnknownExtension) {
  testing::ScratchDir dir;
  EXPECT_THROW(write_image(dir / "x.gif", gradient(4, 4)), UsageError);
}

}  // namespace scrim
