#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/util/result.h"

namespace synthlens {

// Writes a 2-D single-channel CV_32F (or CV_64F) matrix as a NumPy .npy file (format 1.0,
// little-endian, C order; dtype '<f4' or '<f8'), atomically (temporary + fsync + rename).
// Returns an empty string on success, else "PATH: reason". Other Mat types are a contract
// violation and throw synthlens::Error.
std::string WriteNpy(const std::string& path, const cv::Mat& matrix);

// Reads a 1-D or 2-D .npy array of dtype '<f4' or '<f8' in C order (format versions 1-3).
// Returns a CV_32F or CV_64F Mat with the stored dtype: shape (R, C) -> R x C, shape (N,) -> N x 1;
// `shape`, when given, receives the stored shape. Failures name the file: "X.npy: not an .npy
// file", "... fortran order not supported", "... dtype '<i8' not supported", "... truncated".
Result<cv::Mat> ReadNpy(const std::string& path, std::vector<int64_t>* shape = nullptr);

// Parses .npy bytes (ReadNpy without the file); `name` is used in error messages.
Result<cv::Mat> ParseNpy(const std::string& bytes, const std::string& name,
                         std::vector<int64_t>* shape = nullptr);

}  // namespace synthlens
