#include "core/jobs/bias_job.h"

#include <algorithm>
#include <memory>

#include <nlohmann/json.hpp>

#include "core/detect/image_stats.h"
#include "core/infer/encoder.h"
#include "core/jobs/set_pass_internal.h"
#include "core/train/linear_probe.h"

namespace synthlens {
namespace {

std::vector<std::pair<std::string, std::vector<double>>> StatColumns(
    const std::vector<PixelFeatures>& features) {
  std::vector<std::pair<std::string, std::vector<double>>> columns;
  for (size_t i = 0; i < features.size(); ++i) {
    const auto fields = ImageStatsFields(features[i].stats);
    if (columns.empty()) {
      for (const auto& [name, value] : fields) columns.push_back({name, {}});
    }
    for (size_t f = 0; f < fields.size(); ++f) columns[f].second.push_back(fields[f].second);
  }
  return columns;
}

}  // namespace

std::string BiasJobOptions::Check() const {
  if (real.empty()) return "--real is required";
  if (synthetic.empty()) return "--synthetic is required";
  if (real_limit == 0 || real_limit < -1) return "--real-limit must be >= 1";
  if (synthetic_limit == 0 || synthetic_limit < -1) return "--synthetic-limit must be >= 1";
  if (batch < 1 || batch > 65536) return "--batch must be in [1, 65536]";
  if (!(max_megapixels > 0)) return "--max-megapixels must be positive";
  return report.Check();
}

Result<std::string> RunBiasJob(const BiasJobOptions& options, const ProgressFn& progress,
                               const std::function<void(const SourceIssue&)>& on_issue) {
  using R = Result<std::string>;
  if (std::string e = options.Check(); !e.empty()) return R::Failure(e);
  const int64_t max_pixels = static_cast<int64_t>(options.max_megapixels * 1e6);
  SourceOptions real_options, synthetic_options;
  real_options.limit = options.real_limit;
  real_options.decode.max_pixels = max_pixels;
  synthetic_options.limit = options.synthetic_limit;
  synthetic_options.decode.max_pixels = max_pixels;
  auto real = OpenImageSource(options.real, real_options);
  if (!real.ok()) return R::Failure("--real: " + real.error());
  auto synthetic = OpenImageSource(options.synthetic, synthetic_options);
  if (!synthetic.ok()) return R::Failure("--synthetic: " + synthetic.error());
  for (const auto* source : {real->get(), synthetic->get()}) {
    for (const auto& issue : source->issues()) {
      if (on_issue) on_issue(issue);
    }
  }
  std::unique_ptr<Encoder> encoder;
  if (!options.encoder.empty() && options.encoder != "none") {
    if (std::string problem = ValidateDevice(options.device); !problem.empty()) {
      return R::Failure("--device: " + problem);
    }
    auto opened = Encoder::Open(options.encoder, options.device, options.batch);
    if (!opened.ok()) return R::Failure("--encoder: " + opened.error());
    encoder = std::move(*opened);
  }

  auto sub = [&](double from, double to) -> ProgressFn {
    return [&, from, to](double f) { return !progress || progress(from + (to - from) * f); };
  };
  int64_t skipped = 0;
  const DetectOptions pixel;
  auto real_pass = internal::AnalyzeSource(**real, encoder.get(), options.batch, pixel, "--real",
                                           sub(0.0, 0.4), on_issue, &skipped);
  if (!real_pass.ok()) return R::Failure(real_pass.error());
  if (real_pass->cancelled) return R::Failure("cancelled");
  auto synthetic_pass = internal::AnalyzeSource(**synthetic, encoder.get(), options.batch, pixel,
                                                "--synthetic", sub(0.4, 0.8), on_issue, &skipped);
  if (!synthetic_pass.ok()) return R::Failure(synthetic_pass.error());
  if (synthetic_pass->cancelled) return R::Failure("cancelled");
  if (real_pass->features.empty()) return R::Failure("--real " + options.real + ": no readable image");
  if (synthetic_pass->features.empty()) {
    return R::Failure("--synthetic " + options.synthetic + ": no readable image");
  }

  BiasReportInput input;
  input.real_stats = StatColumns(real_pass->features);
  input.synthetic_stats = StatColumns(synthetic_pass->features);
  input.class_names = (*real)->class_names();
  nlohmann::json inputs = {
      {"real", options.real},
      {"synthetic", options.synthetic},
      {"real_images", real_pass->features.size()},
      {"synthetic_images", synthetic_pass->features.size()},
      {"skipped", skipped},
      {"encoder", encoder ? nlohmann::json(encoder->manifest().name) : nlohmann::json()},
      {"encoder_hash", encoder ? nlohmann::json(encoder->manifest().hash) : nlohmann::json()}};
  if (encoder) {
    input.real_embeddings = real_pass->embeddings;
    input.synthetic_embeddings = synthetic_pass->embeddings;
    // Classes: the real set's labels; the synthetic set's from a probe fitted on them.
    cv::Mat train_rows;
    std::vector<int> train_labels;
    for (size_t i = 0; i < real_pass->labels.size(); ++i) {
      if (real_pass->labels[i] >= 0) {
        train_rows.push_back(real_pass->embeddings.row(static_cast<int>(i)));
        train_labels.push_back(real_pass->labels[i]);
      }
    }
    const bool two_classes =
        !train_labels.empty() &&
        *std::max_element(train_labels.begin(), train_labels.end()) !=
            *std::min_element(train_labels.begin(), train_labels.end());
    if (two_classes) {
      LinearProbeOptions probe_options;
      probe_options.weight_decays = {1e-4};
      std::vector<int> dummy(synthetic_pass->embeddings.rows, 0);
      auto probe = RunLinearProbe(train_rows, train_labels, synthetic_pass->embeddings, dummy,
                                  probe_options, sub(0.8, 0.9));
      if (!probe.ok()) {
        if (probe.error().find("cancel") != std::string::npos) return R::Failure("cancelled");
        return R::Failure("linear probe on the real labels: " + probe.error());
      }
      input.real_classes = real_pass->labels;
      input.synthetic_classes = probe->test_predictions;
      inputs["classes"] = "real: labels of the real source; synthetic: linear probe (weight decay "
                          "1e-4) fitted on the labelled real embeddings";
      inputs["labelled_real_images"] = train_labels.size();
    } else {
      inputs["classes"] = "skipped: the real source has fewer than two labelled classes";
    }
  } else {
    inputs["classes"] = "skipped: no encoder";
  }
  auto report = BiasReportJson(input, options.report, sub(0.9, 1.0));
  if (!report.ok()) return R::Failure(report.error());
  auto json = nlohmann::json::parse(*report);
  json["inputs"] = inputs;
  return json.dump(2);
}

}  // namespace synthlens
