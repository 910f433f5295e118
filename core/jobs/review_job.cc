#include "core/jobs/review_job.h"

#include <cmath>
#include <unordered_map>

namespace synthlens {

cv::Mat LearnedDetectorFeatures(const DetectJobResult& detect) {
  const int rows = static_cast<int>(detect.ids.size());
  const int dims = detect.embeddings.empty() ? 0 : detect.embeddings.cols;
  const int detectors = static_cast<int>(detect.detectors.size());
  // Detectors with a missing score somewhere get an indicator column.
  std::vector<int> indicator_of(detectors, -1);
  int indicators = 0;
  for (int d = 0; d < detectors; ++d) {
    for (int i = 0; i < rows; ++i) {
      if (std::isnan(detect.scores[i][d])) {
        indicator_of[d] = indicators++;
        break;
      }
    }
  }
  cv::Mat x = cv::Mat::zeros(rows, dims + detectors + indicators, CV_64F);
  for (int i = 0; i < rows; ++i) {
    double* out = x.ptr<double>(i);
    for (int k = 0; k < dims; ++k) out[k] = detect.embeddings.at<float>(i, k);
    for (int d = 0; d < detectors; ++d) {
      const double s = detect.scores[i][d];
      if (std::isnan(s)) {
        out[dims + detectors + indicator_of[d]] = 1.0;
      } else {
        // Scores are standardised by the classifier; authenticity is capped at 1e6 already.
        out[dims + d] = std::isfinite(s) ? s : 0.0;
      }
    }
  }
  return x;
}

std::vector<int> ArtifactTargets(const DetectJobResult& detect,
                                 const std::vector<ImageLabels>& labels,
                                 const std::string& source) {
  std::unordered_map<std::string, int> by_id;
  for (const ImageLabels& l : labels) {
    if (l.target.source != source) continue;
    if (!l.category_ids.empty() || !l.boxes.empty()) {
      by_id[l.target.image_id] = 1;
    } else if (l.clean) {
      by_id[l.target.image_id] = 0;
    }
  }
  std::vector<int> targets(detect.ids.size(), -1);
  for (size_t i = 0; i < detect.ids.size(); ++i) {
    auto it = by_id.find(detect.ids[i]);
    if (it != by_id.end()) targets[i] = it->second;
  }
  return targets;
}

Result<LearnedDetectorResult> TrainLearnedDetector(const DetectJobResult& detect,
                                                   const std::vector<ImageLabels>& labels,
                                                   const std::string& source,
                                                   const ArtifactClassifierOptions& options,
                                                   const ProgressFn& progress) {
  using R = Result<LearnedDetectorResult>;
  LearnedDetectorResult result;
  result.targets = ArtifactTargets(detect, labels, source);
  int positives = 0, negatives = 0;
  for (int t : result.targets) {
    positives += t == 1;
    negatives += t == 0;
  }
  if (positives < 2 || negatives < 2) {
    return R::Failure("the learned detector needs at least 2 images labelled with an artifact "
                      "and 2 marked clean in " + source + " (have " + std::to_string(positives) +
                      " and " + std::to_string(negatives) + ")");
  }
  const cv::Mat features = LearnedDetectorFeatures(detect);
  cv::Mat train;
  std::vector<int> y;
  for (size_t i = 0; i < result.targets.size(); ++i) {
    if (result.targets[i] < 0) continue;
    train.push_back(features.row(static_cast<int>(i)));
    y.push_back(result.targets[i]);
  }
  auto classifier = ArtifactClassifier::Train(train, y, options, progress);
  if (!classifier.ok()) return R::Failure(classifier.error());
  result.report = classifier->report();
  result.probability = classifier->PredictProbability(features);
  std::vector<double> unlabelled_probability;
  std::vector<int64_t> unlabelled_rows;
  for (size_t i = 0; i < result.targets.size(); ++i) {
    if (result.targets[i] >= 0) continue;
    unlabelled_rows.push_back(static_cast<int64_t>(i));
    unlabelled_probability.push_back(result.probability[i]);
  }
  for (int64_t k : RankByProbability(unlabelled_probability)) {
    result.review_order.push_back(unlabelled_rows[k]);
  }
  return result;
}

}  // namespace synthlens
