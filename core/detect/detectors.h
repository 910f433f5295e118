#pragma once
// Per-image artifact and issue detectors without a learned model (docs/detectors.md): spectral
// deviation (Durall et al. 2020), periodic residual peaks (Corvi et al. 2023), cleanvision-style
// checks (blur, dark, light, low information, duplicates) and simple exposure/colour/JPEG checks.
//
// Flow: AnalyzeImage() once per decoded image (all detectors share that one decode) ->
// FitReference() on the reference (real) set's features -> ScoreImage() for every image ->
// Calibrate() thresholds on the reference's own scores -> FlagScores(). Duplicates need the whole
// set and are found by FindDuplicates() on the hashes. Higher scores are always more suspicious.

#include <cstdint>
#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/detect/image_stats.h"
#include "core/util/result.h"

namespace synthlens {

// Spectra are computed on a kSpectrumSize x kSpectrumSize grey working copy (INTER_AREA when
// shrinking, bicubic when enlarging; non-square images are centre-cropped to a square first) so
// images of any size give comparable profiles. Bin r (0-based) averages the log magnitude of the
// DFT over frequencies with round(sqrt(u^2 + v^2)) == r + 1, i.e. r + 1 cycles per working image;
// the DC term is excluded. Images smaller than kSpectrumSize carry no content above their own
// Nyquist frequency, so only profiles of same-size sources should be compared bin by bin.
inline constexpr int kSpectrumSize = 64;
inline constexpr int kSpectrumBins = kSpectrumSize / 2;

struct DetectorInfo {
  std::string name;         // CSV column value, snake_case (e.g. "spectral")
  std::string description;  // one line: what a high score means
  std::string reference;    // the method it follows
  double default_percentile = 99;  // of the reference's scores; flag = score > threshold
};

// The per-image detectors, in the order of ScoreImage()'s output and Calibration::thresholds:
// spectral, periodic, blur, noise, dark, light, clipped_highlights, clipped_shadows,
// oversaturation, low_information, colour_cast, jpeg. Stable: append only.
const std::vector<DetectorInfo>& PixelDetectors();
// "duplicate": needs the whole set (FindDuplicates), flagged by pHash distance, not a percentile.
const DetectorInfo& DuplicateDetectorInfo();
// Index of `name` in PixelDetectors(), or -1.
int PixelDetectorIndex(const std::string& name);

struct DetectOptions {
  // Larger images are shrunk (INTER_AREA) so that their longer side is at most this before the
  // residual-based detectors (periodic, noise, jpeg) run; bounds time and memory per image.
  int max_side = 512;
  // Median filter aperture of the denoiser whose residual the periodic detector inspects (3 or 5).
  int residual_median = 3;
  bool Check() const;
};

// Everything the detectors need from one image, computed in one pass.
struct PixelFeatures {
  int width = 0, height = 0, channels = 0;  // of the image as given
  ImageStats stats;
  // Reference-free raw value of each PixelDetectors() entry (same order). For "spectral" it is the
  // mean of the upper half of `spectrum`; the reference-relative score comes from ScoreImage().
  std::vector<double> raw;
  // Azimuthally averaged log(1 + |DFT|) of the grey working copy, kSpectrumBins values.
  std::vector<double> spectrum;
  // Largest log-ratio of the residual power spectrum to its 5x5 local median (see "periodic").
  double periodic_peak = 0;
  uint64_t phash = 0;        // 64-bit DCT perceptual hash (32x32 grey, 8x8 low DCT block > median)
  std::string pixel_sha256;  // hex SHA-256 of "WxHxC:" + the raw pixel bytes (exact duplicates)
};

// Analyses one image (CV_8UC1, CV_8UC3 RGB or CV_8UC4 RGBA, any size >= 1x1). Fails for an empty
// image or another type.
Result<PixelFeatures> AnalyzeImage(const cv::Mat& image, const DetectOptions& options = {});

// Analyses many images in parallel (ParallelFor); results in input order.
std::vector<Result<PixelFeatures>> AnalyzeImages(const std::vector<cv::Mat>& images,
                                                 const DetectOptions& options = {});

// What the reference (real) set looks like, for the reference-relative detectors.
struct Reference {
  int64_t count = 0;
  std::vector<double> spectrum_mean;  // per bin, kSpectrumBins
  std::vector<double> spectrum_std;   // per bin (floored at 1e-6)
  // "blur": mean and std (floored at 1e-6) per bin of the contrast-normalised spectrum, i.e.
  // spectrum[b] minus the mean of the image's own bins [0, kBlurLowBins) (BlurProfile()).
  std::vector<double> blur_mean;
  std::vector<double> blur_std;
};

// "blur" uses the spectrum relative to the image's own low band: bins [0, kBlurLowBins) set the
// level, bins [kBlurHighFrom, kSpectrumBins) are compared with the reference.
inline constexpr int kBlurLowBins = kSpectrumBins / 8;
inline constexpr int kBlurHighFrom = kSpectrumBins / 4;
// spectrum[b] - mean(spectrum[0 .. kBlurLowBins)), kSpectrumBins values.
std::vector<double> BlurProfile(const std::vector<double>& spectrum);

// Fails for an empty set.
Result<Reference> FitReference(const std::vector<PixelFeatures>& reference_features);

// One score per PixelDetectors() entry (higher = more suspicious). "spectral" is the RMS of the
// per-bin z-score (spectrum - mean) / std over bins [kSpectrumBins / 8, kSpectrumBins); "blur" is
// minus the mean z-score of BlurProfile() against Reference::blur_mean/std over bins
// [kBlurHighFrom, kSpectrumBins) (less high-frequency energy than the reference, relative to the
// image's own low band); the rest equal PixelFeatures::raw.
std::vector<double> ScoreImage(const PixelFeatures& features, const Reference& reference);

// Mean and standard deviation of the spectra of a set (what the studio plots: an image's spectrum
// against the reference mean +- std). Empty vectors for an empty set.
void MeanSpectrum(const std::vector<PixelFeatures>& features, std::vector<double>* mean,
                  std::vector<double>* std_dev);
// Frequency of each spectrum bin in cycles per pixel of the working copy: (r + 1) / kSpectrumSize.
std::vector<double> SpectrumFrequencies();

// A per-detector threshold rule: a percentile of the reference's scores, or an absolute value.
struct ThresholdRule {
  bool absolute = false;
  double value = 99;  // percentile in [0, 100] or the absolute threshold
};

struct CalibrationOptions {
  double default_percentile = 99;  // used for detectors without an override
  std::map<std::string, ThresholdRule> overrides;  // keyed by PixelDetectors() name
  bool Check() const;
};

// Parses overrides like "blur=p95,dark=0.8,periodic=p99.5" (pNN = percentile, a bare number =
// absolute threshold). Fails naming an unknown detector or a bad value.
Result<std::map<std::string, ThresholdRule>> ParseThresholdOverrides(const std::string& spec);

struct Calibration {
  std::vector<double> thresholds;  // per PixelDetectors() entry
  std::vector<std::string> rules;  // per detector, e.g. "p99" or "abs"
};

// Thresholds from the reference's scores (rows = images, one ScoreImage() vector each); the
// percentile is numpy's default (linear interpolation). Fails for no rows or a ragged row.
Result<Calibration> Calibrate(const std::vector<std::vector<double>>& reference_scores,
                              const CalibrationOptions& options = {});

// flag[d] = scores[d] > thresholds[d] (NaN scores are not flagged).
std::vector<bool> FlagScores(const std::vector<double>& scores, const Calibration& calibration);

// numpy.percentile(values, q) with linear interpolation; values need not be sorted. NaN for none.
double Percentile(std::vector<double> values, double q);

struct ImageHashes {
  uint64_t phash = 0;
  std::string pixel_sha256;
};

struct DuplicateOptions {
  // pHash Hamming distance that counts as a near duplicate. 0 (identical hashes) follows
  // cleanvision; Fashion-MNIST holds many distinct items at distance 2 (2.6% of images).
  int max_distance = 0;
  bool within_set = true;         // compare images of the set with each other
  bool against_reference = true;  // compare each image with the reference set
  bool Check() const;
};

// The nearest other image of an image by pHash (exact pixel matches win ties).
struct DuplicateMatch {
  int64_t index = -1;         // in the set or in the reference; -1: none compared
  bool in_reference = false;  // index refers to the reference set
  int distance = 65;          // pHash Hamming distance (0..64); 65 when none compared
  bool exact = false;         // identical pixels (same dims, type and bytes)
  bool flagged = false;       // exact, or distance <= max_distance
  // Score for the "duplicate" column: 65 - distance, +1 for an exact match (higher = closer).
  double score() const { return 65.0 - distance + (exact ? 1.0 : 0.0); }
};

// Brute-force nearest duplicate (popcount over 64-bit hashes; parallel over the set's images).
std::vector<DuplicateMatch> FindDuplicates(const std::vector<ImageHashes>& set,
                                           const std::vector<ImageHashes>& reference,
                                           const DuplicateOptions& options = {});

ImageHashes HashesOf(const PixelFeatures& features);

}  // namespace synthlens
