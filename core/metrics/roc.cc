#include "core/metrics/roc.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>

namespace synthlens {

Result<double> Auroc(const std::vector<double>& scores, const std::vector<int>& labels) {
  if (scores.size() != labels.size()) {
    return Result<double>::Failure("AUROC: " + std::to_string(scores.size()) + " scores but " +
                   std::to_string(labels.size()) + " labels");
  }
  double positives = 0;
  for (size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != 0 && labels[i] != 1) {
      return Result<double>::Failure("AUROC: label " + std::to_string(i) + " is " + std::to_string(labels[i]) +
                     ", expected 0 or 1");
    }
    if (std::isnan(scores[i])) return Result<double>::Failure("AUROC: score " + std::to_string(i) + " is NaN");
    positives += labels[i];
  }
  const double negatives = static_cast<double>(labels.size()) - positives;
  if (positives == 0 || negatives == 0) {
    return Result<double>::Failure("AUROC needs both classes (" + std::to_string(static_cast<int>(positives)) +
                   " positives, " + std::to_string(static_cast<int>(negatives)) + " negatives)");
  }
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  // Sum of the positives' mid-ranks (1-based), tied scores sharing the mean rank of their run.
  double positive_rank_sum = 0;
  for (size_t start = 0; start < order.size();) {
    size_t end = start;
    while (end < order.size() && scores[order[end]] == scores[order[start]]) ++end;
    const double mid_rank = 0.5 * static_cast<double>(start + 1 + end);
    for (size_t k = start; k < end; ++k) positive_rank_sum += labels[order[k]] * mid_rank;
    start = end;
  }
  const double u = positive_rank_sum - positives * (positives + 1) / 2;
  return u / (positives * negatives);
}

}  // namespace synthlens
