#pragma once
// Planted-artifact benchmark of the pixel detectors (docs/detectors.md): clean real images get
// known artifacts planted; every detector is calibrated on a disjoint clean reference split and
// scored by AUROC (clean vs planted) and by its flag rate on held-out clean images.

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/detect/detectors.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct PlantedArtifact {
  std::string name;      // e.g. "checkerboard"
  std::string detector;  // the detector meant to catch it (PixelDetectors() name or "duplicate")
  std::string description;
};

// checkerboard, blur, noise, jpeg, clip_highlights, clip_shadows, colour_cast, oversaturation,
// periodic_grid, darken, lighten, flatten, duplicate. Stable order.
const std::vector<PlantedArtifact>& PlantedArtifacts();

// Plants `artifact` into an 8-bit RGB image (CV_8UC3); the result has the same size and type.
// Random draws (noise) come from `seed` only. "duplicate" is planted by the benchmark itself (a
// copy of a reference image) and is a contract violation here, as is an unknown name.
cv::Mat PlantArtifact(const cv::Mat& rgb, const std::string& artifact, uint64_t seed);

struct PlantedBenchmarkOptions {
  std::string source = "fashion-mnist:test";  // any OpenImageSource() spec
  int64_t reference_count = 2000;  // images [0, R): the reference (calibration) split
  int64_t clean_count = 500;       // images [R, R + C): held-out clean images and planting bases
  int size = 0;                    // > 0: bicubic resize to size x size first; 0: native size
  uint64_t seed = 0;
  DetectOptions detect;
  CalibrationOptions calibration;
  DuplicateOptions duplicates;
  bool Check() const;
};

struct PlantedBenchmarkResult {
  std::string source;
  int size = 0;
  int64_t reference_count = 0, clean_count = 0;
  std::vector<std::string> detectors;  // PixelDetectors() names, then "duplicate"
  std::vector<double> thresholds;      // per detector (duplicate: max pHash distance)
  std::vector<double> clean_flag_rate;  // per detector, on the held-out clean images
  std::vector<PlantedArtifact> artifacts;
  std::vector<std::vector<double>> auroc;              // [artifact][detector]
  std::vector<std::vector<double>> planted_flag_rate;  // [artifact][detector]
  double seconds = 0;  // wall time of analysis (for information only)
};

// Fails when the source cannot be opened, is smaller than R + C images, or an image fails to
// load. Progress goes from 0 to 1 over the analysed images; returning false cancels (a failure).
Result<PlantedBenchmarkResult> RunPlantedBenchmark(const PlantedBenchmarkOptions& options,
                                                   const ProgressFn& progress = {});

// {"source", "size", "reference_count", "clean_count", "detectors", "thresholds",
//  "clean_flag_rate": {det: rate}, "artifacts": [{"name", "intended", "auroc": {det: a},
//  "flag_rate": {det: r}}]}
std::string PlantedBenchmarkJson(const PlantedBenchmarkResult& result);

}  // namespace synthlens
