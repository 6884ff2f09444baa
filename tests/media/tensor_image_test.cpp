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

TEST(TensorImage, ClampsAndBatches) {
  auto t = torch::full({3, 2, 2}, 1.7f);
  cv::Mat img = tensor_to_image(t);
  EXPECT_EQ(img.at<cv::Vec3b>(0, 0), cv::Vec3b(255, 255, 255));
  std::vector<cv::Mat> imgs = {cv::Mat(10, 10, CV_8UC3, cv::Scalar(1, 2, 3)), cv::Mat(20, 30, CV_8UC3, cv::Scalar(4, 5, 6))};
  auto batch = images_to_batch(imgs, 8);
  EXPECT_EQ(batch.sizes(), (torch::IntArrayRef{2, 3, 8, 8}));
}

}  // namespace scrim
