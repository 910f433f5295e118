#include "core/jobs/detect_job.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/infer/encoder.h"
#include "core/jobs/set_pass_internal.h"
#include "core/metrics/nearest.h"
#include "core/train/linear_probe.h"
#include "core/util/check.h"
#include "core/util/file_util.h"
#include "core/util/logging.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace {

using internal::AnalyzeSource;
using internal::SetPass;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Indices into EmbeddingDetectors().
enum EmbeddingDetector { kMemorisation = 0, kAuthenticity, kSemanticDrift, kClassChange };

struct Rule {
  bool set = false;
  bool absolute = false;
  double value = 0;
};

double Cosine(const cv::Mat& a, const cv::Mat& b) {
  const double na = cv::norm(a), nb = cv::norm(b);
  return na > 0 && nb > 0 ? a.dot(b) / (na * nb) : 0.0;
}

Result<std::map<std::string, Rule>> ParseRules(const std::string& spec,
                                               const std::vector<std::string>& names) {
  using R = Result<std::map<std::string, Rule>>;
  std::map<std::string, Rule> rules;
  std::stringstream in(spec);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      return R::Failure("--thresholds: '" + item + "' is not NAME=VALUE (e.g. blur=p95)");
    }
    const std::string name = item.substr(0, eq);
    std::string value = item.substr(eq + 1);
    if (name == "duplicate") {
      return R::Failure("--thresholds: 'duplicate' is flagged by pHash distance; use "
                        "--near-duplicate-distance");
    }
    if (std::find(names.begin(), names.end(), name) == names.end()) {
      return R::Failure("--thresholds: unknown detector '" + name + "'");
    }
    Rule rule;
    rule.set = true;
    rule.absolute = value.empty() || value[0] != 'p';
    if (!rule.absolute) value = value.substr(1);
    try {
      size_t used = 0;
      rule.value = std::stod(value, &used);
      if (used != value.size()) throw std::invalid_argument(value);
    } catch (const std::exception&) {
      return R::Failure("--thresholds: '" + item + "' has no number after '='");
    }
    if (!rule.absolute && (rule.value < 0 || rule.value > 100)) {
      return R::Failure("--thresholds: percentile of '" + name + "' must lie in [0, 100]");
    }
    rules[name] = rule;
  }
  return rules;
}

std::string FormatPercentile(double p) {
  std::ostringstream s;
  s << "p" << p;
  return s.str();
}

// Reads an output folder's manifest.jsonl: image file (relative to the folder) -> source id.
std::unordered_map<std::string, std::string> ReadManifestSources(const std::string& folder) {
  std::unordered_map<std::string, std::string> sources;
  std::ifstream in(std::filesystem::path(folder) / "manifest.jsonl");
  std::string line;
  int line_number = 0;
  while (std::getline(in, line)) {
    ++line_number;
    if (line.empty()) continue;
    try {
      const auto j = nlohmann::json::parse(line);
      if (j.contains("file") && j.contains("source") && j["file"].is_string() &&
          j["source"].is_string()) {
        sources[j["file"].get<std::string>()] = j["source"].get<std::string>();
      }
    } catch (const std::exception& e) {
      SL_LOG_WARNING(folder << "/manifest.jsonl:" << line_number << ": not JSON, ignored");
    }
  }
  return sources;
}

}  // namespace

const std::vector<DetectorInfo>& EmbeddingDetectors() {
  static const std::vector<DetectorInfo> detectors = {
      {"memorisation",
       "largest cosine similarity of the image's embedding to a reference (real) image",
       "Somepalli et al. 2023 (copy detection by embedding similarity)", 99},
      {"authenticity",
       "AuthPct rule: distance of the nearest real image to its own nearest real neighbour / "
       "distance of the image to it; > 1 means closer than any other real image is",
       "Alaa et al. 2022, dgm-eval's AuthPct", 0},
      {"semantic_drift", "1 - cosine similarity of a view's embedding to its source image's",
       "embedding distance to the source (GenerativeSSL views)", 99},
      {"class_change",
       "1 when the linear probe (fitted on the reference's labels) predicts another class for "
       "the view than for its source",
       "linear probe on the reference embeddings", 0},
  };
  return detectors;
}

std::string DetectJobOptions::Check() const {
  if (input.empty()) return "--input is required";
  if (batch < 1 || batch > 65536) return "--batch must be in [1, 65536]";
  if (!(max_megapixels > 0)) return "--max-megapixels must be positive";
  if (limit == 0 || limit < -1) return "--limit must be >= 1";
  if (reference_limit == 0 || reference_limit < -1) return "--reference-limit must be >= 1";
  if (!(default_percentile >= 0 && default_percentile <= 100)) {
    return "--percentile must lie in [0, 100]";
  }
  if (!pixel.Check()) return "bad pixel detector options";
  if (!duplicates.Check()) return "--near-duplicate-distance must lie in [0, 64]";
  return "";
}

int DetectJobResult::DetectorIndex(const std::string& name) const {
  for (size_t d = 0; d < detectors.size(); ++d) {
    if (detectors[d].name == name) return static_cast<int>(d);
  }
  return -1;
}

int64_t DetectJobResult::FlaggedCount(int detector) const {
  int64_t count = 0;
  for (const auto& row : flags) count += row[detector];
  return count;
}

Result<DetectJobResult> RunDetectJob(const DetectJobOptions& options, const ProgressFn& progress,
                                     const std::function<void(const SourceIssue&)>& on_issue) {
  using R = Result<DetectJobResult>;
  const auto t0 = std::chrono::steady_clock::now();
  if (std::string e = options.Check(); !e.empty()) return R::Failure(e);
  DetectJobResult result;

  // Detector list and threshold overrides (validated before any work).
  const std::vector<DetectorInfo>& pixel_detectors = PixelDetectors();
  const bool with_encoder = !options.encoder.empty() && options.encoder != "none";
  result.detectors = pixel_detectors;
  result.detectors.push_back(DuplicateDetectorInfo());
  if (with_encoder) {
    for (const auto& d : EmbeddingDetectors()) result.detectors.push_back(d);
  }
  std::vector<std::string> names;
  for (const auto& d : result.detectors) names.push_back(d.name);
  auto rules = ParseRules(options.thresholds, names);
  if (!rules.ok()) return R::Failure(rules.error());

  // Sources.
  SourceOptions input_options;
  input_options.limit = options.limit;
  input_options.decode.max_pixels = static_cast<int64_t>(options.max_megapixels * 1e6);
  auto input = OpenImageSource(options.input, input_options);
  if (!input.ok()) return R::Failure(input.error());
  for (const auto& issue : (*input)->issues()) {
    if (on_issue) on_issue(issue);
  }
  const bool same_set = options.reference.empty();
  std::unique_ptr<ImageSource> reference_source;
  if (!same_set) {
    SourceOptions reference_options;
    reference_options.limit = options.reference_limit;
    reference_options.decode.max_pixels = input_options.decode.max_pixels;
    auto reference = OpenImageSource(options.reference, reference_options);
    if (!reference.ok()) return R::Failure("--reference: " + reference.error());
    reference_source = std::move(*reference);
  }

  std::unique_ptr<Encoder> encoder;
  if (with_encoder) {
    if (std::string problem = ValidateDevice(options.device); !problem.empty()) {
      return R::Failure("--device: " + problem);
    }
    auto opened = Encoder::Open(options.encoder, options.device, options.batch);
    if (!opened.ok()) return R::Failure("--encoder: " + opened.error());
    encoder = std::move(*opened);
    result.encoder_name = encoder->manifest().name;
  }

  // Pass 1: the reference (the input itself when none is given); pass 2: the input.
  const double reference_share = same_set ? 0.0 : 0.45;
  auto sub = [&](double from, double to) -> ProgressFn {
    return [&, from, to](double f) { return !progress || progress(from + (to - from) * f); };
  };
  SetPass reference_pass;
  if (!same_set) {
    auto pass = AnalyzeSource(*reference_source, encoder.get(), options.batch, options.pixel,
                              "--reference", sub(0.0, reference_share), on_issue,
                              &result.skipped);
    if (!pass.ok()) return R::Failure(pass.error());
    if (pass->cancelled) return R::Failure("cancelled");
    if (pass->features.empty()) {
      return R::Failure("--reference " + options.reference + ": no readable image");
    }
    reference_pass = std::move(*pass);
  }
  auto input_pass = AnalyzeSource(**input, encoder.get(), options.batch, options.pixel, "--input",
                                  sub(reference_share, 0.9), on_issue, &result.skipped);
  if (!input_pass.ok()) return R::Failure(input_pass.error());
  if (input_pass->cancelled) return R::Failure("cancelled");
  if (input_pass->features.empty()) {
    return R::Failure("--input " + options.input + ": no readable image");
  }
  const SetPass& in = *input_pass;
  const SetPass& ref = same_set ? in : reference_pass;

  // Pixel detectors: reference model, scores, percentile thresholds.
  auto fitted = FitReference(ref.features);
  if (!fitted.ok()) return R::Failure(fitted.error());
  std::vector<std::vector<double>> reference_scores(ref.features.size());
  ParallelFor(static_cast<int64_t>(ref.features.size()),
              [&](int64_t i) { reference_scores[i] = ScoreImage(ref.features[i], *fitted); });
  CalibrationOptions calibration_options;
  calibration_options.default_percentile = options.default_percentile;
  for (const auto& [name, rule] : *rules) {
    if (PixelDetectorIndex(name) >= 0) calibration_options.overrides[name] = {rule.absolute, rule.value};
  }
  auto calibration = Calibrate(reference_scores, calibration_options);
  if (!calibration.ok()) return R::Failure(calibration.error());

  const size_t rows = in.features.size();
  const size_t columns = result.detectors.size();
  result.ids = in.ids;
  result.indices = in.indices;
  result.labels = in.labels;
  result.scores.assign(rows, std::vector<double>(columns, kNaN));
  result.flags.assign(rows, std::vector<uint8_t>(columns, 0));
  result.spectra.resize(rows);
  result.stats.resize(rows);
  ParallelFor(static_cast<int64_t>(rows), [&](int64_t i) {
    const std::vector<double> s =
        same_set ? reference_scores[i] : ScoreImage(in.features[i], *fitted);
    const std::vector<bool> f = FlagScores(s, *calibration);
    for (size_t d = 0; d < s.size(); ++d) {
      result.scores[i][d] = s[d];
      result.flags[i][d] = f[d] ? 1 : 0;
    }
    result.spectra[i] = in.features[i].spectrum;
    result.stats[i] = in.features[i].stats;
  });
  result.thresholds = calibration->thresholds;
  result.rules = calibration->rules;
  MeanSpectrum(ref.features, &result.reference_spectrum_mean, &result.reference_spectrum_std);
  result.reference_count = static_cast<int64_t>(ref.features.size());
  result.reference_stats.reserve(ref.features.size());
  for (const auto& f : ref.features) result.reference_stats.push_back(f.stats);
  result.reference_labels = ref.labels;

  // Duplicates within the input and against the reference.
  {
    std::vector<ImageHashes> input_hashes, reference_hashes;
    for (const auto& f : in.features) input_hashes.push_back(HashesOf(f));
    if (!same_set) {
      for (const auto& f : ref.features) reference_hashes.push_back(HashesOf(f));
    }
    DuplicateOptions duplicate_options = options.duplicates;
    if (same_set) duplicate_options.against_reference = false;
    result.duplicates = FindDuplicates(input_hashes, reference_hashes, duplicate_options);
    const size_t d = pixel_detectors.size();
    for (size_t i = 0; i < rows; ++i) {
      const DuplicateMatch& m = result.duplicates[i];
      result.scores[i][d] = m.index >= 0 ? m.score() : kNaN;
      result.flags[i][d] = m.flagged ? 1 : 0;
    }
    result.thresholds.push_back(65.0 - duplicate_options.max_distance);
    result.rules.push_back("pHash<=" + std::to_string(duplicate_options.max_distance));
  }
  if (progress && !progress(0.92)) return R::Failure("cancelled");

  // Source ids of views (manifest.jsonl beside the input's images).
  result.source_ids.assign(rows, "");
  if (std::filesystem::is_directory(options.input)) {
    const auto manifest = ReadManifestSources(options.input);
    for (size_t i = 0; i < rows; ++i) {
      auto it = manifest.find(in.ids[i]);
      if (it != manifest.end()) result.source_ids[i] = it->second;
    }
  }

  if (encoder) {
    const size_t base = pixel_detectors.size() + 1;
    auto rule_for = [&](int detector, double default_value, bool default_absolute,
                        const std::vector<double>& reference_values) {
      const std::string& name = EmbeddingDetectors()[detector].name;
      Rule rule;
      auto it = rules->find(name);
      if (it != rules->end()) {
        rule = it->second;
      } else {
        rule.absolute = default_absolute;
        rule.value = default_value;
      }
      const double threshold =
          rule.absolute ? rule.value : Percentile(reference_values, rule.value);
      result.thresholds.push_back(threshold);
      result.rules.push_back(rule.absolute ? "abs" : FormatPercentile(rule.value));
      return threshold;
    };
    result.embeddings = in.embeddings;
    result.reference_embeddings = ref.embeddings;
    // Reference against itself (leave one out): how close real images are to each other.
    const NearestRowsResult ref_nn = NearestRows(ref.embeddings, ref.embeddings, true);
    const NearestRowsResult in_nn = same_set ? ref_nn : NearestRows(in.embeddings, ref.embeddings, false);
    if (progress && !progress(0.96)) return R::Failure("cancelled");

    // memorisation: largest cosine to a real image.
    const double memorisation_threshold =
        rule_for(kMemorisation, options.default_percentile, false, ref_nn.max_cosine);
    // authenticity: the AuthPct rule, score > 1 = inauthentic.
    const double authenticity_threshold = rule_for(kAuthenticity, 1.0, true, {});
    for (size_t i = 0; i < rows; ++i) {
      const double cosine = in_nn.max_cosine[i];
      if (in_nn.nn[i] < 0) continue;
      result.scores[i][base + kMemorisation] = cosine;
      result.flags[i][base + kMemorisation] = cosine > memorisation_threshold;
      const double radius = ref_nn.nn_distance[in_nn.nn[i]];
      const double d = in_nn.nn_distance[i];
      const double ratio = d > 0 ? std::min(1e6, radius / d) : 1e6;
      result.scores[i][base + kAuthenticity] = ratio;
      result.flags[i][base + kAuthenticity] = ratio > authenticity_threshold;
    }

    // Semantic drift and class change, for views whose source is known.
    std::vector<double> reference_drift(ref_nn.max_cosine.size());
    for (size_t j = 0; j < reference_drift.size(); ++j) reference_drift[j] = 1.0 - ref_nn.max_cosine[j];
    const double drift_threshold =
        rule_for(kSemanticDrift, options.default_percentile, false, reference_drift);
    const double class_threshold = rule_for(kClassChange, 0.5, true, {});
    std::vector<size_t> with_source;
    for (size_t i = 0; i < rows; ++i) {
      if (!result.source_ids[i].empty()) with_source.push_back(i);
    }
    if (!with_source.empty()) {
      // Source embeddings: from the reference pass when the source is the reference, else embed.
      std::string sources_spec = options.sources.empty() ? options.reference : options.sources;
      if (sources_spec.empty()) sources_spec = options.input;
      std::unordered_map<std::string, int64_t> ref_row;
      if (sources_spec == (same_set ? options.input : options.reference)) {
        for (size_t j = 0; j < ref.ids.size(); ++j) ref_row[ref.ids[j]] = static_cast<int64_t>(j);
      }
      std::unordered_map<std::string, int64_t> missing;  // source id -> row in extra
      std::vector<std::string> missing_ids;
      for (size_t i : with_source) {
        const std::string& sid = result.source_ids[i];
        if (!ref_row.count(sid) && !missing.count(sid)) {
          missing[sid] = static_cast<int64_t>(missing_ids.size());
          missing_ids.push_back(sid);
        }
      }
      cv::Mat extra;
      std::vector<int> extra_labels(missing_ids.size(), -1);
      std::unordered_map<std::string, bool> unavailable;
      if (!missing_ids.empty()) {
        auto sources = OpenImageSource(sources_spec);
        if (!sources.ok()) return R::Failure("--sources: " + sources.error());
        std::unordered_map<std::string, int64_t> by_id;
        for (int64_t k = 0; k < (*sources)->size(); ++k) by_id[(*sources)->record(k).id] = k;
        std::vector<cv::Mat> images(missing_ids.size());
        for (size_t k = 0; k < missing_ids.size(); ++k) {
          auto it = by_id.find(missing_ids[k]);
          if (it == by_id.end()) {
            unavailable[missing_ids[k]] = true;
            images[k] = cv::Mat::zeros(8, 8, CV_8UC3);
            continue;
          }
          auto image = (*sources)->Load(it->second);
          if (!image.ok()) {
            if (on_issue) on_issue({missing_ids[k], image.error()});
            unavailable[missing_ids[k]] = true;
            images[k] = cv::Mat::zeros(8, 8, CV_8UC3);
            continue;
          }
          images[k] = *image;
          extra_labels[k] = (*sources)->record(it->second).label;
        }
        auto embedded = encoder->Embed(images);
        if (!embedded.ok()) return R::Failure("--sources: " + embedded.error());
        extra = *embedded;
      }
      if (!unavailable.empty()) {
        int64_t views = 0;
        for (size_t i : with_source) views += unavailable.count(result.source_ids[i]) ? 1 : 0;
        SL_LOG_WARNING(views << " view(s) name " << unavailable.size() << " source(s) not found in "
                             << sources_spec << " (e.g. '" << unavailable.begin()->first
                             << "'); semantic_drift and class_change skip them (--sources names "
                                "where the views' sources are)");
      }
      auto source_row = [&](const std::string& sid) -> cv::Mat {
        auto it = ref_row.find(sid);
        if (it != ref_row.end()) return ref.embeddings.row(static_cast<int>(it->second));
        return extra.row(static_cast<int>(missing.at(sid)));
      };
      std::vector<size_t> usable;
      for (size_t i : with_source) {
        if (unavailable.count(result.source_ids[i])) continue;
        usable.push_back(i);
        const double drift = 1.0 - Cosine(in.embeddings.row(static_cast<int>(i)),
                                          source_row(result.source_ids[i]));
        result.scores[i][base + kSemanticDrift] = drift;
        result.flags[i][base + kSemanticDrift] = drift > drift_threshold;
      }
      // Class change: a linear probe fitted on the labelled reference.
      std::vector<int> train_labels;
      cv::Mat train_rows;
      for (size_t j = 0; j < ref.labels.size(); ++j) {
        if (ref.labels[j] >= 0) {
          train_rows.push_back(ref.embeddings.row(static_cast<int>(j)));
          train_labels.push_back(ref.labels[j]);
        }
      }
      const int classes =
          train_labels.empty() ? 0 : *std::max_element(train_labels.begin(), train_labels.end()) + 1;
      if (!usable.empty() && classes >= 2) {
        cv::Mat test_rows;
        for (size_t i : usable) test_rows.push_back(in.embeddings.row(static_cast<int>(i)));
        for (size_t i : usable) test_rows.push_back(source_row(result.source_ids[i]));
        std::vector<int> dummy(test_rows.rows, 0);
        LinearProbeOptions probe_options;
        probe_options.weight_decays = {1e-4};
        auto probe = RunLinearProbe(train_rows, train_labels, test_rows, dummy, probe_options,
                                    [&](double f) { return !progress || progress(0.97 + 0.03 * f); });
        if (!probe.ok()) {
          if (probe.error().find("cancel") != std::string::npos) return R::Failure("cancelled");
          SL_LOG_WARNING("class_change skipped: " << probe.error());
        } else {
          const size_t n = usable.size();
          for (size_t k = 0; k < n; ++k) {
            const double changed =
                probe->test_predictions[k] != probe->test_predictions[n + k] ? 1.0 : 0.0;
            result.scores[usable[k]][base + kClassChange] = changed;
            result.flags[usable[k]][base + kClassChange] = changed > class_threshold;
          }
        }
      }
    }
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (progress) progress(1.0);
  return result;
}

Result<int64_t> WriteDetectCsv(const DetectJobResult& result, const std::string& path) {
  std::ostringstream out;
  out.precision(9);
  out << "image,detector,score,flagged\n";
  int64_t lines = 0;
  auto quote = [](const std::string& s) {
    if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
    std::string q = "\"";
    for (char c : s) {
      if (c == '"') q += '"';
      q += c;
    }
    return q + "\"";
  };
  for (size_t i = 0; i < result.ids.size(); ++i) {
    const std::string id = quote(result.ids[i]);
    for (size_t d = 0; d < result.detectors.size(); ++d) {
      const double s = result.scores[i][d];
      if (std::isnan(s)) continue;
      out << id << ',' << result.detectors[d].name << ',' << s << ','
          << static_cast<int>(result.flags[i][d]) << '\n';
      ++lines;
    }
  }
  const std::string error = WriteFileAtomic(path, out.str());
  if (!error.empty()) return Result<int64_t>::Failure(error);
  return lines;
}

std::string DetectSummaryJson(const DetectJobResult& result) {
  nlohmann::json j;
  j["images"] = result.ids.size();
  j["reference_images"] = result.reference_count;
  j["skipped"] = result.skipped;
  j["encoder"] = result.encoder_name;
  j["seconds"] = result.seconds;
  nlohmann::json detectors = nlohmann::json::array();
  for (size_t d = 0; d < result.detectors.size(); ++d) {
    int64_t scored = 0;
    for (const auto& row : result.scores) scored += !std::isnan(row[d]);
    detectors.push_back({{"name", result.detectors[d].name},
                         {"threshold", result.thresholds[d]},
                         {"rule", result.rules[d]},
                         {"scored", scored},
                         {"flagged", result.FlaggedCount(static_cast<int>(d))}});
  }
  j["detectors"] = detectors;
  int64_t any = 0;
  for (const auto& row : result.flags) {
    any += std::any_of(row.begin(), row.end(), [](uint8_t f) { return f != 0; });
  }
  j["flagged_any"] = any;
  return j.dump(2);
}

}  // namespace synthlens
