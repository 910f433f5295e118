#pragma once
// Real vs synthetic set metrics on embeddings (docs/metrics.md), exactly as defined in
// ../shared/design/REFERENCES.md: FID, KID, precision/recall, density/coverage, Vendi, AuthPct,
// classifier two-sample test; per-class variants and half-sampling confidence intervals.

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct SetMetricsOptions {
  int kid_subsets = 100;       // torch-fidelity defaults
  int kid_subset_size = 1000;  // clipped to the smaller set's size
  int pr_k = 3;                // improved precision/recall (Kynkäänniemi et al.)
  int dc_k = 5;                // density/coverage (Naeem et al.)
  int c2st_folds = 5;          // cross-validation folds of the real-vs-synthetic classifier
  // Rounds of half-sampling for confidence intervals (docs/metrics.md); 0: none. Named after the
  // CLI's --bootstrap, which it keeps.
  int bootstrap = 0;
  double confidence = 0.95;    // two-sided percentile interval
  bool per_class = true;       // per-class metrics when both label vectors are given
  uint64_t seed = 0;           // KID subsets, C2ST folds, interval rounds
  // C2ST fits on at most this many rows of each set (a seeded subsample; both sets are cut to the
  // same size so that 0.5 means indistinguishable). <= 0: no cap.
  int c2st_max_rows = 10000;
  // Empty when valid, else the problem naming the option.
  std::string Check() const;
};

// Every metric of `synthlens compare` for two N x d / M x d embedding matrices (CV_32F or CV_64F,
// same d). Labels (one per row, -1 = unknown) are optional; with both given and per_class set,
// "per_class" holds the metrics of each class present in both sets. Returns one JSON object (the
// CLI prints it as is; the studio's metrics panel renders it): the keys of CLI.md (fid, kid_mean,
// kid_std, precision, recall, density, coverage, vendi_real, vendi_synthetic, authpct,
// c2st_accuracy), "intervals" {metric: [low, high]} when bootstrap > 0, "per_class", and
// "settings" (every option, sizes, d). progress returning false cancels: Failure("cancelled").
Result<std::string> CompareSetsJson(const cv::Mat& real, const cv::Mat& synthetic,
                                    const SetMetricsOptions& options,
                                    const std::vector<int>& real_labels = {},
                                    const std::vector<int>& synthetic_labels = {},
                                    const ProgressFn& progress = nullptr);

// The individual metrics, each usable on its own. Inputs are N x d matrices (CV_32F or CV_64F,
// one channel; another type is a contract violation and throws); expected problems (empty set,
// d mismatch, a NaN/Inf row, k too large) are Result failures naming the set and the row.

// Quantile of Student's t distribution with `dof` degrees of freedom at probability p in (0, 1).
double StudentTQuantile(double dof, double p);

// Fréchet distance of Gaussians fitted to the two sets (pytorch-fid). Means and covariances (ddof 1)
// in float64; tr sqrt(S1 S2) from symmetric eigendecompositions, so rank-deficient covariances
// (N < d) are fine. `offset_used`, when given, says whether the 1e-6 I rule of pytorch-fid applied.
Result<double> Fid(const cv::Mat& real, const cv::Mat& synthetic, bool* offset_used = nullptr);

struct KidResult {
  double mean = 0.0;
  double std = 0.0;      // population std (ddof 0) over subsets, as torch-fidelity
  int subsets = 0;
  int subset_size = 0;   // after clipping to the smaller set
};
// Kernel inception distance (torch-fidelity): unbiased MMD^2 with k(x, y) = (x.y/d + 1)^3 over
// `subsets` seeded draws (without replacement) of `subset_size` rows of each set.
Result<KidResult> Kid(const cv::Mat& real, const cv::Mat& synthetic, int subsets, int subset_size,
                      uint64_t seed);
// One KID term: unbiased MMD^2 of two sets with the same number of rows (>= 2).
double PolynomialMmd2(const cv::Mat& a, const cv::Mat& b);

// Distance of every row to its k-th nearest neighbour in the same set, the row itself excluded
// (a duplicate of the row at another index counts, at distance 0). Exact float64 values.
Result<std::vector<double>> KnnRadii(const cv::Mat& x, int k, const ProgressFn& progress = nullptr);

// Everything that needs real/synthetic neighbourhoods, from one blocked pass over the pairs.
struct NeighbourhoodResult {
  double precision = 0.0;      // Kynkäänniemi et al. 2019, k = pr_k, <= radius
  double recall = 0.0;
  double density = 0.0;        // Naeem et al. 2020 (prdc), k = dc_k, strict < as prdc
  double coverage = 0.0;       // strict <, as prdc
  double authpct = 0.0;        // dgm-eval, percent of synthetic rows judged authentic
  double copy_fraction = 0.0;  // synthetic rows with cosine >= 0.5 to some real row
};
Result<NeighbourhoodResult> NeighbourhoodMetrics(const cv::Mat& real, const cv::Mat& synthetic,
                                                 int pr_k, int dc_k,
                                                 const ProgressFn& progress = nullptr);

struct PrecisionRecallResult {
  double precision = 0.0;
  double recall = 0.0;
};
Result<PrecisionRecallResult> PrecisionRecall(const cv::Mat& real, const cv::Mat& synthetic,
                                              int k = 3);
struct DensityCoverageResult {
  double density = 0.0;
  double coverage = 0.0;
};
Result<DensityCoverageResult> DensityCoverage(const cv::Mat& real, const cv::Mat& synthetic,
                                              int k = 5);
struct AuthPctResult {
  double authpct = 0.0;        // percent authentic
  double copy_fraction = 0.0;  // "copy_fraction_cos0.5"
};
Result<AuthPctResult> AuthPct(const cv::Mat& real, const cv::Mat& synthetic);

// Vendi score of one set: exp of the Shannon entropy of the eigenvalues of K/n, K the cosine
// kernel of the L2-normalised rows (computed as X^T X / n when n >= d). All-zero rows stay zero.
Result<double> Vendi(const cv::Mat& x);

// L2-regularised logistic regression minimising C * sum_i logloss_i + ||w||^2 / 2 (the intercept
// is not penalised; scikit-learn's LogisticRegression objective), fitted with L-BFGS in float64.
// y holds 0/1. Features are used as given (C2st standardises them first).
struct LogisticModel {
  std::vector<double> coef;
  double intercept = 0.0;
  int iterations = 0;
};
// Stops when the largest gradient component of the mean loss is <= tolerance.
LogisticModel FitLogisticRegression(const cv::Mat& x, const std::vector<int>& y, double c = 1.0,
                                    int max_iterations = 2000, double tolerance = 1e-10);

// Classifier two-sample test: pooled cross-validated accuracy of FitLogisticRegression (C = 1,
// features standardised on each training fold) telling real from synthetic rows. Both sets are cut
// to min(N, M, max_rows) rows by a seeded subsample; folds are stratified and seeded.
// 0.5: indistinguishable; 1.0: perfectly separable.
Result<double> C2st(const cv::Mat& real, const cv::Mat& synthetic, int folds, uint64_t seed,
                    int max_rows = 10000);

}  // namespace synthlens
