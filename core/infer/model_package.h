#pragma once

#include <map>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/infer/noise_schedule.h"
#include "core/util/result.h"

namespace synthlens {

// What a network expects as input (model.json "input"; see docs/model-packages.md).
struct ModelInput {
  int resolution = 0;              // square side
  int channels = 0;                // 1 (grey, ITU-R 601 from RGB) or 3 (RGB)
  std::string resize = "bilinear"; // bilinear | bicubic | nearest
  double value_range[2] = {0.0, 1.0};  // pixels/255 mapped linearly to [lo, hi] ...
  std::vector<double> mean;        // ... then (x - mean) / std per channel; empty: none
  std::vector<double> std;
};

struct EncoderSpec {
  int output_dim = 0;
};

// The conditions a denoiser accepts. 0 / empty means "not accepted" (the denoiser still takes the
// arguments and ignores them).
struct ConditioningSpec {
  int num_classes = 0;            // class ids 0..num_classes-1; num_classes is the null class
  int embedding_dim = 0;          // emb is [B, embedding_dim]; emb_mask 0 is the null embedding
  std::string embedding_encoder;  // the encoder package (name or path) that makes the embedding
};

struct DiffusionSpec {
  std::string space = "pixel";  // pixel | latent
  double latent_scale = 1.0;    // latent models: z = vae_encoder(x) * latent_scale
  int latent_channels = 0;      // latent models only
  int latent_resolution = 0;    // latent models only
  NoiseScheduleSpec schedule;
  ConditioningSpec conditioning;
};

// A validated model package: model.json plus the files it names.
struct ModelManifest {
  std::string kind;         // encoder | diffusion
  std::string name;
  std::string description;
  std::map<std::string, std::string> files;  // role ("encoder", "denoiser", ...) -> relative path
  ModelInput input;
  EncoderSpec encoder;      // kind == "encoder"
  DiffusionSpec diffusion;  // kind == "diffusion"
  std::string training;     // the "training" object as compact JSON ("{}" when absent)
  std::string architecture; // the optional "architecture" object as compact JSON ("{}" if absent)
  std::string dir;          // the package folder
  // Lower-case hex SHA-256 identifying model.json and every referenced file (the exact recipe is
  // in docs/model-packages.md); generated views record it as provenance.
  std::string hash;

  // Absolute-or-relative path of a file role inside dir; throws for an unknown role.
  std::string FilePath(const std::string& role) const;
};

// Folders searched for bare package names, in order: $SYNTHLENS_MODELS (':'-separated),
// <executable dir>/../share/synthlens/models, the source tree's resources/models.
std::vector<std::string> ModelSearchPath();

// Maps a package argument to a folder. A value containing '/' is a path and returned unchanged.
// A bare name is looked up in ModelSearchPath(), then as a folder in the working directory;
// "builtin" means "fmnist-encoder" for kind "encoder" and "fmnist-diffusion" for kind
// "diffusion". Returns "" when a bare name is found nowhere.
std::string ResolveModelPackage(const std::string& dir_or_name, const std::string& kind = "");

// Reads and validates a package: model.json (format, kind, keys, types, ranges, schedule) and
// the existence of every referenced file; computes the hash. `expected_kind` ("" = any) is
// checked too. Errors name the file and the problem ("PKG/model.json: input.channels must be 1
// or 3, got 2"). Loading the TorchScript files is the job of Encoder::Open and the samplers.
Result<ModelManifest> ReadModelPackage(const std::string& dir_or_name,
                                       const std::string& expected_kind = "");

// Parses and validates model.json text without touching the file system (no file checks, no
// hash); `name` is used in error messages.
Result<ModelManifest> ParseModelManifest(const std::string& json_text, const std::string& name);

// Preprocesses one 8-bit RGB image (CV_8UC3) for a network: grey by ITU-R 601 when
// input.channels == 1, resize to input.resolution with Pillow's filter (only when the size
// differs), pixels/255 mapped to value_range, then (x - mean) / std when `normalize` and
// mean/std are given. Returns CV_32FC(channels), HWC, RGB channel order. Throws for an image
// that is not CV_8UC3.
cv::Mat PreprocessImage(const cv::Mat& rgb, const ModelInput& input, bool normalize = true);

// One line describing PreprocessImage for these settings, for people, e.g.
// "grey ITU-R 601 (PIL convert('L') rounding), resize bilinear (Pillow's definition) to 28x28 ...".
std::string DescribePreprocessing(const ModelInput& input, bool normalize = true);

// The same settings as one canonical JSON object string (sorted keys, compact): colour
// conversion, resize filter with its "pillow" definition, size, channels, value range, mean/std.
// Equal strings mean equal preprocessing, so it is recorded with embeddings and keys their cache.
std::string PreprocessingJson(const ModelInput& input, bool normalize = true);

}  // namespace synthlens
