#include "core/detect/planted.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/io/image_source.h"

namespace synthlens {
namespace {

bool HaveFashionMnist() {
  return std::filesystem::exists(DefaultFashionMnistDir() + "/t10k-images-idx3-ubyte.gz") ||
         std::filesystem::exists(DefaultFashionMnistDir() + "/t10k-images-idx3-ubyte");
}

int Index(const std::vector<std::string>& v, const std::string& s) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i] == s) return static_cast<int>(i);
  return -1;
}

// The bars of docs/detectors.md: the detector meant for an artifact reaches AUROC >= 0.95 on it,
// and no detector flags more than ~1% of held-out clean images (3% allowed at N = 300).
void ExpectBars(const PlantedBenchmarkResult& r, const std::vector<std::string>& skip) {
  for (size_t d = 0; d < r.detectors.size(); ++d)
    EXPECT_LE(r.clean_flag_rate[d], 0.03) << r.detectors[d];
  for (size_t a = 0; a < r.artifacts.size(); ++a) {
    if (Index(skip, r.artifacts[a].name) >= 0) continue;
    const int d = Index(r.detectors, r.artifacts[a].detector);
    ASSERT_GE(d, 0);
    EXPECT_GE(r.auroc[a][d], 0.95) << r.artifacts[a].name << " -> " << r.artifacts[a].detector;
    EXPECT_GE(r.planted_flag_rate[a][d], 0.5) << r.artifacts[a].name;
  }
}

TEST(PlantedTest, FashionMnistNativeMeetsBars) {
  if (!HaveFashionMnist()) GTEST_SKIP() << "no Fashion-MNIST at " << DefaultFashionMnistDir();
  PlantedBenchmarkOptions o;
  o.reference_count = 1000;
  o.clean_count = 300;
  auto r = RunPlantedBenchmark(o);
  ASSERT_TRUE(r.ok()) << r.error();
  // Known misses at 28 px (docs/detectors.md): clipped shadows reach ~0.92 only (about 5% of
  // Fashion-MNIST items have hard black edges without a dark toe, like a clipped image); a faint
  // 3-level grid is below per-image detectability in a 28 x 28 residual spectrum.
  ExpectBars(*r, {"clip_shadows", "periodic_grid"});
  const int shadows = Index(r->detectors, "clipped_shadows");
  for (size_t a = 0; a < r->artifacts.size(); ++a) {
    if (r->artifacts[a].name == "clip_shadows") {
      EXPECT_GE(r->auroc[a][shadows], 0.88);
    }
  }
  const auto j = nlohmann::json::parse(PlantedBenchmarkJson(*r));
  EXPECT_EQ(j["artifacts"].size(), PlantedArtifacts().size());
  EXPECT_EQ(j["detectors"].size(), PixelDetectors().size() + 1);
}

TEST(PlantedTest, FashionMnistUpscaledMeetsBars) {
  if (!HaveFashionMnist()) GTEST_SKIP() << "no Fashion-MNIST at " << DefaultFashionMnistDir();
  PlantedBenchmarkOptions o;
  o.reference_count = 600;
  o.clean_count = 300;
  o.size = 112;
  auto r = RunPlantedBenchmark(o);
  ASSERT_TRUE(r.ok()) << r.error();
  ExpectBars(*r, {});
}

TEST(PlantedTest, PlantsKeepSizeAndAreDeterministic) {
  cv::Mat img(30, 33, CV_8UC3, cv::Scalar(120, 90, 60));
  for (const auto& a : PlantedArtifacts()) {
    if (a.name == "duplicate") {
      EXPECT_THROW(PlantArtifact(img, a.name, 0), Error);
      continue;
    }
    const cv::Mat p = PlantArtifact(img, a.name, 5);
    EXPECT_EQ(p.size(), img.size()) << a.name;
    EXPECT_EQ(p.type(), CV_8UC3) << a.name;
    EXPECT_EQ(cv::norm(p, PlantArtifact(img, a.name, 5), cv::NORM_INF), 0) << a.name;
  }
  EXPECT_THROW(PlantArtifact(img, "nope", 0), Error);
}

TEST(PlantedTest, FailsForTooSmallSource) {
  if (!HaveFashionMnist()) GTEST_SKIP();
  PlantedBenchmarkOptions o;
  o.reference_count = 9000;
  o.clean_count = 2000;
  EXPECT_FALSE(RunPlantedBenchmark(o).ok());
}

}  // namespace
}  // namespace synthlens
