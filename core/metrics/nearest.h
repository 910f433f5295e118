#pragma once
// Nearest neighbours of embedding rows in a base set, for the memorisation / authenticity /
// drift detectors of `synthlens detect` (core/jobs/detect_job).

#include <cstdint>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"

namespace synthlens {

struct NearestRowsResult {
  std::vector<double> max_cosine;   // largest cosine similarity to a base row (-1 when none)
  std::vector<int64_t> nn;          // Euclidean nearest base row (-1 when none)
  std::vector<double> nn_distance;  // its distance (+inf when none)
};

// For every row of `queries` (N x d, CV_32F): the largest cosine similarity to a row of `base`
// (M x d, CV_32F) and the Euclidean nearest base row. `exclude_self`: queries and base are the
// same set, so row i never matches base row i (leave one out). Blocked float32 GEMM (ATen on
// OpenBLAS, parallel) picks the rows, then the returned cosine and distance are recomputed in
// float64 for those rows (an exact copy gives distance 0 and cosine 1); only rows within float32
// rounding of each other may be picked differently than an exact search would. A zero row has cosine 0 to everything. progress(fraction) returning false stops early
// (the remaining rows keep their "none" values).
NearestRowsResult NearestRows(const cv::Mat& queries, const cv::Mat& base, bool exclude_self,
                              const ProgressFn& progress = nullptr);

}  // namespace synthlens
