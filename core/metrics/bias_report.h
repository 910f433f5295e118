#pragma once
// Per-set bias report of a synthetic set against a real one (docs/bias.md): class balance
// (chi-square goodness of fit), per-image statistic shifts (two-sample Kolmogorov-Smirnov plus
// shared-bin histograms), and diversity / mode collapse (Vendi, recall, coverage, per-class FID).
// Pure computation on matrices and vectors: the caller decodes images and computes the statistics.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct BiasReportInput {
  // N x d and M x d (CV_32F or CV_64F, same d); either empty skips the embedding parts.
  cv::Mat real_embeddings, synthetic_embeddings;
  // Class per row (true label or the linear probe's prediction), -1 unknown; may be empty (then
  // class_balance and the per-class diversity are skipped). When embeddings are given too, the
  // vectors have one entry per embedding row.
  std::vector<int> real_classes, synthetic_classes;
  // Name of class i; may be empty or shorter (then the missing names are "0", "1", ...).
  std::vector<std::string> class_names;
  // Per-image scalar statistics by name, e.g. "brightness", "contrast", "saturation",
  // "sharpness", "entropy", "mean_r", "mean_g", "mean_b"; one value per image. Only names present
  // on both sides are compared; NaN values are dropped.
  std::vector<std::pair<std::string, std::vector<double>>> real_stats, synthetic_stats;
};

struct BiasReportOptions {
  int histogram_bins = 32;    // shared bins of each statistic's side-by-side histogram
  double alpha = 0.01;        // a test with p < alpha is flagged
  int recall_k = 3;           // improved recall (Kynkäänniemi et al. 2019)
  int coverage_k = 5;         // coverage (Naeem et al. 2020)
  bool per_class_fid = true;  // FID of each class with >= min_class_rows rows on both sides
  int min_class_rows = 10;    // per-class diversity needs this many rows on both sides
  // A class is flagged as mode-collapsed when its synthetic/real Vendi ratio is below
  // collapse_vendi_ratio or its recall is below collapse_recall.
  double collapse_vendi_ratio = 0.5;
  double collapse_recall = 0.25;
  uint64_t seed = 0;          // reserved for subsampling; the report is deterministic today
  // Empty when valid, else the problem naming the option.
  std::string Check() const;
};

// The whole report as one JSON object with keys "class_balance", "shifts", "diversity",
// "settings" and "sizes" (every key documented in docs/bias.md). A part whose input is missing is
// omitted (or holds {"skipped": "<why>"}). Fails on an invalid option, mismatched class / row
// counts or a d mismatch. progress(fraction) returning false cancels: Failure("cancelled").
Result<std::string> BiasReportJson(const BiasReportInput& input, const BiasReportOptions& options,
                                   const ProgressFn& progress = nullptr);

// The building blocks, exposed for tests and for the studio.

// Regularised upper incomplete gamma Q(a, x) = Gamma(a, x) / Gamma(a), a > 0, x >= 0 (series
// for x < a + 1, continued fraction otherwise; Numerical Recipes 6.2).
double RegularizedGammaQ(double a, double x);

// Survival function of the chi-square distribution with `dof` degrees of freedom: Q(dof/2, x/2).
double ChiSquareSurvival(double statistic, double dof);

struct KsResult {
  double statistic = 0.0;  // sup |F_real - F_synthetic|
  double p_value = 1.0;
  std::string method;      // "exact" or "asymp"
};
// Two-sample Kolmogorov-Smirnov test, two-sided, as scipy.stats.ks_2samp(method="auto"): "exact"
// when max(n, m) <= 10000 (scipy's MAX_AUTO_N), else "asymp" (Kolmogorov distribution with
// scipy's effective n = n m / (n + m)). Both samples non-empty and NaN-free (else throws).
KsResult KsTwoSample(const std::vector<double>& a, const std::vector<double>& b);

}  // namespace synthlens
