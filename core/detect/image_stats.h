#pragma once
// Per-image summary statistics shared by the artifact detectors (docs/detectors.md) and the bias
// report. All values are computed on the 8-bit pixels as given (no resizing).

#include <opencv2/core.hpp>
#include <string>
#include <utility>
#include <vector>

namespace synthlens {

struct ImageStats {
  double brightness = 0;  // mean of cleanvision luma sqrt(0.241 R^2 + 0.691 G^2 + 0.068 B^2) / 255, in [0, 1]
  double contrast = 0;    // standard deviation of that luma, in [0, 1] units
  double saturation = 0;  // mean HSV saturation (max-min)/max, in [0, 1] (0 for grey)
  double sharpness = 0;   // variance of the 3x3 Laplacian of the 8-bit grey image
  double entropy = 0;     // Shannon entropy (bits) of the 256-bin grey histogram
  double mean_r = 0, mean_g = 0, mean_b = 0;  // channel means in [0, 1]
};

// image: CV_8UC1, CV_8UC3 (RGB order) or CV_8UC4 (RGBA); anything else is a contract violation (SL_CHECK).
ImageStats ComputeImageStats(const cv::Mat& image);

// Names and values in a fixed order ("brightness", "contrast", "saturation", "sharpness", "entropy", "mean_r", "mean_g", "mean_b").
std::vector<std::pair<std::string, double>> ImageStatsFields(const ImageStats& stats);

}  // namespace synthlens
