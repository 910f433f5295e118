#pragma once
// Shared by image_stats.cc and detectors.cc: the grey copy and the statistics computed with the
// luma histogram the exposure detectors reuse, so an image is walked once.

#include <array>
#include <cstdint>
#include <opencv2/core.hpp>

#include "core/detect/image_stats.h"

namespace synthlens::internal {

// The cleanvision luma weights applied to squared 8-bit values: luma = sqrt(t[0][R] + t[1][G] +
// t[2][B]) / 255 (t[c][v] = w_c v^2 with w = 0.241, 0.691, 0.068).
const std::array<std::array<double, 256>, 3>& LumaSquareTables();

// 8-bit grey image: the input for CV_8UC1, else OpenCV's RGB(A)2GRAY (ITU-R 601 weights).
cv::Mat GreyOf(const cv::Mat& image);

// ComputeImageStats with a precomputed grey image; optionally fills the 256-bin histogram of the
// cleanvision luma rounded to 8 bits.
ImageStats ComputeImageStatsImpl(const cv::Mat& image, const cv::Mat& grey,
                                 std::array<int64_t, 256>* luma_hist);

}  // namespace synthlens::internal
