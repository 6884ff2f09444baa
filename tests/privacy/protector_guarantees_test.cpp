// What every protector promises whatever came before and whatever the input:
// a still depends on itself alone, a spec either changes images or is refused,
// and whole-image protectors hide text lines of any shape.
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/privacy/detectors.h"
#include "scrim/privacy/protector.h"
#include "test_util.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

fs::path face_photo() { return fs::path(SCRIM_SHARED_DIR) / "realdata/faces/dlib_pascal/2008_001322.jpg"; }

// A line of black text on white, as large as fits the strip.
cv::Mat text_line(int width, int height, const std::string& text) {
  cv::Mat img(height, width, CV_8UC3, cv::Scalar::all(255));
  double scale = 4;
  int thickness = 1, base = 0;
  cv::Size size;
  for (; scale > 0.2; scale -= 0.05) {
    thickness = std::max(1, static_cast<int>(std::lround(scale * 2)));
    size = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, scale, thickness, &base);
    if (size.height <= 0.6 * height && size.width <= 0.95 * width) break;
  }
  cv::putText(img, text, cv::Point((width - size.width) / 2, (height + size.height) / 2), cv::FONT_HERSHEY_SIMPLEX, scale, cv::Scalar::all(0),
              thickness, cv::LINE_AA);
  return img;
}

// The words Tesseract reads in a strip laid on a white page (the detector
// drops word boxes taller than a third of a large image, meant for scene photos).
std::string read_text(RegionDetector& ocr, const cv::Mat& strip) {
  cv::Mat page;
  cv::copyMakeBorder(strip, page, 2 * strip.rows, 2 * strip.rows, 20, 20, cv::BORDER_CONSTANT, cv::Scalar::all(255));
  std::string words;
  for (const auto& d : ocr.detect(page)) words += d.text + " ";
  return words;
}

}  // namespace

TEST(ProtectorGuarantees, AStillIsProtectedAloneWhateverCameBefore) {
  if (!fs::exists(face_photo())) GTEST_SKIP() << "no ../shared/realdata";
  cv::Mat photo = read_image(face_photo());
  cv::Mat blank(photo.size(), CV_8UC3, cv::Scalar(90, 140, 200));
  auto protector = make_protector("regions:faces,mode=solid");
  ASSERT_GT(cv::norm(protector->protect(photo), photo, cv::NORM_INF), 0) << "the faces should be hidden";
  // One protector, a picture with nothing to hide next: it comes back untouched.
  EXPECT_EQ(cv::norm(protector->protect(blank), blank, cv::NORM_INF), 0);
}

TEST(ProtectorGuarantees, SpecsThatProtectNothingOrAreNotNumbersAreRefused) {
  // Each bad spec with the part its one-line error must name.
  const std::pair<const char*, const char*> bad[] = {
      {"pixelate:block=nan", "block"},     {"blur:sigma=1e-9", "sigma"},         {"blur:sigma=inf", "sigma"},
      {"bdq:sigma=nan", "sigma"},          {"blur:sigma=0", "sigma"},            {"blur:sigma=-2", "sigma"},
      {"blur:sigma=1e300", "sigma"},       {"pixelate:block=1", "block"},        {"pixelate:block=-inf", "block"},
      {"downsample:factor=1", "factor"},   {"downsample:factor=nan", "factor"},  {"bdq:levels=2.5", "levels"},
      {"bdq:levels=100000", "levels"},     {"bdq:difference=2", "difference"},   {"regions:faces,scale=nan", "scale"},
      {"regions:faces,scale=0.5", "scale"}, {"regions:faces,memory=-1", "memory"}, {"regions:plates,face=nose", "face"},
      {"blur:sigma=6,sigma=1e-9", "sigma"}, {"blur:12", "12"},                   {"blur:=3", "=3"}};
  for (const auto& [spec, part] : bad) {
    try {
      make_protector(spec);
      ADD_FAILURE() << spec << " was accepted";
    } catch (const UsageError& e) {
      std::string msg = e.what();
      EXPECT_NE(msg.find(part), std::string::npos) << spec << ": " << msg;
      EXPECT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
}

TEST(ProtectorGuarantees, TheWeakestAcceptedSettingsStillChangeImagesOfAnySize) {
  for (const char* spec : {"blur:sigma=0.5", "pixelate:block=2", "downsample:factor=1.5", "bdq:sigma=0.1,levels=64"})
    for (cv::Size size : {cv::Size(112, 112), cv::Size(24, 24), cv::Size(600, 20)}) {
      cv::Mat img = render_synth_sample(3, "test", 0, 112);
      cv::resize(img, img, size, 0, 0, cv::INTER_AREA);
      EXPECT_GT(cv::norm(make_protector(spec)->protect(img), img, cv::NORM_L1), 0) << spec << " at " << size;
    }
}

TEST(ProtectorGuarantees, WholeImageProtectorsHideTextLinesOfAnyShape) {
  struct Line {
    int width, height;
    std::string text;
  };
  auto ocr = make_text_detector();
  for (const Line& l : {Line{900, 28, "Jane Doe 12 Elm Street SSN 078-05-1120"}, Line{700, 48, "Call Mark Smith at 555 0142"},
                        Line{800, 80, "PASSPORT Maria Lopez"}}) {
    cv::Mat img = text_line(l.width, l.height, l.text);
    std::string shape = std::to_string(l.width) + "x" + std::to_string(l.height);
    std::string raw = read_text(*ocr, img);
    ASSERT_GE(character_recall(l.text, raw), 0.6) << shape << " raw: " << raw;  // legible unprotected (most words read)
    for (const char* spec : {"blur", "pixelate"}) {
      std::string read = read_text(*ocr, make_protector(spec)->protect(img));
      EXPECT_LE(character_recall(l.text, read), 0.2) << spec << " on " << shape << " read: " << read;
    }
  }
}

TEST(ProtectorGuarantees, AMissingFaceModelIsAnErrorNamingThePathNeverAFallback) {
  testing::ScratchDir empty;
  const char* before = std::getenv("SCRIM_MODELS_DIR");
  std::string saved = before ? before : "";
  setenv("SCRIM_MODELS_DIR", empty.path().c_str(), 1);
  try {
    make_face_detector("yunet");
    ADD_FAILURE() << "a face detector was made without the YuNet model";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find((empty.path() / "face_detection_yunet_2022mar.onnx").string()), std::string::npos) << e.what();
  }
  EXPECT_THROW(make_protector("regions:faces"), Error);
  if (before) setenv("SCRIM_MODELS_DIR", saved.c_str(), 1);
  else unsetenv("SCRIM_MODELS_DIR");
  // The build tree has the model it ships, with no variable and no shared/ folder needed.
  EXPECT_EQ(make_face_detector("yunet")->name(), "yunet");
}

}  // namespace scrim
