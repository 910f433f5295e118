#pragma once

#include <opencv2/core.hpp>
#include <string>

namespace synthlens {

// PNG bytes of an 8-bit RGB image (CV_8UC3, RGB order; CV_8UC1 is written as grayscale).
// Throws synthlens::Error for any other type.
std::string EncodePng(const cv::Mat& rgb);

// Writes `rgb` as a PNG atomically (temporary file + rename). Returns "" or the error.
std::string WritePng(const std::string& path, const cv::Mat& rgb);

}  // namespace synthlens
