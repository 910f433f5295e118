#include "core/augment/ops.h"

#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/util/check.h"
#include "core/util/random.h"

// Expected outputs come from torchvision 0.14 itself (testdata/oracle.py; regenerate with
// `cd core/augment/testdata && /usr/bin/python3 oracle.py`) so CTest needs no Python.

namespace synthlens {
namespace {

struct OracleCase {
  std::string name, op;
  double a = 0, b = 0;
  cv::Mat image;
};

cv::Mat ReadRaw(const std::string& path, int h, int w) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  cv::Mat m(h, w, CV_8UC3);
  in.read(reinterpret_cast<char*>(m.data), static_cast<std::streamsize>(m.total() * 3));
  EXPECT_EQ(in.gcount(), static_cast<std::streamsize>(m.total() * 3)) << path;
  return m;
}

std::vector<OracleCase> LoadCases() {
  const std::string dir = SYNTHLENS_AUGMENT_TESTDATA;
  std::ifstream in(dir + "/cases.txt");
  EXPECT_TRUE(in.good()) << dir << "/cases.txt";
  std::vector<OracleCase> cases;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::istringstream s(line);
    OracleCase c;
    std::string file;
    int h = 0, w = 0;
    s >> c.name >> c.op >> c.a >> c.b >> file >> h >> w;
    c.image = ReadRaw(dir + "/" + file, h, w);
    cases.push_back(c);
  }
  return cases;
}

const std::vector<OracleCase>& Cases() {
  static const std::vector<OracleCase> cases = LoadCases();
  return cases;
}

cv::Mat Input() { return Cases().at(0).image.clone(); }

int MaxAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  EXPECT_EQ(a.size(), b.size());
  EXPECT_EQ(a.type(), b.type());
  if (a.size() != b.size() || a.type() != b.type()) return 999;
  double max_diff = 0;
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  cv::minMaxLoc(diff.reshape(1), nullptr, &max_diff);
  return static_cast<int>(max_diff);
}

// Runs every oracle case of one op through fn and checks the max abs difference.
template <typename Fn>
void CheckOp(const std::string& op, int tolerance, Fn fn) {
  int count = 0;
  for (const OracleCase& c : Cases()) {
    if (c.op != op) continue;
    ++count;
    cv::Mat img = Input();
    fn(img, c);
    EXPECT_LE(MaxAbsDiff(img, c.image), tolerance) << c.name;
  }
  EXPECT_GT(count, 0) << "no oracle cases for " << op;
}

TEST(OpsTest, BrightnessMatchesTorchvision) {
  CheckOp("brightness", 1, [](cv::Mat& img, const OracleCase& c) { AdjustBrightness(img, c.a); });
}

TEST(OpsTest, ContrastMatchesTorchvision) {
  CheckOp("contrast", 1, [](cv::Mat& img, const OracleCase& c) { AdjustContrast(img, c.a); });
}

TEST(OpsTest, SaturationMatchesTorchvision) {
  CheckOp("saturation", 1, [](cv::Mat& img, const OracleCase& c) { AdjustSaturation(img, c.a); });
}

TEST(OpsTest, HueMatchesTorchvision) {
  CheckOp("hue", 2, [](cv::Mat& img, const OracleCase& c) { AdjustHue(img, c.a); });
}

TEST(OpsTest, GrayscaleMatchesTorchvision) {
  CheckOp("grayscale", 1, [](cv::Mat& img, const OracleCase&) { ToGrayscale(img); });
}

TEST(OpsTest, SolarizeMatchesTorchvision) {
  CheckOp("solarize", 0, [](cv::Mat& img, const OracleCase& c) { Solarize(img, static_cast<int>(c.a)); });
}

TEST(OpsTest, GaussianBlurMatchesTorchvision) {
  CheckOp("blur", 1, [](cv::Mat& img, const OracleCase& c) {
    GaussianBlurInPlace(img, static_cast<int>(c.a), c.b);
  });
}

TEST(OpsTest, FlipsMatchTorchvision) {
  CheckOp("hflip", 0, [](cv::Mat& img, const OracleCase&) { cv::flip(img, img, 1); });
  CheckOp("vflip", 0, [](cv::Mat& img, const OracleCase&) { cv::flip(img, img, 0); });
}

TEST(OpsTest, ResizedCropMatchesTorchvision) {
  CheckOp("resized_crop", 2, [](cv::Mat& img, const OracleCase&) {
    CropRect rect;
    rect.x = 20;
    rect.y = 5;
    rect.w = 24;
    rect.h = 20;
    img = ResizedCrop(img, rect, 48, 40, Interpolation::kBilinear);
  });
}

TEST(OpsTest, IdentityFactorsKeepImage) {
  const cv::Mat input = Input();
  cv::Mat img = input.clone();
  AdjustBrightness(img, 1.0);
  AdjustSaturation(img, 1.0);
  AdjustHue(img, 0.0);
  EXPECT_LE(MaxAbsDiff(img, input), 1);
}

TEST(OpsTest, CropSamplingStaysInsideScaleAndRatio) {
  Rng rng(1);
  const std::array<double, 2> scale{0.08, 1.0};
  const std::array<double, 2> ratio{3.0 / 4.0, 4.0 / 3.0};
  double mean_fraction = 0;
  const int n = 5000;
  for (int i = 0; i < n; ++i) {
    const CropRect r = SampleResizedCrop(rng, 256, 192, scale, ratio);
    ASSERT_GE(r.x, 0);
    ASSERT_GE(r.y, 0);
    ASSERT_LE(r.x + r.w, 256);
    ASSERT_LE(r.y + r.h, 192);
    const double fraction = double(r.w) * r.h / (256.0 * 192.0);
    mean_fraction += fraction / n;
    // Rounding to whole pixels moves area and aspect a little beyond the nominal range.
    EXPECT_GE(fraction, 0.08 * 0.9);
    EXPECT_LE(fraction, 1.0);
    const double aspect = double(r.w) / r.h;
    EXPECT_GE(aspect, 0.75 * 0.95);
    EXPECT_LE(aspect, 4.0 / 3.0 * 1.05);
  }
  // Accepted areas are uniform in [0.08, 1] minus rejections of large, elongated boxes, which
  // fall back to the full-height centre crop; the mean stays well inside the range.
  EXPECT_GT(mean_fraction, 0.35);
  EXPECT_LT(mean_fraction, 0.6);
}

TEST(OpsTest, CropSamplingFallsBackToCentreCrop) {
  Rng rng(2);
  // Scale > 1 can never fit: every attempt fails, so the central crop with clamped ratio is used.
  const CropRect wide = SampleResizedCrop(rng, 400, 100, {2.0, 3.0}, {0.75, 4.0 / 3.0});
  EXPECT_EQ(wide.h, 100);
  EXPECT_EQ(wide.w, 133);  // round(100 * 4/3)
  EXPECT_EQ(wide.x, (400 - 133) / 2);
  EXPECT_EQ(wide.y, 0);
  const CropRect tall = SampleResizedCrop(rng, 100, 400, {2.0, 3.0}, {0.75, 4.0 / 3.0});
  EXPECT_EQ(tall.w, 100);
  EXPECT_EQ(tall.h, 133);
  EXPECT_EQ(tall.y, (400 - 133) / 2);
  const CropRect square = SampleResizedCrop(rng, 100, 100, {2.0, 3.0}, {0.75, 4.0 / 3.0});
  EXPECT_EQ(square.w, 100);
  EXPECT_EQ(square.h, 100);
}

TEST(OpsTest, EraseSamplingAndFill) {
  Rng rng(3);
  CropRect r;
  for (int i = 0; i < 1000; ++i) {
    ASSERT_TRUE(SampleEraseRect(rng, 64, 48, {0.02, 0.33}, {0.3, 3.3}, &r) || true);
  }
  ASSERT_TRUE(SampleEraseRect(rng, 64, 48, {0.1, 0.1}, {1.0, 1.0}, &r));
  EXPECT_LT(r.w, 64);
  EXPECT_LT(r.h, 48);
  EXPECT_FALSE(SampleEraseRect(rng, 64, 48, {0.99, 0.99}, {1.0, 1.0}, &r));
  cv::Mat img(48, 64, CV_8UC3, cv::Scalar::all(100));
  CropRect box;
  box.x = 3;
  box.y = 4;
  box.w = 10;
  box.h = 5;
  EraseRect(img, box, 7, false, nullptr);
  EXPECT_EQ(img.at<cv::Vec3b>(4, 3), cv::Vec3b(7, 7, 7));
  EXPECT_EQ(img.at<cv::Vec3b>(8, 12), cv::Vec3b(7, 7, 7));
  EXPECT_EQ(img.at<cv::Vec3b>(9, 12), cv::Vec3b(100, 100, 100));
  EXPECT_EQ(cv::countNonZero(img.reshape(1) == 7), 10 * 5 * 3);
}

TEST(OpsTest, RotationByZeroIsIdentityAndNinetyTurns) {
  const cv::Mat input = Input()(cv::Rect(0, 0, 37, 37)).clone();
  cv::Mat img = input.clone();
  RotateImage(img, 0.0);
  EXPECT_EQ(MaxAbsDiff(img, input), 0);
  img = input.clone();
  RotateImage(img, 90.0);  // counter-clockwise, like torchvision
  cv::Mat expected;
  cv::rotate(input, expected, cv::ROTATE_90_COUNTERCLOCKWISE);
  EXPECT_EQ(MaxAbsDiff(img, expected), 0);
}

TEST(OpsTest, JpegKeepsColoursRoughly) {
  cv::Mat img(64, 64, CV_8UC3, cv::Scalar(200, 40, 10));  // a saturated red in RGB
  JpegReencode(img, 90);
  const cv::Vec3b px = img.at<cv::Vec3b>(32, 32);
  EXPECT_NEAR(px[0], 200, 6);
  EXPECT_NEAR(px[1], 40, 6);
  EXPECT_NEAR(px[2], 10, 6);
}

TEST(OpsTest, GaussianNoiseHasRequestedSigma) {
  cv::Mat img(128, 128, CV_8UC3, cv::Scalar::all(128));
  Rng rng(4);
  AddGaussianNoise(img, 10.0, rng);
  cv::Scalar mean, stddev;
  cv::meanStdDev(img.reshape(1), mean, stddev);
  EXPECT_NEAR(mean[0], 128, 0.5);
  EXPECT_NEAR(stddev[0], 10, 0.5);
}

TEST(OpsTest, KernelFractionFollowsSimclr) {
  EXPECT_EQ(KernelSizeFromFraction(0.1, 224), 23);
  EXPECT_EQ(KernelSizeFromFraction(0.1, 96), 9);
  EXPECT_EQ(KernelSizeFromFraction(0.1, 32), 3);
  EXPECT_EQ(KernelSizeFromFraction(0.1, 10), 3);
}

TEST(OpsTest, RejectsWrongImageTypes) {
  cv::Mat gray(8, 8, CV_8UC1, cv::Scalar::all(0));
  EXPECT_THROW(AdjustBrightness(gray, 1.2), Error);
  cv::Mat img(8, 8, CV_8UC3, cv::Scalar::all(0));
  EXPECT_THROW(AdjustHue(img, 0.7), Error);
  EXPECT_THROW(GaussianBlurInPlace(img, 4, 1.0), Error);
}

}  // namespace
}  // namespace synthlens
