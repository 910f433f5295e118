#pragma once

// Augmentation recipes: named lists of pipelines of classic SSL operations, stored as JSON.
//
// JSON schema (every key but "op" optional; defaults are torchvision's):
//   {"name": "simclr",
//    "pipelines": [                       // view k uses pipelines[k % pipelines.size()]
//      [{"op": "random_resized_crop", "p": 1.0, "size": 0 /* 0: the view size */,
//        "scale": [0.08, 1.0], "ratio": [0.75, 1.3333], "interpolation": "bilinear"},
//       {"op": "horizontal_flip", "p": 0.5},
//       {"op": "vertical_flip", "p": 0.5},
//       {"op": "color_jitter", "p": 0.8, "brightness": 0.4, "contrast": 0.4, "saturation": 0.4,
//        "hue": 0.1},
//       {"op": "grayscale", "p": 0.2},
//       {"op": "gaussian_blur", "p": 0.5, "kernel_fraction": 0.1 /* or "kernel_size": 23 */,
//        "sigma": [0.1, 2.0]},
//       {"op": "solarize", "p": 0.2, "threshold": 128},
//       {"op": "rotation", "p": 1.0, "degrees": [-30, 30]},
//       {"op": "random_erasing", "p": 0.5, "scale": [0.02, 0.33], "ratio": [0.3, 3.3],
//        "value": 0 /* 0..255 or "random" */},
//       {"op": "jpeg", "p": 0.5, "quality": [30, 95]},
//       {"op": "gaussian_noise", "p": 0.5, "sigma": [0, 10] /* grey levels */}]]}

#include <array>
#include <string>
#include <vector>

#include "core/augment/ops.h"
#include "core/util/result.h"

namespace synthlens {

enum class OpKind {
  kRandomResizedCrop,
  kHorizontalFlip,
  kVerticalFlip,
  kColorJitter,
  kGrayscale,
  kGaussianBlur,
  kSolarize,
  kRotation,
  kRandomErasing,
  kJpeg,
  kGaussianNoise,
};

// The JSON name of an op ("random_resized_crop", ...) and the list of all of them.
const char* OpName(OpKind kind);
std::vector<std::string> KnownOpNames();

// One operation and its parameter ranges. Only the fields of its kind are meaningful.
struct OpSpec {
  OpKind kind = OpKind::kHorizontalFlip;
  double p = 1.0;
  // random_resized_crop; scale/ratio are shared with random_erasing.
  int size = 0;
  std::array<double, 2> scale{0.08, 1.0};
  std::array<double, 2> ratio{3.0 / 4.0, 4.0 / 3.0};
  Interpolation interpolation = Interpolation::kBilinear;
  // color_jitter: factors are drawn from [max(0, 1 - s), 1 + s]; hue from [-hue, hue].
  double brightness = 0, contrast = 0, saturation = 0, hue = 0;
  // gaussian_blur: a fixed odd kernel_size, or kernel_fraction of the image's shorter side.
  int kernel_size = 0;
  double kernel_fraction = 0;
  std::array<double, 2> sigma{0.1, 2.0};  // also gaussian_noise's sigma in grey levels
  // solarize
  int threshold = 128;
  // rotation
  std::array<double, 2> degrees{0, 0};
  // random_erasing
  int erase_value = 0;
  bool erase_random = false;
  // jpeg
  std::array<int, 2> quality{30, 95};

  static OpSpec Default(OpKind kind);  // torchvision's defaults for that op
};

using Pipeline = std::vector<OpSpec>;

struct Recipe {
  std::string name;
  std::vector<Pipeline> pipelines;  // view k uses pipelines[k % pipelines.size()]
};

// Checks every range (p in [0, 1], scale lo <= hi, odd kernels, hue <= 0.5, ...). Returns an
// empty string when valid, else "pipeline I, op J (NAME): problem".
std::string ValidateRecipe(const Recipe& recipe);

// Parses and validates recipe JSON; errors start with origin (the file name) and say what is wrong
// and where (line/column for malformed JSON).
Result<Recipe> ParseRecipe(const std::string& json_text, const std::string& origin);
// A built-in name ("simclr", "byol", "mocov2"; compiled in, no resources folder needed) or the path
// of a .json recipe file.
Result<Recipe> LoadRecipe(const std::string& name_or_path);
std::vector<std::string> BuiltinRecipeNames();
// Canonical JSON with every key written; ParseRecipe(RecipeToJson(r)) gives r back.
std::string RecipeToJson(const Recipe& recipe);
// Writes RecipeToJson atomically; returns an empty string on success, else the error.
std::string SaveRecipe(const Recipe& recipe, const std::string& path);

// The studio's three sliders over a recipe.
struct RecipeKnobs {
  // Lower bound of every random_resized_crop's area scale.
  double crop_min_scale = 0.08;
  // SimCLR colour strength s: simclr's jitter is (0.8s, 0.8s, 0.8s, 0.2s), s = 0.5. Changing it
  // multiplies brightness/contrast/saturation of every color_jitter by s_new / s_old, and hue too
  // (capped at 0.5), so other recipes keep their proportions.
  double color_jitter = 0.5;
  // Upper bound of every gaussian_blur's sigma range.
  double blur_sigma_max = 2.0;
};

// Reads the knobs from the first op of each kind (0 where the recipe has none).
RecipeKnobs KnobsOf(const Recipe& recipe);
// Applies the knobs to every op of the matching kind; ops the recipe lacks are not added.
Recipe WithKnobs(const Recipe& recipe, const RecipeKnobs& knobs);

}  // namespace synthlens
