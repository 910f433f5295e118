#include "core/detect/image_stats.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <opencv2/imgproc.hpp>

#include "core/detect/image_stats_internal.h"
#include "core/util/check.h"

namespace synthlens {
namespace internal {

const std::array<std::array<double, 256>, 3>& LumaSquareTables() {
  static const auto tables = [] {
    std::array<std::array<double, 256>, 3> t{};
    const double w[3] = {0.241, 0.691, 0.068};
    for (int c = 0; c < 3; ++c) {
      for (int v = 0; v < 256; ++v) t[c][v] = w[c] * v * v;
    }
    return t;
  }();
  return tables;
}

cv::Mat GreyOf(const cv::Mat& image) {
  SL_CHECK(!image.empty(), "empty image");
  SL_CHECK(image.type() == CV_8UC1 || image.type() == CV_8UC3 || image.type() == CV_8UC4,
           "image must be CV_8UC1, CV_8UC3 or CV_8UC4, got type " << image.type());
  if (image.channels() == 1) return image;
  cv::Mat grey;
  cv::cvtColor(image, grey, image.channels() == 3 ? cv::COLOR_RGB2GRAY : cv::COLOR_RGBA2GRAY);
  return grey;
}

ImageStats ComputeImageStatsImpl(const cv::Mat& image, const cv::Mat& grey,
                                 std::array<int64_t, 256>* luma_hist) {
  SL_CHECK(image.type() == CV_8UC1 || image.type() == CV_8UC3 || image.type() == CV_8UC4,
           "image must be CV_8UC1, CV_8UC3 or CV_8UC4, got type " << image.type());
  SL_CHECK(!image.empty(), "empty image");
  // Squares weighted once per 8-bit value; luma = sqrt(sum) / 255.
  const auto& kTables = internal::LumaSquareTables();
  const int ch = image.channels();
  const int64_t n = static_cast<int64_t>(image.rows) * image.cols;
  double sum_l = 0, sum_l2 = 0, sum_s = 0;
  double sum_c[3] = {0, 0, 0};
  if (luma_hist) luma_hist->fill(0);
  for (int y = 0; y < image.rows; ++y) {
    const uint8_t* p = image.ptr<uint8_t>(y);
    for (int x = 0; x < image.cols; ++x, p += ch) {
      int r, g, b;
      if (ch == 1) {
        r = g = b = p[0];
      } else {
        r = p[0];
        g = p[1];
        b = p[2];
      }
      const double l = std::sqrt(kTables[0][r] + kTables[1][g] + kTables[2][b]);
      sum_l += l;
      sum_l2 += l * l;
      if (luma_hist) (*luma_hist)[std::min(255, static_cast<int>(std::lround(l)))]++;
      const int mx = std::max(r, std::max(g, b));
      const int mn = std::min(r, std::min(g, b));
      if (mx > 0) sum_s += static_cast<double>(mx - mn) / mx;
      sum_c[0] += r;
      sum_c[1] += g;
      sum_c[2] += b;
    }
  }
  ImageStats s;
  const double mean_l = sum_l / n;
  s.brightness = mean_l / 255.0;
  s.contrast = std::sqrt(std::max(0.0, sum_l2 / n - mean_l * mean_l)) / 255.0;
  s.saturation = sum_s / n;
  s.mean_r = sum_c[0] / n / 255.0;
  s.mean_g = sum_c[1] / n / 255.0;
  s.mean_b = sum_c[2] / n / 255.0;

  cv::Mat lap;
  cv::Laplacian(grey, lap, CV_64F, 1);
  cv::Scalar m, sd;
  cv::meanStdDev(lap, m, sd);
  s.sharpness = sd[0] * sd[0];

  std::array<int64_t, 256> hist{};
  for (int y = 0; y < grey.rows; ++y) {
    const uint8_t* p = grey.ptr<uint8_t>(y);
    for (int x = 0; x < grey.cols; ++x) hist[p[x]]++;
  }
  double h = 0;
  for (int64_t c : hist) {
    if (c == 0) continue;
    const double q = static_cast<double>(c) / n;
    h -= q * std::log2(q);
  }
  s.entropy = h;
  return s;
}

}  // namespace internal

ImageStats ComputeImageStats(const cv::Mat& image) {
  return internal::ComputeImageStatsImpl(image, internal::GreyOf(image), nullptr);
}

std::vector<std::pair<std::string, double>> ImageStatsFields(const ImageStats& s) {
  return {{"brightness", s.brightness}, {"contrast", s.contrast}, {"saturation", s.saturation},
          {"sharpness", s.sharpness},   {"entropy", s.entropy},   {"mean_r", s.mean_r},
          {"mean_g", s.mean_g},         {"mean_b", s.mean_b}};
}

}  // namespace synthlens
