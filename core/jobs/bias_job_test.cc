// The bias job's glue: statistics, classes and embeddings reach the report as they should. The
// report's formulas are checked against scipy/sklearn in metrics/bias_report_test; here the
// expected numbers are recomputed from the images with the report's public building blocks.
#include "core/jobs/bias_job.h"

#include <cmath>
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/detect/image_stats.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

// Class 0: a bright square on the left, class 1: on the right; per-image jitter.
uint8_t Pixel(int i, int y, int x) {
  const int cls = i % 2;
  const int x0 = cls == 0 ? 3 + i % 5 : 15 + i % 5, y0 = 4 + (i * 3) % 9;
  const bool inside = x >= x0 && x < x0 + 9 && y >= y0 && y < y0 + 11;
  return static_cast<uint8_t>(inside ? 150 + (i * 7) % 100 : (x + y + i) % 23);
}

TEST(BiasJobTest, ShiftsAndClassBalanceOfASkewedBrighterSet) {
  testing::TempDir dir;
  const std::string real = testing::WriteIdxPair(dir.Join("r-images-idx3-ubyte"),
                                                 dir.Join("r-labels-idx1-ubyte"), 80, Pixel,
                                                 [](int i) { return i % 2; });
  // Synthetic: 30 images, all of class 0 and 40 grey levels brighter.
  const std::string synthetic = dir.Join("synthetic");
  std::filesystem::create_directories(synthetic);
  std::vector<double> real_brightness, synthetic_brightness;
  for (int i = 0; i < 80; ++i) {
    cv::Mat m(28, 28, CV_8UC1);
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) m.at<uint8_t>(y, x) = Pixel(i, y, x);
    }
    real_brightness.push_back(ComputeImageStats(m).brightness);
    if (i % 2 == 0 && i < 60) {
      cv::Mat brighter = m + 40;
      synthetic_brightness.push_back(ComputeImageStats(brighter).brightness);
      ASSERT_TRUE(cv::imwrite(synthetic + "/s" + std::to_string(i) + ".png", brighter));
    }
  }
  BiasJobOptions options;
  options.real = real;
  options.synthetic = synthetic;
  options.encoder = "pixels";
  options.report.min_class_rows = 8;
  auto report = RunBiasJob(options, nullptr, nullptr);
  ASSERT_TRUE(report.ok()) << report.error();
  const auto j = nlohmann::json::parse(*report);

  const KsResult ks = KsTwoSample(real_brightness, synthetic_brightness);
  const auto& shift = j["shifts"]["brightness"];
  EXPECT_NEAR(shift["ks_statistic"].get<double>(), ks.statistic, 1e-12);
  EXPECT_NEAR(shift["p_value"].get<double>(), ks.p_value, 1e-12);
  EXPECT_TRUE(shift["flag"].get<bool>());
  EXPECT_GT(shift["mean_difference"].get<double>(), 0.1);

  // The probe puts every synthetic image in class 0: 30 vs 0 against real 40/40.
  const auto& chi = j["class_balance"]["chi_square"];
  EXPECT_NEAR(chi["statistic"].get<double>(), 30.0, 1e-9);  // (30-15)^2/15 + (0-15)^2/15
  EXPECT_NEAR(chi["p_value"].get<double>(), ChiSquareSurvival(30.0, 1), 1e-12);
  EXPECT_TRUE(chi["flag"].get<bool>());
  EXPECT_EQ(j["inputs"]["real_images"].get<int>(), 80);
  EXPECT_EQ(j["inputs"]["synthetic_images"].get<int>(), 30);
  EXPECT_EQ(j["inputs"]["labelled_real_images"].get<int>(), 80);
  EXPECT_TRUE(j.contains("diversity"));

  // Without an encoder: statistics only.
  options.encoder = "none";
  report = RunBiasJob(options, nullptr, nullptr);
  ASSERT_TRUE(report.ok()) << report.error();
  const auto k = nlohmann::json::parse(*report);
  EXPECT_NEAR(k["shifts"]["brightness"]["ks_statistic"].get<double>(), ks.statistic, 1e-12);
  EXPECT_NE(k["inputs"]["classes"].get<std::string>().find("skipped"), std::string::npos);
}

TEST(BiasJobTest, ErrorsNameTheInput) {
  testing::TempDir dir;
  BiasJobOptions options;
  options.real = dir.Join("missing-real");
  options.synthetic = dir.Join("missing-synthetic");
  auto report = RunBiasJob(options, nullptr, nullptr);
  ASSERT_FALSE(report.ok());
  EXPECT_NE(report.error().find("--real"), std::string::npos);
  EXPECT_NE(report.error().find("missing-real"), std::string::npos);
  options.real = "";
  EXPECT_EQ(options.Check(), "--real is required");
}

}  // namespace
}  // namespace synthlens
