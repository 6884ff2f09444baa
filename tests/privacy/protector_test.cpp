#include "scrim/privacy/protector.h"

#include <filesystem>
#include <set>

#include <gtest/gtest.h>
#include <opencv2/imgproc.hpp>

#include "scrim/core/error.h"
#include "scrim/data/synth.h"
#include "scrim/media/image_io.h"
#include "scrim/privacy/detectors.h"

namespace fs = std::filesystem;

namespace scrim {
namespace {

cv::Mat scene() { return render_synth_sample(3, "test", 0, 112); }

fs::path real(const std::string& rel) { return fs::path(SCRIM_SHARED_DIR) / "realdata" / rel; }

}  // namespace

TEST(ProtectorSpec, ParsesAndValidates) {
  auto s = ProtectorSpec::parse("regions:faces+plates,mode=solid,scale=1.5");
  EXPECT_EQ(s.name, "regions");
  EXPECT_EQ(s.positional, "faces+plates");
  EXPECT_EQ(s.text("mode", "blur"), "solid");
  EXPECT_DOUBLE_EQ(s.number("scale", 1, 1, 10), 1.5);
  EXPECT_THROW(make_protector("sepia"), UsageError);
  EXPECT_THROW(make_protector("blur:radius=3"), UsageError);
  EXPECT_THROW(make_protector("blur:sigma=abc"), UsageError);
  EXPECT_THROW(make_protector("blur:sigma=-1"), UsageError);
  EXPECT_THROW(make_protector("regions:eyes"), UsageError);
  EXPECT_EQ(make_protector("blur")->spec(), "blur:sigma=6");
  EXPECT_EQ(make_protector("pixelate:block=4")->spec(), "pixelate:block=4");
  std::set<std::string> names;
  for (const auto& p : protector_catalog()) names.insert(p.name);
  EXPECT_EQ(names, (std::set<std::string>{"raw", "blur", "pixelate", "downsample", "regions", "bdq", "anonymizer"}));
}

TEST(Protectors, WholeImageBaselines) {
  cv::Mat img = scene();
  EXPECT_EQ(cv::norm(make_protector("raw")->protect(img), img, cv::NORM_INF), 0);
  for (const char* spec : {"blur:sigma=3", "pixelate:block=8", "downsample:factor=4", "bdq"}) {
    cv::Mat out = make_protector(spec)->protect(img);
    EXPECT_EQ(out.size(), img.size()) << spec;
    EXPECT_EQ(out.type(), CV_8UC3) << spec;
    EXPECT_GT(cv::norm(out, img, cv::NORM_L1), 1000) << spec;
  }
  // Pixelation: each 8x8 block is one colour.
  cv::Mat pix = make_protector("pixelate:block=8")->protect(img);
  cv::Mat block = pix(cv::Rect(16, 16, 8, 8));
  cv::Mat first(8, 8, CV_8UC3, cv::Scalar(block.at<cv::Vec3b>(0, 0)));
  EXPECT_EQ(cv::norm(block, first, cv::NORM_INF), 0);
  // BDQ quantises to its levels: at most 3 distinct values per channel with levels=3.
  cv::Mat q = make_protector("bdq:levels=3")->protect(img);
  std::set<int> values;
  for (int y = 0; y < q.rows; ++y)
    for (int x = 0; x < q.cols; ++x) values.insert(q.at<cv::Vec3b>(y, x)[0]);
  EXPECT_LE(values.size(), 3u);
}

TEST(Protectors, BdqUsesTheFrameDifferenceOnVideo) {
  auto bdq = make_protector("bdq:levels=16");
  auto video = bdq->video_session();
  cv::Mat img = scene();
  video->protect(img);
  cv::Mat still = video->protect(img);  // no motion: the difference is flat mid-grey
  cv::Scalar mean, dev;
  cv::meanStdDev(still, mean, dev);
  EXPECT_LT(dev[0], 1.0);
}

TEST(RegionProtector, HidesRealFacesSoDetectorsNoLongerFindThem) {
  fs::path photo = real("faces/dlib_pascal/2008_001322.jpg");
  if (!fs::exists(photo)) GTEST_SKIP() << "no ../shared/realdata";
  cv::Mat img = read_image(photo);
  auto detector = make_face_detector("yunet");
  ASSERT_GE(detector->detect(img).size(), 2u);
  auto protector = make_protector("regions:faces,mode=blur");
  cv::Mat out = protector->protect(img);
  EXPECT_EQ(detector->detect(out).size(), 0u);
  // Outside the faces the picture is untouched.
  EXPECT_EQ(cv::norm(out(cv::Rect(0, img.rows - 20, img.cols, 20)), img(cv::Rect(0, img.rows - 20, img.cols, 20)), cv::NORM_INF), 0);
}

TEST(RegionProtector, FrameMemoryKeepsAMissedFaceHidden) {
  fs::path photo = real("faces/dlib_pascal/2008_001322.jpg");
  if (!fs::exists(photo)) GTEST_SKIP() << "no ../shared/realdata";
  cv::Mat face = read_image(photo);
  auto boxes = make_face_detector("yunet")->detect(face);
  ASSERT_FALSE(boxes.empty());
  // The next frame: the same picture with the faces painted over, so nothing is detected in it.
  cv::Mat missed = face.clone();
  for (const auto& b : boxes) cv::rectangle(missed, b.box, cv::Scalar(0, 0, 255), cv::FILLED);
  auto with_memory = make_protector("regions:faces,memory=3,mode=solid");
  auto video = with_memory->video_session();
  video->protect(face);
  cv::Mat kept = video->protect(missed);
  EXPECT_EQ(kept.at<cv::Vec3b>(boxes[0].box.y + 2, boxes[0].box.x + 2), cv::Vec3b(0, 0, 0));  // still blacked out
  // A new video starts with no memory.
  EXPECT_EQ(cv::norm(with_memory->video_session()->protect(missed), missed, cv::NORM_INF), 0);
  auto without = make_protector("regions:faces,memory=0,mode=solid");
  auto video0 = without->video_session();
  video0->protect(face);
  EXPECT_EQ(cv::norm(video0->protect(missed), missed, cv::NORM_INF), 0);
}

TEST(Detectors, TextPlatesAndMetrics) {
  EXPECT_DOUBLE_EQ(character_recall("OPEN", "open"), 1.0);
  EXPECT_DOUBLE_EQ(character_recall("AB12", "A 1"), 0.5);
  EXPECT_DOUBLE_EQ(character_recall("", "x"), 0.0);
  EXPECT_EQ(matched_boxes({{0, 0, 10, 10}, {20, 20, 10, 10}}, {{1, 1, 10, 10}, {100, 100, 5, 5}}), 1);
  EXPECT_NEAR(iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0, 1e-12);
  // Tesseract reads a clean rendered word.
  cv::Mat page(80, 320, CV_8UC3, cv::Scalar(255, 255, 255));
  cv::putText(page, "PRIVACY", cv::Point(20, 55), cv::FONT_HERSHEY_SIMPLEX, 1.5, cv::Scalar(0, 0, 0), 3);
  std::string read;
  for (const auto& d : make_text_detector()->detect(page)) read += d.text;
  EXPECT_GE(character_recall("PRIVACY", read), 0.85) << read;
}

}  // namespace scrim

namespace scrim {

TEST(Protectors, FastLargeBlurMatchesTheDirectBlur) {
  cv::Mat big = render_synth_sample(2, "test", 1, 768);
  cv::Mat direct;
  double sigma = 6.0 * 768 / 112;
  cv::GaussianBlur(big, direct, cv::Size(0, 0), sigma, 0, cv::BORDER_REFLECT);
  cv::Mat fast = make_protector("blur:sigma=6")->protect(big);
  cv::Mat diff;
  cv::absdiff(fast, direct, diff);
  EXPECT_LT(cv::mean(diff)[0], 3.0);  // mean absolute difference in grey levels
}

}  // namespace scrim

namespace scrim {

TEST(Detectors, TinyImagesDoNotBreakTheFaceDetector) {
  for (const char* kind : {"yunet", "haar", "dlib"}) {
    auto d = make_face_detector(kind);
    cv::Mat tiny(20, 90, CV_8UC3, cv::Scalar(120, 130, 140));
    EXPECT_NO_THROW(d->detect(tiny)) << kind;
  }
  EXPECT_NO_THROW(make_protector("regions:faces+plates+text")->protect(cv::Mat(12, 40, CV_8UC3, cv::Scalar::all(200))));
}

}  // namespace scrim
