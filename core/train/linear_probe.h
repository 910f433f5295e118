#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// Linear evaluation of an embedding: multinomial logistic regression on standardised features
// (train statistics), objective mean cross-entropy + weight_decay / 2 * ||W||^2 (bias not
// penalised; scikit-learn's LogisticRegression with C = 1 / (weight_decay * N)), fitted by
// full-batch L-BFGS (float64 parameters and loss, float32 feature products). The weight decay is
// chosen on a seeded validation split of train (fits warm-started along the grid), then the probe
// is refitted on all of train.
struct LinearProbeOptions {
  // Candidates; with one value there is no validation split and it is used directly.
  std::vector<double> weight_decays = {1e-1, 1e-2, 1e-3, 1e-4, 1e-5, 1e-6};
  double validation_fraction = 0.1;  // of train, held out to pick the weight decay
  int max_iterations = 150;          // L-BFGS iterations per fit
  double gradient_tolerance = 1e-6;  // stop when the largest gradient entry is below this
  uint64_t seed = 0;                 // of the validation split
  std::string Validate() const;      // empty when valid
};

struct LinearProbeResult {
  double top1 = 0;                 // on the test set
  double weight_decay = 0;         // the one chosen
  double validation_top1 = 0;      // of the chosen weight decay (0 without a split)
  std::vector<std::pair<double, double>> validation;  // (weight decay, validation top-1)
  int64_t train_size = 0, test_size = 0;
  int num_classes = 0;
  std::vector<int> test_predictions;  // predicted class of each test row
};

// train_x / test_x: CV_32F (or CV_64F) N x D with the same D; labels in [0, C). Fails for empty
// sets, mismatched sizes, missing labels (< 0) or a single class. progress(fraction) returning
// false cancels (the result is then a failure saying so).
Result<LinearProbeResult> RunLinearProbe(const cv::Mat& train_x, const std::vector<int>& train_y,
                                         const cv::Mat& test_x, const std::vector<int>& test_y,
                                         const LinearProbeOptions& options = {},
                                         const ProgressFn& progress = {});

}  // namespace synthlens
