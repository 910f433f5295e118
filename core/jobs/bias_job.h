#pragma once
// `synthlens bias`: the per-set bias report of a synthetic image set against a real one
// (docs/bias.md): class balance through the real labels and a linear probe, shifts of per-image
// colour/brightness/contrast/sharpness statistics, diversity and mode collapse per class.

#include <cstdint>
#include <functional>
#include <string>

#include "core/infer/device.h"
#include "core/io/image_source.h"
#include "core/metrics/bias_report.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct BiasJobOptions {
  std::string real;       // SRC of the real set (its labels, when known, train the probe)
  std::string synthetic;  // SRC of the synthetic set
  int64_t real_limit = -1, synthetic_limit = -1;
  // Encoder for the embedding parts (class predictions, Vendi, recall/coverage, per-class FID);
  // "none": statistics shifts only.
  std::string encoder = "builtin";
  Device device;
  int batch = 256;
  double max_megapixels = 100;
  BiasReportOptions report;
  std::string Check() const;  // empty when valid
};

// Decodes each image once (statistics + embedding), classifies the synthetic images with a linear
// probe fitted on the labelled real embeddings (the real set keeps its true labels; without
// labels the class parts are skipped), and returns BiasReportJson's object with an extra
// "inputs" key (sources, counts, encoder, how classes were obtained, probe weight decay).
// progress returning false cancels; unreadable images go to on_issue and are skipped.
Result<std::string> RunBiasJob(const BiasJobOptions& options, const ProgressFn& progress,
                               const std::function<void(const SourceIssue&)>& on_issue);

}  // namespace synthlens
