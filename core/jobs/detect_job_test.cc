// The detect job against brute-force references: memorisation / authenticity / drift scores and
// their calibrated thresholds recomputed here from the raw pixels (the "pixels" encoder embeds an
// image as its 28x28 grey values / 255), plus flags of planted images, CSV, overrides and errors.
#include "core/jobs/detect_job.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "core/util/random.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

constexpr int kReference = 80;

// Smooth, varied 28x28 images: a per-image gradient and two blobs, class = which blob is larger.
uint8_t ReferencePixel(int i, int y, int x) {
  const double cx1 = 6 + (i * 7) % 16, cy1 = 6 + (i * 11) % 16;
  const double cx2 = 6 + (i * 5) % 16, cy2 = 6 + (i * 3) % 16;
  const double r1 = 3 + (i % 4), r2 = 2 + (i % 3);
  double v = 30 + 2.0 * x + 1.5 * y * ((i % 5) - 2) / 2.0;
  v += 150 * std::exp(-((x - cx1) * (x - cx1) + (y - cy1) * (y - cy1)) / (2 * r1 * r1));
  v += 100 * std::exp(-((x - cx2) * (x - cx2) + (y - cy2) * (y - cy2)) / (2 * r2 * r2));
  return static_cast<uint8_t>(std::clamp(v, 0.0, 250.0));
}

cv::Mat ReferenceImage(int i) {
  cv::Mat m(28, 28, CV_8UC1);
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) m.at<uint8_t>(y, x) = ReferencePixel(i, y, x);
  }
  return m;
}

std::vector<double> Flat(const cv::Mat& grey) {
  std::vector<double> v;
  for (int y = 0; y < grey.rows; ++y) {
    for (int x = 0; x < grey.cols; ++x) v.push_back(grey.at<uint8_t>(y, x) / 255.0);
  }
  return v;
}

double Dot(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += a[k] * b[k];
  return s;
}
double Cos(const std::vector<double>& a, const std::vector<double>& b) {
  return Dot(a, b) / std::sqrt(Dot(a, a) * Dot(b, b));
}
double Dist(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t k = 0; k < a.size(); ++k) s += (a[k] - b[k]) * (a[k] - b[k]);
  return std::sqrt(s);
}
// numpy.percentile, linear interpolation.
double NumpyPercentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * (v.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(v.size() - 1, lo + 1);
  return v[lo] + (pos - lo) * (v[hi] - v[lo]);
}

class DetectJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    reference_ = testing::WriteIdxPair(dir_.Join("ref-images-idx3-ubyte"),
                                       dir_.Join("ref-labels-idx1-ubyte"), kReference,
                                       ReferencePixel, [](int i) { return i % 2; });
    auto source = OpenImageSource(reference_);
    ASSERT_TRUE(source.ok()) << source.error();
    for (int i = 0; i < kReference; ++i) ref_ids_.push_back((*source)->record(i).id);
    input_ = dir_.Join("views");
    std::filesystem::create_directories(input_);
    auto write = [&](const std::string& name, const cv::Mat& m) {
      ASSERT_TRUE(cv::imwrite(input_ + "/" + name, m));
      images_[name] = m;
    };
    write("copy.png", ReferenceImage(3));                      // exact copy of a real image
    write("flat.png", cv::Mat(28, 28, CV_8UC1, cv::Scalar(128)));  // no information
    cv::Mat bright = ReferenceImage(5) * 0.3 + 180;             // washed out
    write("bright.png", bright);
    cv::Mat shifted;
    cv::Mat ref10 = ReferenceImage(10);
    cv::copyMakeBorder(ref10(cv::Rect(0, 0, 27, 28)), shifted, 0, 0, 1, 0, cv::BORDER_REPLICATE);
    write("view_a.png", shifted);          // a view close to its source (reference 10)
    write("view_b.png", ReferenceImage(41));  // claims source 11, looks like reference 41
    for (int k = 0; k < 6; ++k) write("plain_" + std::to_string(k) + ".png", ReferenceImage(60 + k));
    testing::WriteFile(input_ + "/corrupt.png", "\x89PNG\r\n\x1a\n not really a png");
    testing::WriteFile(input_ + "/manifest.jsonl",
                       "{\"file\":\"view_a.png\",\"source\":\"" + ref_ids_[10] +
                           "\",\"view\":0}\n{\"file\":\"view_b.png\",\"source\":\"" + ref_ids_[11] +
                           "\",\"view\":0}\nnot json\n");
  }

  DetectJobOptions Options() const {
    DetectJobOptions o;
    o.input = input_;
    o.reference = reference_;
    o.encoder = "pixels";
    o.batch = 7;  // several batches
    return o;
  }

  Result<DetectJobResult> Run(const DetectJobOptions& o) {
    issues_.clear();
    return RunDetectJob(o, nullptr, [&](const SourceIssue& i) { issues_.push_back(i); });
  }

  int Row(const DetectJobResult& r, const std::string& id) const {
    for (size_t i = 0; i < r.ids.size(); ++i) {
      if (r.ids[i] == id) return static_cast<int>(i);
    }
    ADD_FAILURE() << "no row " << id;
    return 0;
  }

  testing::TempDir dir_;
  std::string reference_, input_;
  std::vector<std::string> ref_ids_;
  std::map<std::string, cv::Mat> images_;
  std::vector<SourceIssue> issues_;
};

TEST_F(DetectJobTest, EmbeddingDetectorsMatchBruteForce) {
  auto r = Run(Options());
  ASSERT_TRUE(r.ok()) << r.error();
  // The corrupt file is reported and skipped; the rest are scored.
  ASSERT_EQ(r->ids.size(), images_.size());
  ASSERT_EQ(issues_.size(), 1u);
  EXPECT_NE(issues_[0].file.find("corrupt.png"), std::string::npos);
  EXPECT_EQ(r->skipped, 1);
  EXPECT_EQ(r->reference_count, kReference);

  std::vector<std::vector<double>> ref(kReference);
  for (int j = 0; j < kReference; ++j) ref[j] = Flat(ReferenceImage(j));
  // Leave-one-out nearest neighbours of the reference.
  std::vector<double> ref_max_cos(kReference, -1), ref_radius(kReference, 1e300);
  for (int j = 0; j < kReference; ++j) {
    for (int k = 0; k < kReference; ++k) {
      if (k == j) continue;
      ref_max_cos[j] = std::max(ref_max_cos[j], Cos(ref[j], ref[k]));
      ref_radius[j] = std::min(ref_radius[j], Dist(ref[j], ref[k]));
    }
  }
  const int mem = r->DetectorIndex("memorisation");
  const int auth = r->DetectorIndex("authenticity");
  const int drift = r->DetectorIndex("semantic_drift");
  ASSERT_GE(mem, 0);
  ASSERT_GE(auth, 0);
  ASSERT_GE(drift, 0);
  EXPECT_NEAR(r->thresholds[mem], NumpyPercentile(ref_max_cos, 99), 1e-5);
  std::vector<double> ref_drift;
  for (double c : ref_max_cos) ref_drift.push_back(1 - c);
  EXPECT_NEAR(r->thresholds[drift], NumpyPercentile(ref_drift, 99), 1e-5);
  EXPECT_EQ(r->rules[auth], "abs");
  EXPECT_DOUBLE_EQ(r->thresholds[auth], 1.0);

  for (size_t i = 0; i < r->ids.size(); ++i) {
    const std::vector<double> x = Flat(images_.at(r->ids[i]));
    double best_cos = -1, best_d = 1e300;
    int nn = -1;
    for (int j = 0; j < kReference; ++j) {
      best_cos = std::max(best_cos, Cos(x, ref[j]));
      const double d = Dist(x, ref[j]);
      if (d < best_d) best_d = d, nn = j;
    }
    EXPECT_NEAR(r->scores[i][mem], best_cos, 1e-5) << r->ids[i];
    const double ratio = best_d > 1e-6 ? ref_radius[nn] / best_d : 1e6;
    if (best_d > 1e-3) {
      EXPECT_NEAR(r->scores[i][auth], ratio, 1e-3 * ratio) << r->ids[i];
    }
    EXPECT_EQ(r->flags[i][auth], ratio > 1.0) << r->ids[i];
  }
  // The exact copy: memorised, inauthentic, an exact duplicate of a reference image.
  const int copy = Row(*r, "copy.png");
  EXPECT_NEAR(r->scores[copy][mem], 1.0, 1e-6);
  EXPECT_TRUE(r->flags[copy][mem]);
  EXPECT_TRUE(r->flags[copy][auth]);
  EXPECT_TRUE(r->duplicates[copy].exact);
  EXPECT_TRUE(r->duplicates[copy].in_reference);
  EXPECT_EQ(r->duplicates[copy].index, 3);
  EXPECT_TRUE(r->flags[copy][r->DetectorIndex("duplicate")]);

  // Drift only for views with a known source, measured against that source.
  const int a = Row(*r, "view_a.png"), b = Row(*r, "view_b.png");
  EXPECT_EQ(r->source_ids[a], ref_ids_[10]);
  EXPECT_EQ(r->source_ids[b], ref_ids_[11]);
  EXPECT_NEAR(r->scores[a][drift], 1 - Cos(Flat(images_.at("view_a.png")), ref[10]), 1e-5);
  EXPECT_NEAR(r->scores[b][drift], 1 - Cos(Flat(images_.at("view_b.png")), ref[11]), 1e-5);
  EXPECT_LT(r->scores[a][drift], r->scores[b][drift]);
  EXPECT_TRUE(std::isnan(r->scores[copy][drift]));
  EXPECT_TRUE(std::isnan(r->scores[copy][r->DetectorIndex("class_change")]));
  EXPECT_FALSE(std::isnan(r->scores[a][r->DetectorIndex("class_change")]));
}

TEST_F(DetectJobTest, PlantedPixelArtifactsAreFlagged) {
  auto r = Run(Options());
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->flags[Row(*r, "flat.png")][r->DetectorIndex("low_information")]);
  EXPECT_TRUE(r->flags[Row(*r, "bright.png")][r->DetectorIndex("light")]);
  // Thresholds are the reference's 99th percentiles: at most 1 of 80 reference images exceeds.
  DetectJobOptions self = Options();
  self.input = reference_;
  self.reference = reference_;
  auto on_ref = Run(self);
  ASSERT_TRUE(on_ref.ok()) << on_ref.error();
  for (size_t d = 0; d < PixelDetectors().size(); ++d) {
    EXPECT_LE(on_ref->FlaggedCount(static_cast<int>(d)), 1) << on_ref->detectors[d].name;
  }
}

TEST_F(DetectJobTest, CsvHasOneRowPerScoredImageAndDetector) {
  auto r = Run(Options());
  ASSERT_TRUE(r.ok()) << r.error();
  const std::string csv = dir_.Join("out/scores.csv");
  auto lines = WriteDetectCsv(*r, csv);
  ASSERT_TRUE(lines.ok()) << lines.error();
  std::ifstream in(csv);
  std::string line;
  std::getline(in, line);
  EXPECT_EQ(line, "image,detector,score,flagged");
  int64_t rows = 0, flagged = 0;
  while (std::getline(in, line)) {
    ++rows;
    std::stringstream s(line);
    std::string image, detector, score, flag;
    std::getline(s, image, ',');
    std::getline(s, detector, ',');
    std::getline(s, score, ',');
    std::getline(s, flag, ',');
    const int i = Row(*r, image), d = r->DetectorIndex(detector);
    ASSERT_GE(d, 0) << detector;
    EXPECT_NEAR(std::stod(score), r->scores[i][d], 1e-6 * std::max(1.0, std::abs(r->scores[i][d])));
    EXPECT_EQ(flag, r->flags[i][d] ? "1" : "0");
    flagged += flag == "1";
  }
  int64_t expected = 0, expected_flagged = 0;
  for (size_t i = 0; i < r->ids.size(); ++i) {
    for (size_t d = 0; d < r->detectors.size(); ++d) {
      expected += !std::isnan(r->scores[i][d]);
      expected_flagged += r->flags[i][d];
    }
  }
  EXPECT_EQ(rows, expected);
  EXPECT_EQ(*lines, expected);
  EXPECT_EQ(flagged, expected_flagged);
}

TEST_F(DetectJobTest, OverridesNoEncoderAndErrors) {
  DetectJobOptions o = Options();
  o.thresholds = "light=0.5,memorisation=p50";
  auto r = Run(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_DOUBLE_EQ(r->thresholds[r->DetectorIndex("light")], 0.5);
  EXPECT_EQ(r->rules[r->DetectorIndex("light")], "abs");
  EXPECT_EQ(r->rules[r->DetectorIndex("memorisation")], "p50");

  o = Options();
  o.encoder = "none";
  r = Run(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->DetectorIndex("memorisation"), -1);
  EXPECT_EQ(r->detectors.size(), PixelDetectors().size() + 1);
  EXPECT_TRUE(r->embeddings.empty());

  o = Options();
  o.thresholds = "sharpnes=p90";
  r = Run(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("sharpnes"), std::string::npos);
  o.thresholds = "duplicate=3";
  EXPECT_FALSE(Run(o).ok());
  o.thresholds = "blur=p120";
  EXPECT_FALSE(Run(o).ok());

  o = Options();
  o.reference = dir_.Join("missing-folder");
  r = Run(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("--reference"), std::string::npos);
  EXPECT_NE(r.error().find("missing-folder"), std::string::npos);

  o = Options();
  o.encoder = dir_.Join("no-such-package");
  r = Run(o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("--encoder"), std::string::npos);

  o = Options();
  auto cancelled = RunDetectJob(o, [](double f) { return f < 0.2; }, nullptr);
  ASSERT_FALSE(cancelled.ok());
  EXPECT_EQ(cancelled.error(), "cancelled");
}

TEST_F(DetectJobTest, WithoutReferenceTheInputCalibratesItself) {
  DetectJobOptions o = Options();
  o.input = reference_;
  o.reference = "";
  auto r = Run(o);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->reference_count, kReference);
  // Leave-one-out: no image is its own nearest neighbour.
  const int mem = r->DetectorIndex("memorisation");
  for (size_t i = 0; i < r->ids.size(); ++i) EXPECT_LT(r->scores[i][mem], 0.999999) << r->ids[i];
  // AuthPct on the set itself, leave one out, against a float64 brute force: a pair of mutual
  // nearest neighbours gives a ratio of exactly 1 and is not flagged (float32 rounding once
  // flagged about 2% of real images this way).
  std::vector<std::vector<double>> x(kReference);
  for (int j = 0; j < kReference; ++j) x[j] = Flat(ReferenceImage(j));
  std::vector<double> radius(kReference, 1e300);
  std::vector<int> nn(kReference, -1);
  for (int j = 0; j < kReference; ++j) {
    for (int k = 0; k < kReference; ++k) {
      if (k != j && Dist(x[j], x[k]) < radius[j]) radius[j] = Dist(x[j], x[k]), nn[j] = k;
    }
  }
  const int auth = r->DetectorIndex("authenticity");
  int mutual = 0;
  for (int i = 0; i < kReference; ++i) {
    const double ratio = radius[nn[i]] / radius[i];
    mutual += nn[nn[i]] == i;
    EXPECT_NEAR(r->scores[i][auth], ratio, 1e-6 * ratio) << r->ids[i];
    EXPECT_EQ(r->flags[i][auth], ratio > 1.0) << r->ids[i];
  }
  EXPECT_GT(mutual, 0);  // the ratio-exactly-1 case is exercised
}

}  // namespace
}  // namespace synthlens
