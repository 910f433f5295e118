#include "core/detect/detectors.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/detect/planted.h"
#include "core/detect/detect_test_util.h"
#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

double Raw(const PixelFeatures& f, const std::string& name) {
  const int i = PixelDetectorIndex(name);
  SL_CHECK(i >= 0, "no detector " << name);
  return f.raw[i];
}

// A smooth random RGB image (low-pass noise), like a photograph without artifacts.
cv::Mat SmoothImage(int w, int h, uint64_t seed) {
  Rng rng(seed);
  cv::Mat small(h / 8 + 2, w / 8 + 2, CV_32FC3);
  for (int y = 0; y < small.rows; ++y)
    for (int x = 0; x < small.cols; ++x)
      for (int c = 0; c < 3; ++c) small.at<cv::Vec3f>(y, x)[c] = 128 + 50 * rng.Normal();
  cv::Mat up, out;
  cv::resize(small, up, cv::Size(w, h), 0, 0, cv::INTER_CUBIC);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) up.at<cv::Vec3f>(y, x)[c] += 3 * rng.Normal();
  up.convertTo(out, CV_8U);
  return out;
}

TEST(DetectorsTest, RegistryIsStable) {
  const std::vector<std::string> names = {
      "spectral",        "periodic",       "blur",          "noise",
      "dark",            "light",          "clipped_highlights", "clipped_shadows",
      "oversaturation",  "low_information", "colour_cast",  "jpeg"};
  ASSERT_EQ(PixelDetectors().size(), names.size());
  for (size_t i = 0; i < names.size(); ++i) {
    EXPECT_EQ(PixelDetectors()[i].name, names[i]);
    EXPECT_EQ(PixelDetectorIndex(names[i]), static_cast<int>(i));
    EXPECT_FALSE(PixelDetectors()[i].description.empty());
    EXPECT_FALSE(PixelDetectors()[i].reference.empty());
  }
  EXPECT_EQ(DuplicateDetectorInfo().name, "duplicate");
  EXPECT_EQ(PixelDetectorIndex("nope"), -1);
}

TEST(DetectorsTest, FeaturesMatchNumpyOracle) {
  std::ifstream in(testing::DetectDataDir() + "golden.json");
  ASSERT_TRUE(in.good());
  const auto golden = nlohmann::json::parse(in);
  for (const char* name : {"rgb_40x30", "grey_28", "rgba_9x7", "rgb_130x96"}) {
    SCOPED_TRACE(name);
    const auto& g = golden[name];
    auto f = AnalyzeImage(testing::LoadDetectPng(name));
    ASSERT_TRUE(f.ok()) << f.error();
    ASSERT_EQ(f->spectrum.size(), static_cast<size_t>(kSpectrumBins));
    for (int b = 0; b < kSpectrumBins; ++b)
      EXPECT_NEAR(f->spectrum[b], g["spectrum"][b].get<double>(), 2e-4) << "bin " << b;
    EXPECT_NEAR(f->periodic_peak, g["periodic_peak"].get<double>(), 1e-3);
    char hex[17];
    std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(f->phash));
    EXPECT_EQ(std::string(hex), g["phash"].get<std::string>());
    EXPECT_EQ(f->pixel_sha256, g["sha256"].get<std::string>());
    for (const char* d : {"noise", "jpeg", "dark", "light", "clipped_highlights",
                          "clipped_shadows", "colour_cast", "low_information"})
      EXPECT_NEAR(Raw(*f, d), g[d].get<double>(), 1e-4) << d;
  }
}

TEST(DetectorsTest, PercentileMatchesNumpy) {
  std::ifstream in(testing::DetectDataDir() + "golden.json");
  const auto p = nlohmann::json::parse(in)["percentile"];
  const auto values = p["values"].get<std::vector<double>>();
  for (size_t i = 0; i < p["q"].size(); ++i)
    EXPECT_NEAR(Percentile(values, p["q"][i].get<double>()), p["expected"][i].get<double>(), 1e-12);
  EXPECT_TRUE(std::isnan(Percentile({}, 50)));
}

TEST(DetectorsTest, CalibrationRules) {
  // Reference scores 0..100 for every detector: p99 = 99, p50 = 50.
  std::vector<std::vector<double>> ref;
  const size_t nd = PixelDetectors().size();
  for (int i = 0; i <= 100; ++i) ref.push_back(std::vector<double>(nd, i));
  CalibrationOptions opt;
  auto ov = ParseThresholdOverrides("blur=p50,dark=0.25");
  ASSERT_TRUE(ov.ok()) << ov.error();
  opt.overrides = *ov;
  auto cal = Calibrate(ref, opt);
  ASSERT_TRUE(cal.ok()) << cal.error();
  EXPECT_NEAR(cal->thresholds[PixelDetectorIndex("spectral")], 99, 1e-12);
  EXPECT_NEAR(cal->thresholds[PixelDetectorIndex("blur")], 50, 1e-12);
  EXPECT_EQ(cal->thresholds[PixelDetectorIndex("dark")], 0.25);
  EXPECT_EQ(cal->rules[PixelDetectorIndex("dark")], "abs");
  EXPECT_EQ(cal->rules[0], "p99");
  std::vector<double> s(nd, 99.5);
  s[PixelDetectorIndex("blur")] = 50;  // not > threshold
  const auto flags = FlagScores(s, *cal);
  EXPECT_TRUE(flags[0]);
  EXPECT_FALSE(flags[PixelDetectorIndex("blur")]);

  EXPECT_FALSE(ParseThresholdOverrides("nope=p9").ok());
  EXPECT_FALSE(ParseThresholdOverrides("blur=p101").ok());
  EXPECT_FALSE(ParseThresholdOverrides("blur=abc").ok());
  EXPECT_FALSE(ParseThresholdOverrides("blur").ok());
  EXPECT_TRUE(ParseThresholdOverrides("").ok());
  EXPECT_FALSE(Calibrate({}, {}).ok());
  EXPECT_FALSE(Calibrate({{1.0, 2.0}}, {}).ok());
}

TEST(DetectorsTest, HandlesGreyTinyAndBigImages) {
  for (cv::Size s : {cv::Size(1, 1), cv::Size(2, 3), cv::Size(7, 5), cv::Size(28, 28)}) {
    SCOPED_TRACE(s);
    auto g = AnalyzeImage(cv::Mat(s, CV_8UC1, cv::Scalar(90)));
    ASSERT_TRUE(g.ok()) << g.error();
    for (double v : g->raw) EXPECT_TRUE(std::isfinite(v));
    for (double v : g->spectrum) EXPECT_TRUE(std::isfinite(v));
  }
  // Grey and the same grey replicated to RGB give the same detector values (only hashes differ).
  const cv::Mat rgb = SmoothImage(28, 28, 3);
  cv::Mat grey, rgb_grey;
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::cvtColor(grey, rgb_grey, cv::COLOR_GRAY2RGB);
  auto a = AnalyzeImage(grey), b = AnalyzeImage(rgb_grey);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t d = 0; d < a->raw.size(); ++d) EXPECT_NEAR(a->raw[d], b->raw[d], 1e-9) << d;
  EXPECT_EQ(a->phash, b->phash);
  EXPECT_NE(a->pixel_sha256, b->pixel_sha256);
  // A 4000 x 3000 image is capped for the residual detectors and still analysed.
  auto big = AnalyzeImage(SmoothImage(4000, 3000, 4));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->width, 4000);
  EXPECT_FALSE(AnalyzeImage(cv::Mat()).ok());
  EXPECT_FALSE(AnalyzeImage(cv::Mat(4, 4, CV_16UC3)).ok());
}

TEST(DetectorsTest, EachPlantedArtifactRaisesItsDetector) {
  // Analytic directions on one smooth 96 px image (the benchmark measures the rates).
  const cv::Mat clean = SmoothImage(96, 96, 7);
  auto c = AnalyzeImage(clean);
  ASSERT_TRUE(c.ok());
  for (const auto& a : PlantedArtifacts()) {
    if (a.name == "duplicate") continue;
    SCOPED_TRACE(a.name);
    auto p = AnalyzeImage(PlantArtifact(clean, a.name, 1));
    ASSERT_TRUE(p.ok());
    if (a.detector == "blur") {  // reference-relative: scored against the clean image alone
      auto ref = FitReference({*c});
      ASSERT_TRUE(ref.ok());
      const int d = PixelDetectorIndex("blur");
      EXPECT_GT(ScoreImage(*p, *ref)[d], ScoreImage(*c, *ref)[d]);
    }
    EXPECT_GT(Raw(*p, a.detector), Raw(*c, a.detector));
  }
}

TEST(DetectorsTest, SpectralScoreIsZScoreAgainstReference) {
  std::vector<PixelFeatures> ref;
  for (int i = 0; i < 20; ++i) ref.push_back(*AnalyzeImage(SmoothImage(64, 64, 100 + i)));
  auto r = FitReference(ref);
  ASSERT_TRUE(r.ok());
  std::vector<double> mean, sd;
  MeanSpectrum(ref, &mean, &sd);
  EXPECT_EQ(mean, r->spectrum_mean);
  // An image whose spectrum is the reference mean scores 0; one 2 std above everywhere scores 2.
  PixelFeatures f = ref[0];
  f.spectrum = r->spectrum_mean;
  EXPECT_NEAR(ScoreImage(f, *r)[0], 0, 1e-12);
  for (int b = 0; b < kSpectrumBins; ++b) f.spectrum[b] += 2 * r->spectrum_std[b];
  EXPECT_NEAR(ScoreImage(f, *r)[0], 2, 1e-9);
  // "blur": minus the mean z-score of the level-normalised upper bins. The reference mean
  // spectrum's profile is the reference's mean profile (BlurProfile is linear): score 0; lowering
  // every upper bin by 2 std (level bins unchanged) scores 2.
  const int blur = PixelDetectorIndex("blur");
  f.spectrum = r->spectrum_mean;
  EXPECT_NEAR(ScoreImage(f, *r)[blur], 0, 1e-9);
  for (int b = kBlurHighFrom; b < kSpectrumBins; ++b) f.spectrum[b] -= 2 * r->blur_std[b];
  EXPECT_NEAR(ScoreImage(f, *r)[blur], 2, 1e-9);
  // Other scores are the raw values.
  const auto s = ScoreImage(ref[3], *r);
  for (size_t d = 1; d < s.size(); ++d) {
    if (static_cast<int>(d) != blur) {
      EXPECT_EQ(s[d], ref[3].raw[d]);
    }
  }
  const auto freq = SpectrumFrequencies();
  EXPECT_DOUBLE_EQ(freq.front(), 1.0 / kSpectrumSize);
  EXPECT_DOUBLE_EQ(freq.back(), 0.5);
  EXPECT_FALSE(FitReference({}).ok());
}

TEST(DetectorsTest, Duplicates) {
  const cv::Mat a = SmoothImage(64, 64, 1), b = SmoothImage(64, 64, 2);
  cv::Mat a_bright;
  a.convertTo(a_bright, CV_8U, 1.0, 2.0);
  const auto fa = *AnalyzeImage(a), fb = *AnalyzeImage(b), fab = *AnalyzeImage(a_bright);
  const auto fa2 = *AnalyzeImage(a.clone());
  // Set: a, b, a (exact copy); reference: a + 2 brightness.
  const std::vector<ImageHashes> set = {HashesOf(fa), HashesOf(fb), HashesOf(fa2)};
  const std::vector<ImageHashes> ref = {HashesOf(fab)};
  const auto m = FindDuplicates(set, ref);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_TRUE(m[0].exact);
  EXPECT_EQ(m[0].index, 2);
  EXPECT_FALSE(m[0].in_reference);
  EXPECT_TRUE(m[0].flagged);
  EXPECT_DOUBLE_EQ(m[0].score(), 66.0);
  EXPECT_TRUE(m[2].exact);
  EXPECT_EQ(m[2].index, 0);
  EXPECT_FALSE(m[1].flagged);
  EXPECT_GT(m[1].distance, 4);
  // Against the reference only: the brightened copy has the same pHash (near, not exact).
  DuplicateOptions o;
  o.within_set = false;
  const auto r = FindDuplicates(set, ref, o);
  EXPECT_TRUE(r[0].in_reference);
  EXPECT_EQ(r[0].distance, 0);
  EXPECT_FALSE(r[0].exact);
  EXPECT_TRUE(r[0].flagged);
  // Nothing compared: distance 65, not flagged.
  o.against_reference = false;
  const auto none = FindDuplicates({HashesOf(fa)}, {}, o);
  EXPECT_EQ(none[0].index, -1);
  EXPECT_FALSE(none[0].flagged);
  EXPECT_DOUBLE_EQ(none[0].score(), 0.0);
}

}  // namespace
}  // namespace synthlens
