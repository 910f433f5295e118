#pragma once
// `synthlens detect`: every per-image artifact detector over an image set, calibrated on a
// reference (real) set (docs/detectors.md). One decode per image feeds all pixel detectors and,
// with an encoder, the embedding detectors (memorisation, authenticity, semantic drift, class
// change).

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/detect/detectors.h"
#include "core/infer/device.h"
#include "core/io/image_source.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// The detectors that need embeddings, in the order they follow the pixel detectors and
// "duplicate" in DetectJobResult::detectors.
const std::vector<DetectorInfo>& EmbeddingDetectors();

struct DetectJobOptions {
  std::string input;      // SRC whose images are checked (e.g. a folder of generated views)
  std::string reference;  // SRC of the real set the thresholds are calibrated on; empty: input
  // SRC holding the sources of the input's views (their ids are manifest.jsonl's "source"
  // column); empty: the reference. Only used when the input folder has a manifest.jsonl.
  std::string sources;
  int64_t limit = -1;            // first N input images; -1 all
  int64_t reference_limit = -1;  // first N reference images; -1 all
  // Encoder package for the embedding detectors ("builtin", a folder, "pixels"); empty: none.
  std::string encoder = "builtin";
  Device device;
  int batch = 256;               // images decoded, analysed and embedded together
  double max_megapixels = 100;   // larger images are refused (decompression bombs), not decoded
  DetectOptions pixel;
  DuplicateOptions duplicates;
  double default_percentile = 99;
  // Per-detector threshold overrides, "blur=p95,memorisation=0.97" (pNN = percentile of the
  // reference, a bare number = absolute threshold); any detector name of the result.
  std::string thresholds;
  std::string Check() const;  // empty when valid, else the problem naming the option
};

struct DetectJobResult {
  std::vector<DetectorInfo> detectors;  // pixel detectors, "duplicate", then embedding ones
  std::vector<double> thresholds;       // per detector
  std::vector<std::string> rules;       // per detector: "p99", "abs", "pHash<=4", ...
  std::vector<std::string> ids;         // input image ids (rows), source order, unreadable skipped
  std::vector<int64_t> indices;         // each row's index in the input source
  std::vector<int> labels;              // input labels (-1 unknown)
  std::vector<std::string> source_ids;  // per row: the view's source id from manifest.jsonl, or ""
  // rows x detectors; NaN where a detector does not apply (no encoder, no known source, ...).
  std::vector<std::vector<double>> scores;
  std::vector<std::vector<uint8_t>> flags;  // rows x detectors, 0/1
  std::vector<DuplicateMatch> duplicates;   // per row
  std::vector<std::vector<double>> spectra; // per row, kSpectrumBins (the studio's plot)
  std::vector<double> reference_spectrum_mean, reference_spectrum_std;
  std::vector<ImageStats> stats, reference_stats;  // per input row / reference image
  std::vector<int> reference_labels;
  cv::Mat embeddings, reference_embeddings;  // rows x D CV_32F; empty without an encoder
  std::string encoder_name;
  int64_t skipped = 0;                      // unreadable input and reference images
  int64_t reference_count = 0;
  double seconds = 0;
  int DetectorIndex(const std::string& name) const;  // -1 when absent
  int64_t FlaggedCount(int detector) const;
};

// Runs the detectors. progress(fraction) returning false cancels ("cancelled" failure); unreadable
// images go to on_issue (file and reason) and are skipped. Fails for a missing or empty source,
// a bad encoder package or a bad threshold override, naming it.
Result<DetectJobResult> RunDetectJob(const DetectJobOptions& options, const ProgressFn& progress,
                                     const std::function<void(const SourceIssue&)>& on_issue);

// The CSV of CLI.md: header `image,detector,score,flagged`, one row per image and detector
// (detectors that do not apply to an image are left out), written atomically.
Result<int64_t> WriteDetectCsv(const DetectJobResult& result, const std::string& path);

// Summary for `--json` and the studio: detectors with threshold, rule and flagged count, sizes.
std::string DetectSummaryJson(const DetectJobResult& result);

}  // namespace synthlens
