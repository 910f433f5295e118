// The bundled model packages in resources/models load through the same path as user packages
// and produce sane outputs. (Their quality bars are checked by the documented commands in
// docs/models.md, which take minutes.) Skips a package that is not bundled.
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/core.hpp>

#include "core/infer/device.h"
#include "core/infer/encoder.h"
#include "core/io/image_source.h"

namespace synthlens {
namespace {

std::string ModelsDir() {
  const char* data = std::getenv("SYNTHLENS_TEST_DATA");  // <source>/tests/data
  return data ? std::string(data) + "/../../resources/models" : "resources/models";
}

TEST(BundledModelsTest, EncoderEmbedsFashionMnist) {
  const std::string dir = ModelsDir() + "/fmnist-encoder";
  if (!std::filesystem::exists(dir + "/model.json")) GTEST_SKIP() << "no bundled encoder";
  auto encoder = Encoder::Open(dir, Device{});
  ASSERT_TRUE(encoder.ok()) << encoder.error();
  EXPECT_EQ((*encoder)->dim(), 128);
  EXPECT_EQ((*encoder)->manifest().input.resolution, 28);
  std::vector<cv::Mat> images;
  auto source = OpenImageSource("fashion-mnist:test", SourceOptions{});
  if (source.ok()) {
    for (int i = 0; i < 8; ++i) images.push_back((*source)->Load(i).value());
  } else {
    for (int i = 0; i < 8; ++i) {
      cv::Mat img(28, 28, CV_8UC3);
      cv::randu(img, 0, 255);
      images.push_back(img);
    }
  }
  auto embedded = (*encoder)->Embed(images);
  ASSERT_TRUE(embedded.ok()) << embedded.error();
  ASSERT_EQ(embedded->rows, 8);
  for (int i = 0; i < embedded->rows; ++i) {
    for (int j = 0; j < embedded->cols; ++j) ASSERT_TRUE(std::isfinite(embedded->at<float>(i, j)));
  }
  // Different images give different representations.
  EXPECT_GT(cv::norm(embedded->row(0), embedded->row(1)), 1e-3);
}

}  // namespace
}  // namespace synthlens
