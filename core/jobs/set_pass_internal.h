#pragma once
// Internal to the jobs module: one pass over an image source that decodes every image once and
// feeds it to all pixel detectors and, optionally, an encoder (detect and bias jobs).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/detect/detectors.h"
#include "core/infer/encoder.h"
#include "core/io/image_source.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens::internal {

struct SetPass {
  std::vector<int64_t> indices;  // source index of each row
  std::vector<std::string> ids;
  std::vector<int> labels;
  std::vector<PixelFeatures> features;
  cv::Mat embeddings;  // rows x D CV_32F, or empty without an encoder
  bool cancelled = false;
};

// Decodes `source` in batches of `batch` (in parallel), analyses every image (AnalyzeImages) and
// embeds the readable ones with `encoder` when given. Unreadable images go to on_issue, are
// counted in *skipped and left out. Encoder failures fail the pass, prefixed with `what`.
// progress returning false stops after the current batch with cancelled = true.
Result<SetPass> AnalyzeSource(const ImageSource& source, const Encoder* encoder, int batch,
                              const DetectOptions& pixel, const std::string& what,
                              const ProgressFn& progress,
                              const std::function<void(const SourceIssue&)>& on_issue,
                              int64_t* skipped);

}  // namespace synthlens::internal
