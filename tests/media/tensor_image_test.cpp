#include "scrim/media/tensor_image.h"

#include <gtest/gtest.h>
#include <opencv2/core.hpp>
#include <torch/torch.h>

namespace scrim {

TEST(TensorImage, RgbChwInUnitRange) {
  cv::Mat img(4, 6, CV_8UC3, cv::Scalar(0, 0, 255));  // pure red in BGR
  img.at<cv::Vec3b>(1, 2) = cv::Vec3b(255, 0, 0);     // one blue pixel
  auto t = image_to_tensor(img);
  ASSERT_EQ(t.sizes(), (torch::IntArrayRef{3, 4, 6}));
  EXPECT_FLOAT_EQ(t[0][0][0].item<float>(), 1.0f);
  EXPECT_FLOAT_EQ(t[2][0][0].item<float>(), 0.0f);
  EXPECT_FLOAT_EQ(t[2][1][2].item<float>(), 1.0f);
  cv::Mat back = tensor_to_image(t);
  EXPECT_EQ(cv::norm(back, img, cv::NORM_INF), 0);
}

// Every value is its 8-bit value over 255, channels in RGB order, from a picture that is a window of a larger one (rows
// further apart than its width): the exact values training, evaluation and the proxy's learned protectors see.
TEST(TensorImage, EachValueIsItsByteOver255FromAnyWindow) {
  cv::Mat whole(37, 53, CV_8UC3);
  cv::randu(whole, cv::Scalar::all(0), cv::Scalar::all(256));
  cv::Mat window = whole(cv::Rect(5, 3, 41, 29));
  ASSERT_FALSE(window.isContinuous());
  auto t = image_to_tensor(window);
  ASSERT_EQ(t.sizes(), (torch::IntArrayRef{3, 29, 41}));
  ASSERT_TRUE(t.is_contiguous());
  auto a = t.accessor<float, 3>();
  int mismatches = 0;
  for (int y = 0; y < window.rows; ++y)
    for (int x = 0; x < window.cols; ++x)
      for (int c = 0; c < 3; ++c) mismatches += a[c][y][x] != static_cast<float>(window.at<cv::Vec3b>(y, x)[2 - c]) / 255.0f;
  EXPECT_EQ(mismatches, 0);
}

TEST(TensorImage, ClampsAndBatches) {
  auto t = torch::full({3, 2, 2}, 1.7f);
  cv::Mat img = tensor_to_image(t);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  std::vector<cv::Mat> imgs = {cv::Mat(10, 10, CV_8UC3, cv::Scalar(1, 2, 3)), cv::Mat(20, 30, CV_8UC3, cv::Scalar(4, 5, 6))};
  auto batch = images_to_batch(imgs, 8);
  EXPECT_EQ(batch.sizes(), (torch::IntArrayRef{2, 3, 8, 8}));
}

}  // namespace scrim
