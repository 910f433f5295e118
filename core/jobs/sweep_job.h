#pragma once
// The img2img strength sweep (docs/figures.md): for each strength, one generative view of every
// image, embedded with an encoder and compared with the images' own embeddings by the metrics of
// `synthlens compare`. The studio's Embeddings tab, `synthlens figure sweep` and the report run
// this one function.

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/infer/encoder.h"
#include "core/infer/generator.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct SweepOptions {
  std::vector<double> strengths = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  int steps = 25;
  double guidance = 3.0;
  uint64_t seed = 0;
  int bootstrap = 0;  // rounds for metric intervals (0: none)
  // Empty when valid, else the problem naming the option.
  std::string Validate() const;
};

struct SweepPoint {
  double strength = 0;
  std::string metrics_json;  // CompareSetsJson of the images vs their views at this strength
};

// The sweep over decoded images (CV_8UC3 RGB) with their ids and labels (-1: unknown). Needs at
// least 2 images. progress returning false cancels: Failure("cancelled").
Result<std::vector<SweepPoint>> RunStrengthSweep(const Generator& generator, const Encoder& encoder,
                                                 const std::vector<cv::Mat>& images,
                                                 const std::vector<std::string>& ids,
                                                 const std::vector<int>& labels,
                                                 const SweepOptions& options,
                                                 const ProgressFn& progress);

// progress mapped to [lo, hi] of a whole: a stage of a longer job.
ProgressFn SubRange(const ProgressFn& whole, double lo, double hi);

}  // namespace synthlens
