#include "core/jobs/sweep_job.h"

#include <algorithm>

#include "core/metrics/set_metrics.h"

namespace synthlens {

std::string SweepOptions::Validate() const {
  if (strengths.empty()) return "--strengths: at least one strength";
  for (double s : strengths) {
    if (!(s > 0 && s <= 1)) return "--strengths: each strength must lie in (0, 1], got " + std::to_string(s);
  }
  if (steps < 1) return "--steps must be >= 1";
  if (bootstrap < 0) return "--bootstrap must be >= 0";
  return "";
}

ProgressFn SubRange(const ProgressFn& whole, double lo, double hi) {
  if (!whole) return nullptr;
  return [whole, lo, hi](double f) { return whole(lo + (hi - lo) * std::clamp(f, 0.0, 1.0)); };
}

Result<std::vector<SweepPoint>> RunStrengthSweep(const Generator& generator, const Encoder& encoder,
                                                 const std::vector<cv::Mat>& images,
                                                 const std::vector<std::string>& ids,
                                                 const std::vector<int>& labels,
                                                 const SweepOptions& options,
                                                 const ProgressFn& progress) {
  using R = Result<std::vector<SweepPoint>>;
  const std::string problem = options.Validate();
  if (!problem.empty()) return R::Failure(problem);
  SL_CHECK(images.size() == ids.size() && ids.size() == labels.size(),
           "sweep: " << images.size() << " images, " << ids.size() << " ids, " << labels.size() << " labels");
  if (images.size() < 2) return R::Failure("the sweep needs at least 2 images, got " + std::to_string(images.size()));
  auto real = encoder.Embed(images);
  if (!real.ok()) return R::Failure(real.error());
  SetMetricsOptions metrics;
  metrics.seed = options.seed;
  metrics.bootstrap = options.bootstrap;
  std::vector<SweepPoint> points;
  const double n = static_cast<double>(options.strengths.size());
  for (size_t k = 0; k < options.strengths.size(); ++k) {
    const double lo = k / n, hi = (k + 1) / n, mid = lo + 0.8 * (hi - lo);
    GenerateOptions o;
    o.mode = "img2img";
    o.views = 1;
    o.strength = options.strengths[k];
    o.steps = options.steps;
    o.guidance = options.guidance;
    o.seed = options.seed;
    auto views = generator.Generate(images, ids, labels, o, SubRange(progress, lo, mid));
    if (!views.ok()) return R::Failure(views.error());
    std::vector<cv::Mat> generated;
    std::vector<int> generated_labels;
    for (size_t i = 0; i < views->size(); ++i) {
      if ((*views)[i].empty()) continue;
      generated.push_back((*views)[i][0].image);
      generated_labels.push_back(labels[i]);
    }
    if (generated.size() != images.size()) return R::Failure("cancelled");
    auto gen = encoder.Embed(generated);
    if (!gen.ok()) return R::Failure(gen.error());
    auto json = CompareSetsJson(*real, *gen, metrics, labels, generated_labels, SubRange(progress, mid, hi));
    if (!json.ok()) return R::Failure(json.error());
    points.push_back({options.strengths[k], *json});
  }
  return points;
}

}  // namespace synthlens
