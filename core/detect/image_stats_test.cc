#include "core/detect/image_stats.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/detect/detect_test_util.h"
#include "core/util/check.h"

namespace synthlens {
namespace {

TEST(ImageStatsTest, MatchesNumpyOracle) {
  std::ifstream in(testing::DetectDataDir() + "golden.json");
  ASSERT_TRUE(in.good());
  const auto golden = nlohmann::json::parse(in);
  for (const char* name : {"rgb_40x30", "grey_28", "rgba_9x7", "rgb_130x96"}) {
    SCOPED_TRACE(name);
    const cv::Mat img = testing::LoadDetectPng(name);
    const ImageStats s = ComputeImageStats(img);
    const auto& g = golden[name]["stats"];
    for (const auto& [field, value] : ImageStatsFields(s)) {
      const double expected = g[field].get<double>();
      EXPECT_NEAR(value, expected, 1e-9 * std::max(1.0, std::fabs(expected))) << field;
    }
  }
}

TEST(ImageStatsTest, FieldOrderIsFixed) {
  ImageStats s;
  s.brightness = 1;
  s.mean_b = 8;
  const auto f = ImageStatsFields(s);
  const std::vector<std::string> names = {"brightness", "contrast", "saturation", "sharpness",
                                          "entropy",    "mean_r",   "mean_g",     "mean_b"};
  ASSERT_EQ(f.size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(f[i].first, names[i]);
  EXPECT_EQ(f[0].second, 1);
  EXPECT_EQ(f[7].second, 8);
}

TEST(ImageStatsTest, AnalyticCases) {
  // Uniform grey 100: luma 100/255, no contrast, no saturation, no edges, one histogram bin.
  const ImageStats g = ComputeImageStats(cv::Mat(5, 7, CV_8UC3, cv::Scalar(100, 100, 100)));
  EXPECT_NEAR(g.brightness, 100.0 / 255, 1e-12);
  EXPECT_NEAR(g.contrast, 0, 1e-12);
  EXPECT_EQ(g.saturation, 0);
  EXPECT_EQ(g.sharpness, 0);
  EXPECT_EQ(g.entropy, 0);
  // Pure red: luma sqrt(0.241) * 255 / 255, saturation 1, mean_r 1.
  const ImageStats r = ComputeImageStats(cv::Mat(4, 4, CV_8UC3, cv::Scalar(255, 0, 0)));
  EXPECT_NEAR(r.brightness, std::sqrt(0.241), 1e-12);
  EXPECT_NEAR(r.saturation, 1, 1e-12);
  EXPECT_NEAR(r.mean_r, 1, 1e-12);
  EXPECT_NEAR(r.mean_g, 0, 1e-12);
  // Half black, half white: entropy 1 bit, contrast 0.5.
  cv::Mat bw(2, 2, CV_8UC1, cv::Scalar(0));
  bw.row(1).setTo(255);
  const ImageStats h = ComputeImageStats(bw);
  EXPECT_NEAR(h.entropy, 1, 1e-12);
  EXPECT_NEAR(h.contrast, 0.5, 1e-12);
  // 1x1 works.
  EXPECT_NEAR(ComputeImageStats(cv::Mat(1, 1, CV_8UC1, cv::Scalar(51))).brightness, 0.2, 1e-12);
}

TEST(ImageStatsTest, RejectsOtherTypes) {
  EXPECT_THROW(ComputeImageStats(cv::Mat(3, 3, CV_16UC3)), Error);
  EXPECT_THROW(ComputeImageStats(cv::Mat(3, 3, CV_32FC1)), Error);
  EXPECT_THROW(ComputeImageStats(cv::Mat()), Error);
}

}  // namespace
}  // namespace synthlens
