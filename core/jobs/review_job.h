#pragma once
// The learned artifact detector (docs/learned-detector.md) on top of `synthlens detect`: features
// are an image's embedding and its detector scores, labels come from the hand labels of the
// project store; the classifier ranks the unlabelled images most-likely-artifact first ("review
// next").

#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/jobs/detect_job.h"
#include "core/metrics/artifact_classifier.h"
#include "core/store/labels.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// One feature row per detect row: the embedding (when the detect run had an encoder) followed by
// every detector score, a score that does not apply (NaN) written as 0 with one extra 0/1 column
// per such detector saying it was missing. CV_64F.
cv::Mat LearnedDetectorFeatures(const DetectJobResult& detect);

// 1 = artifact (any category or box), 0 = clean (marked clean), -1 = not labelled (no label or a
// note only), for each detect row, matching labels whose target is (source, detect.ids[row]).
std::vector<int> ArtifactTargets(const DetectJobResult& detect,
                                 const std::vector<ImageLabels>& labels,
                                 const std::string& source);

struct LearnedDetectorResult {
  ArtifactClassifierReport report;      // cross-validated AUROC, folds, sizes, seconds
  std::vector<double> probability;      // per detect row (labelled rows too, in-sample)
  std::vector<int> targets;             // per detect row: 1, 0 or -1 (ArtifactTargets)
  std::vector<int64_t> review_order;    // unlabelled rows, most likely artifact first
};

// Trains the classifier on the labelled rows and scores every row. Fails (saying how many of
// each there are) without at least 2 artifact and 2 clean labels.
Result<LearnedDetectorResult> TrainLearnedDetector(const DetectJobResult& detect,
                                                   const std::vector<ImageLabels>& labels,
                                                   const std::string& source,
                                                   const ArtifactClassifierOptions& options = {},
                                                   const ProgressFn& progress = nullptr);

}  // namespace synthlens
