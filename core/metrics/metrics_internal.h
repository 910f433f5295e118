#pragma once
// Helpers shared by the .cc files of core/metrics (not part of the public API; no ATen here).

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"

namespace synthlens::metrics_internal {

// "" when x is a usable embedding set, else "<name> set is empty" / "<name> set: row R column C is
// not finite (nan)". A Mat that is neither CV_32F nor CV_64F with one channel throws (contract).
std::string CheckSet(const cv::Mat& x, const std::string& name);
// CheckSet on both plus the dimension match.
std::string CheckPair(const cv::Mat& real, const cv::Mat& synthetic);

// Row r of x as float64 (x is CV_32F or CV_64F).
void RowToDouble(const cv::Mat& x, int64_t r, double* out);
// Exact squared Euclidean distance (sequential float64 sum of squared differences, the same sum
// scipy's cdist forms) between row i of a and row j of b.
double ExactSquaredDistance(const cv::Mat& a, int64_t i, const cv::Mat& b, int64_t j);
// Exact float64 dot product of row i of a and row j of b.
double ExactDot(const cv::Mat& a, int64_t i, const cv::Mat& b, int64_t j);

// The rows `index` of x as a new matrix of the same type.
cv::Mat GatherRows(const cv::Mat& x, const std::vector<int64_t>& index);

// Maps the progress of a sub-step into [begin, end] of the caller's progress, and remembers a
// cancellation so that later sub-steps stop at once.
class SubProgress {
 public:
  SubProgress(const ProgressFn& outer, double begin, double end)
      : outer_(outer), begin_(begin), end_(end) {}
  // The callback to hand to the sub-step (nullptr-safe: always returns a callable).
  ProgressFn Fn();
  bool Report(double fraction);

 private:
  const ProgressFn& outer_;
  double begin_, end_;
};

}  // namespace synthlens::metrics_internal
