#pragma once
// Receiver operating characteristic summaries shared by the detector benchmark and the learned
// artifact detector.

#include <vector>

#include "core/util/result.h"

namespace synthlens {

// Area under the ROC curve of `scores` (higher = more likely positive) for 0/1 `labels`: the
// Mann-Whitney U statistic / (positives x negatives), ties counted one half (scikit-learn's
// roc_auc_score). Fails when the sizes differ, a label is not 0/1, a score is NaN, or either class
// is absent.
Result<double> Auroc(const std::vector<double>& scores, const std::vector<int>& labels);

}  // namespace synthlens
