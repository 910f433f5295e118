#pragma once
// The learned artifact detector (docs/learned-detector.md): from hand labels (1 = artifact,
// 0 = clean) on per-image features (embedding concatenated with detector scores) it fits an
// L2 logistic regression on standardised features, reports its cross-validated AUROC and ranks
// unlabelled images by the predicted probability of an artifact.

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct ArtifactClassifierOptions {
  // "logistic": FitLogisticRegression (core/metrics/set_metrics.h) on standardised features.
  // ("mlp" is reserved; Check() rejects it today.)
  std::string model = "logistic";
  // Inverse L2 strength, scikit-learn's C: the objective is C * sum(log-loss) + ||w||^2 / 2.
  // 0.1 keeps ~530 standardised features from overfitting a few hundred labels.
  double c = 0.1;
  // Stratified k-fold cross-validation; clipped to the minority class count (needs >= 2 rows of
  // each class).
  int folds = 5;
  uint64_t seed = 0;  // fold assignment
  // L-BFGS stops when the largest gradient component of the mean loss is <= this (looser than
  // FitLogisticRegression's 1e-10 default, so that thousands of labels retrain in seconds; the
  // probabilities still agree with scikit-learn to ~1e-4).
  double tolerance = 1e-6;
  int max_iterations = 1000;
  // Empty when valid, else the problem naming the option.
  std::string Check() const;
};

struct ArtifactClassifierReport {
  double cv_auroc = 0;              // pooled out-of-fold AUROC (Auroc in core/metrics/roc.h)
  std::vector<double> fold_aurocs;  // per fold; NaN for a fold lacking one class
  std::vector<double> out_of_fold;  // each labelled row's out-of-fold probability
  int positives = 0, negatives = 0, features = 0;
  int folds = 0;                    // after clipping to the minority count
  double seconds = 0;               // wall time of Train (CV fits + final fit)
};

class ArtifactClassifier {
 public:
  // x: N x F (CV_32F/CV_64F, one channel), y: 0/1 per row. Standardises features (mean/std from
  // the training rows of each fit; a constant column gets std 1), runs the stratified CV, then
  // fits the final model on all rows. Fails for an invalid option, mismatched sizes, a label other
  // than 0/1, a NaN/Inf feature or fewer than 2 rows of either class. progress returning false
  // cancels: Failure("cancelled").
  static Result<ArtifactClassifier> Train(const cv::Mat& x, const std::vector<int>& y,
                                          const ArtifactClassifierOptions& options = {},
                                          const ProgressFn& progress = nullptr);

  // Probability of "artifact" for each row of x (same F columns; a column mismatch throws).
  std::vector<double> PredictProbability(const cv::Mat& x) const;

  const ArtifactClassifierReport& report() const { return report_; }
  // The final model on standardised features, and the standardisation (for inspection/tests).
  const std::vector<double>& coefficients() const { return coef_; }
  double intercept() const { return intercept_; }
  const std::vector<double>& feature_means() const { return mean_; }
  const std::vector<double>& feature_stds() const { return std_; }

 private:
  ArtifactClassifier() = default;
  std::vector<double> mean_, std_, coef_;
  double intercept_ = 0.0;
  ArtifactClassifierReport report_;
};

// Indices of `probabilities` sorted most-likely-artifact first (stable for ties: lower index
// first; NaN last).
std::vector<int64_t> RankByProbability(const std::vector<double>& probabilities);

}  // namespace synthlens
