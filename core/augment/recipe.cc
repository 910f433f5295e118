#include "core/augment/recipe.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/augment/builtin_recipes.h"
#include "core/util/file_util.h"

namespace synthlens {
namespace {

using Json = nlohmann::json;

struct OpInfo {
  OpKind kind;
  const char* name;
  std::vector<std::string> keys;  // allowed keys besides "op" and "p"
};

const std::vector<OpInfo>& OpTable() {
  static const std::vector<OpInfo> table = {
      {OpKind::kRandomResizedCrop, "random_resized_crop", {"size", "scale", "ratio", "interpolation"}},
      {OpKind::kHorizontalFlip, "horizontal_flip", {}},
      {OpKind::kVerticalFlip, "vertical_flip", {}},
      {OpKind::kColorJitter, "color_jitter", {"brightness", "contrast", "saturation", "hue"}},
      {OpKind::kGrayscale, "grayscale", {}},
      {OpKind::kGaussianBlur, "gaussian_blur", {"kernel_size", "kernel_fraction", "sigma"}},
      {OpKind::kSolarize, "solarize", {"threshold"}},
      {OpKind::kRotation, "rotation", {"degrees"}},
      {OpKind::kRandomErasing, "random_erasing", {"scale", "ratio", "value"}},
      {OpKind::kJpeg, "jpeg", {"quality"}},
      {OpKind::kGaussianNoise, "gaussian_noise", {"sigma"}},
  };
  return table;
}

const OpInfo& InfoOf(OpKind kind) {
  for (const auto& info : OpTable())
    if (info.kind == kind) return info;
  SL_THROW("unknown op kind " << static_cast<int>(kind));
}

std::string JoinStrings(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

const char* InterpolationName(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::kBicubic:
      return "bicubic";
    case Interpolation::kNearest:
      return "nearest";
    case Interpolation::kBilinear:
      break;
  }
  return "bilinear";
}

// Thrown inside the parser; caught at the top and turned into a Result failure.
struct ParseFailure {
  std::string message;
};

class OpReader {
 public:
  OpReader(const Json& obj, std::string where) : obj_(obj), where_(std::move(where)) {}

  [[noreturn]] void Fail(const std::string& problem) const { throw ParseFailure{where_ + ": " + problem}; }

  bool Has(const char* key) const { return obj_.contains(key); }

  double Number(const char* key) const {
    const Json& v = obj_.at(key);
    if (!v.is_number()) Fail(std::string("\"") + key + "\" must be a number, got " + v.dump());
    return v.get<double>();
  }
  int Integer(const char* key) const {
    const Json& v = obj_.at(key);
    if (!v.is_number_integer() && !(v.is_number_float() && std::floor(v.get<double>()) == v.get<double>()))
      Fail(std::string("\"") + key + "\" must be an integer, got " + v.dump());
    return static_cast<int>(v.get<double>());
  }
  std::array<double, 2> Pair(const char* key) const {
    const Json& v = obj_.at(key);
    if (!v.is_array() || v.size() != 2 || !v[0].is_number() || !v[1].is_number())
      Fail(std::string("\"") + key + "\" must be a [low, high] pair of numbers, got " + v.dump());
    return {v[0].get<double>(), v[1].get<double>()};
  }
  std::array<int, 2> IntPair(const char* key) const {
    const auto pair = Pair(key);
    for (double d : pair)
      if (std::floor(d) != d) Fail(std::string("\"") + key + "\" must hold integers, got " + obj_.at(key).dump());
    return {static_cast<int>(pair[0]), static_cast<int>(pair[1])};
  }

 private:
  const Json& obj_;
  std::string where_;
};

OpSpec ParseOp(const Json& obj, const std::string& where) {
  if (!obj.is_object()) throw ParseFailure{where + ": an op must be a JSON object, got " + obj.dump()};
  if (!obj.contains("op") || !obj.at("op").is_string())
    throw ParseFailure{where + ": missing string key \"op\" (one of " + JoinStrings(KnownOpNames()) + ")"};
  const std::string name = obj.at("op").get<std::string>();
  const OpInfo* info = nullptr;
  for (const auto& candidate : OpTable())
    if (name == candidate.name) info = &candidate;
  if (info == nullptr)
    throw ParseFailure{where + ": unknown op \"" + name + "\" (known ops: " + JoinStrings(KnownOpNames()) + ")"};
  const std::string op_where = where + " (" + name + ")";
  OpReader r(obj, op_where);
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    const std::string& key = it.key();
    if (key == "op" || key == "p") continue;
    if (std::find(info->keys.begin(), info->keys.end(), key) == info->keys.end()) {
      std::vector<std::string> allowed = {"p"};
      allowed.insert(allowed.end(), info->keys.begin(), info->keys.end());
      r.Fail("unknown key \"" + key + "\" (allowed: " + JoinStrings(allowed) + ")");
    }
  }
  OpSpec op = OpSpec::Default(info->kind);
  if (r.Has("p")) op.p = r.Number("p");
  switch (info->kind) {
    case OpKind::kRandomResizedCrop:
      if (r.Has("size")) op.size = r.Integer("size");
      if (r.Has("scale")) op.scale = r.Pair("scale");
      if (r.Has("ratio")) op.ratio = r.Pair("ratio");
      if (r.Has("interpolation")) {
        const Json& v = obj.at("interpolation");
        const std::string s = v.is_string() ? v.get<std::string>() : v.dump();
        if (s == "bilinear") op.interpolation = Interpolation::kBilinear;
        else if (s == "bicubic") op.interpolation = Interpolation::kBicubic;
        else if (s == "nearest") op.interpolation = Interpolation::kNearest;
        else r.Fail("\"interpolation\" must be \"bilinear\", \"bicubic\" or \"nearest\", got " + v.dump());
      }
      break;
    case OpKind::kColorJitter:
      if (r.Has("brightness")) op.brightness = r.Number("brightness");
      if (r.Has("contrast")) op.contrast = r.Number("contrast");
      if (r.Has("saturation")) op.saturation = r.Number("saturation");
      if (r.Has("hue")) op.hue = r.Number("hue");
      break;
    case OpKind::kGaussianBlur:
      if (r.Has("kernel_size") && r.Has("kernel_fraction"))
        r.Fail("give either \"kernel_size\" or \"kernel_fraction\", not both");
      if (r.Has("kernel_size")) {
        op.kernel_size = r.Integer("kernel_size");
        op.kernel_fraction = 0;
      }
      if (r.Has("kernel_fraction")) {
        op.kernel_fraction = r.Number("kernel_fraction");
        op.kernel_size = 0;
      }
      if (r.Has("sigma")) op.sigma = r.Pair("sigma");
      break;
    case OpKind::kSolarize:
      if (r.Has("threshold")) op.threshold = r.Integer("threshold");
      break;
    case OpKind::kRotation:
      if (r.Has("degrees")) op.degrees = r.Pair("degrees");
      break;
    case OpKind::kRandomErasing:
      if (r.Has("scale")) op.scale = r.Pair("scale");
      if (r.Has("ratio")) op.ratio = r.Pair("ratio");
      if (r.Has("value")) {
        const Json& v = obj.at("value");
        if (v.is_string() && v.get<std::string>() == "random") {
          op.erase_random = true;
        } else if (v.is_number()) {
          op.erase_value = r.Integer("value");
          op.erase_random = false;
        } else {
          r.Fail("\"value\" must be a grey level 0..255 or \"random\", got " + v.dump());
        }
      }
      break;
    case OpKind::kJpeg:
      if (r.Has("quality")) op.quality = r.IntPair("quality");
      break;
    case OpKind::kGaussianNoise:
      if (r.Has("sigma")) op.sigma = r.Pair("sigma");
      break;
    case OpKind::kHorizontalFlip:
    case OpKind::kVerticalFlip:
    case OpKind::kGrayscale:
      break;
  }
  return op;
}

std::string Fmt(double v) {
  std::ostringstream s;
  s << v;
  return s.str();
}

// Returns "" or the problem of one op.
std::string CheckOp(const OpSpec& op) {
  auto pair = [](const std::array<double, 2>& a) { return "[" + Fmt(a[0]) + ", " + Fmt(a[1]) + "]"; };
  if (!(op.p >= 0 && op.p <= 1)) return "p " + Fmt(op.p) + " outside [0, 1]";
  switch (op.kind) {
    case OpKind::kRandomResizedCrop:
      if (op.size < 0) return "size " + std::to_string(op.size) + " is negative";
      if (!(op.scale[0] > 0 && op.scale[0] <= op.scale[1] && op.scale[1] <= 1))
        return "scale " + pair(op.scale) + " must satisfy 0 < low <= high <= 1";
      if (!(op.ratio[0] > 0 && op.ratio[0] <= op.ratio[1]))
        return "ratio " + pair(op.ratio) + " must satisfy 0 < low <= high";
      break;
    case OpKind::kColorJitter:
      if (!(op.brightness >= 0)) return "brightness " + Fmt(op.brightness) + " is negative";
      if (!(op.contrast >= 0)) return "contrast " + Fmt(op.contrast) + " is negative";
      if (!(op.saturation >= 0)) return "saturation " + Fmt(op.saturation) + " is negative";
      if (!(op.hue >= 0 && op.hue <= 0.5)) return "hue " + Fmt(op.hue) + " outside [0, 0.5]";
      break;
    case OpKind::kGaussianBlur:
      if (op.kernel_fraction == 0) {
        if (op.kernel_size < 1 || op.kernel_size % 2 == 0)
          return "kernel_size " + std::to_string(op.kernel_size) + " must be a positive odd integer";
      } else if (!(op.kernel_fraction > 0 && op.kernel_fraction <= 1)) {
        return "kernel_fraction " + Fmt(op.kernel_fraction) + " outside (0, 1]";
      }
      if (!(op.sigma[0] > 0 && op.sigma[0] <= op.sigma[1]))
        return "sigma " + pair(op.sigma) + " must satisfy 0 < low <= high";
      break;
    case OpKind::kSolarize:
      if (op.threshold < 0 || op.threshold > 256)
        return "threshold " + std::to_string(op.threshold) + " outside [0, 256]";
      break;
    case OpKind::kRotation:
      if (!(op.degrees[0] <= op.degrees[1])) return "degrees " + pair(op.degrees) + " must satisfy low <= high";
      break;
    case OpKind::kRandomErasing:
      if (!(op.scale[0] > 0 && op.scale[0] <= op.scale[1] && op.scale[1] < 1))
        return "scale " + pair(op.scale) + " must satisfy 0 < low <= high < 1";
      if (!(op.ratio[0] > 0 && op.ratio[0] <= op.ratio[1]))
        return "ratio " + pair(op.ratio) + " must satisfy 0 < low <= high";
      if (op.erase_value < 0 || op.erase_value > 255)
        return "value " + std::to_string(op.erase_value) + " outside [0, 255]";
      break;
    case OpKind::kJpeg:
      if (!(op.quality[0] >= 1 && op.quality[0] <= op.quality[1] && op.quality[1] <= 100))
        return "quality [" + std::to_string(op.quality[0]) + ", " + std::to_string(op.quality[1]) +
               "] must satisfy 1 <= low <= high <= 100";
      break;
    case OpKind::kGaussianNoise:
      if (!(op.sigma[0] >= 0 && op.sigma[0] <= op.sigma[1]))
        return "sigma " + pair(op.sigma) + " must satisfy 0 <= low <= high";
      break;
    case OpKind::kHorizontalFlip:
    case OpKind::kVerticalFlip:
    case OpKind::kGrayscale:
      break;
  }
  return "";
}

Json OpToJson(const OpSpec& op) {
  Json j;
  j["op"] = OpName(op.kind);
  j["p"] = op.p;
  auto pair = [](const std::array<double, 2>& a) { return Json::array({a[0], a[1]}); };
  switch (op.kind) {
    case OpKind::kRandomResizedCrop:
      j["size"] = op.size;
      j["scale"] = pair(op.scale);
      j["ratio"] = pair(op.ratio);
      j["interpolation"] = InterpolationName(op.interpolation);
      break;
    case OpKind::kColorJitter:
      j["brightness"] = op.brightness;
      j["contrast"] = op.contrast;
      j["saturation"] = op.saturation;
      j["hue"] = op.hue;
      break;
    case OpKind::kGaussianBlur:
      if (op.kernel_fraction > 0) j["kernel_fraction"] = op.kernel_fraction;
      else j["kernel_size"] = op.kernel_size;
      j["sigma"] = pair(op.sigma);
      break;
    case OpKind::kSolarize:
      j["threshold"] = op.threshold;
      break;
    case OpKind::kRotation:
      j["degrees"] = pair(op.degrees);
      break;
    case OpKind::kRandomErasing:
      j["scale"] = pair(op.scale);
      j["ratio"] = pair(op.ratio);
      if (op.erase_random) j["value"] = "random";
      else j["value"] = op.erase_value;
      break;
    case OpKind::kJpeg:
      j["quality"] = Json::array({op.quality[0], op.quality[1]});
      break;
    case OpKind::kGaussianNoise:
      j["sigma"] = pair(op.sigma);
      break;
    case OpKind::kHorizontalFlip:
    case OpKind::kVerticalFlip:
    case OpKind::kGrayscale:
      break;
  }
  return j;
}

// Line and column (1-based) of a byte offset, for malformed-JSON messages.
std::pair<int, int> LineColumn(const std::string& text, size_t byte) {
  int line = 1, column = 1;
  for (size_t i = 0; i < std::min(byte, text.size()); ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return {line, column};
}

double ColorStrength(const OpSpec& op) {
  return std::max({op.brightness, op.contrast, op.saturation}) / 0.8;
}

}  // namespace

const char* OpName(OpKind kind) { return InfoOf(kind).name; }

std::vector<std::string> KnownOpNames() {
  std::vector<std::string> names;
  for (const auto& info : OpTable()) names.push_back(info.name);
  return names;
}

OpSpec OpSpec::Default(OpKind kind) {
  OpSpec op;
  op.kind = kind;
  switch (kind) {
    case OpKind::kRandomErasing:
      op.scale = {0.02, 0.33};
      op.ratio = {0.3, 3.3};
      break;
    case OpKind::kGaussianBlur:
      op.kernel_fraction = 0.1;
      break;
    case OpKind::kGaussianNoise:
      op.sigma = {0.0, 10.0};
      break;
    default:
      break;
  }
  return op;
}

std::string ValidateRecipe(const Recipe& recipe) {
  if (recipe.pipelines.empty()) return "a recipe needs at least one pipeline";
  for (size_t i = 0; i < recipe.pipelines.size(); ++i) {
    for (size_t j = 0; j < recipe.pipelines[i].size(); ++j) {
      const OpSpec& op = recipe.pipelines[i][j];
      const std::string problem = CheckOp(op);
      if (!problem.empty())
        return "pipeline " + std::to_string(i + 1) + ", op " + std::to_string(j + 1) + " (" + OpName(op.kind) +
               "): " + problem;
    }
  }
  return "";
}

Result<Recipe> ParseRecipe(const std::string& json_text, const std::string& origin) {
  Json root;
  try {
    root = Json::parse(json_text);
  } catch (const nlohmann::json::parse_error& e) {
    const auto [line, column] = LineColumn(json_text, e.byte > 0 ? e.byte - 1 : 0);
    std::string what = e.what();
    // Drop nlohmann's "[json.exception.parse_error.101] parse error at line L, column C: " prefix.
    const size_t colon = what.find(": ");
    if (colon != std::string::npos) what = what.substr(colon + 2);
    return Result<Recipe>::Failure(origin + ":" + std::to_string(line) + ":" + std::to_string(column) +
                                   ": malformed JSON: " + what);
  }
  try {
    if (!root.is_object()) throw ParseFailure{"the top level must be a JSON object"};
    for (auto it = root.begin(); it != root.end(); ++it)
      if (it.key() != "name" && it.key() != "pipelines")
        throw ParseFailure{"unknown key \"" + it.key() + "\" (allowed: name, pipelines)"};
    Recipe recipe;
    if (root.contains("name")) {
      if (!root["name"].is_string()) throw ParseFailure{"\"name\" must be a string, got " + root["name"].dump()};
      recipe.name = root["name"].get<std::string>();
    }
    if (!root.contains("pipelines")) throw ParseFailure{"missing key \"pipelines\" (a list of lists of ops)"};
    const Json& pipelines = root["pipelines"];
    if (!pipelines.is_array() || pipelines.empty())
      throw ParseFailure{"\"pipelines\" must be a non-empty list of lists of ops"};
    for (size_t i = 0; i < pipelines.size(); ++i) {
      const std::string where = "pipeline " + std::to_string(i + 1);
      if (!pipelines[i].is_array()) throw ParseFailure{where + " must be a list of ops, got " + pipelines[i].dump()};
      Pipeline pipeline;
      for (size_t j = 0; j < pipelines[i].size(); ++j)
        pipeline.push_back(ParseOp(pipelines[i][j], where + ", op " + std::to_string(j + 1)));
      recipe.pipelines.push_back(std::move(pipeline));
    }
    const std::string problem = ValidateRecipe(recipe);
    if (!problem.empty()) throw ParseFailure{problem};
    return recipe;
  } catch (const ParseFailure& failure) {
    return Result<Recipe>::Failure(origin + ": " + failure.message);
  }
}

std::vector<std::string> BuiltinRecipeNames() {
  std::vector<std::string> names;
  for (const auto& builtin : BuiltinRecipeTexts()) names.push_back(builtin.name);
  return names;
}

Result<Recipe> LoadRecipe(const std::string& name_or_path) {
  for (const auto& builtin : BuiltinRecipeTexts())
    if (name_or_path == builtin.name) return ParseRecipe(builtin.json, std::string("<builtin ") + builtin.name + ">");
  const bool looks_like_path = name_or_path.find('/') != std::string::npos ||
                               (name_or_path.size() > 5 && name_or_path.substr(name_or_path.size() - 5) == ".json");
  if (!looks_like_path)
    return Result<Recipe>::Failure("unknown recipe \"" + name_or_path + "\" (built-in: " +
                                   JoinStrings(BuiltinRecipeNames()) + "; or give a .json file path)");
  Result<std::string> text = ReadFileBytes(name_or_path);
  if (!text.ok()) return Result<Recipe>::Failure(text.error());
  return ParseRecipe(text.value(), name_or_path);
}

std::string RecipeToJson(const Recipe& recipe) {
  Json root;
  root["name"] = recipe.name;
  root["pipelines"] = Json::array();
  for (const Pipeline& pipeline : recipe.pipelines) {
    Json ops = Json::array();
    for (const OpSpec& op : pipeline) ops.push_back(OpToJson(op));
    root["pipelines"].push_back(ops);
  }
  return root.dump(2) + "\n";
}

std::string SaveRecipe(const Recipe& recipe, const std::string& path) {
  const std::string problem = ValidateRecipe(recipe);
  if (!problem.empty()) return path + ": not saved: " + problem;
  return WriteFileAtomic(path, RecipeToJson(recipe));
}

RecipeKnobs KnobsOf(const Recipe& recipe) {
  RecipeKnobs knobs{0, 0, 0};
  bool crop = false, jitter = false, blur = false;
  for (const Pipeline& pipeline : recipe.pipelines) {
    for (const OpSpec& op : pipeline) {
      if (op.kind == OpKind::kRandomResizedCrop && !crop) {
        knobs.crop_min_scale = op.scale[0];
        crop = true;
      } else if (op.kind == OpKind::kColorJitter && !jitter) {
        knobs.color_jitter = ColorStrength(op);
        jitter = true;
      } else if (op.kind == OpKind::kGaussianBlur && !blur) {
        knobs.blur_sigma_max = op.sigma[1];
        blur = true;
      }
    }
  }
  return knobs;
}

Recipe WithKnobs(const Recipe& recipe, const RecipeKnobs& knobs) {
  SL_CHECK(knobs.crop_min_scale > 0 && knobs.crop_min_scale <= 1,
           "crop_min_scale " << knobs.crop_min_scale << " outside (0, 1]");
  SL_CHECK(knobs.color_jitter >= 0, "color_jitter " << knobs.color_jitter << " is negative");
  SL_CHECK(knobs.blur_sigma_max > 0, "blur_sigma_max " << knobs.blur_sigma_max << " must be positive");
  Recipe out = recipe;
  const double old_strength = KnobsOf(recipe).color_jitter;
  for (Pipeline& pipeline : out.pipelines) {
    for (OpSpec& op : pipeline) {
      if (op.kind == OpKind::kRandomResizedCrop) {
        op.scale[0] = knobs.crop_min_scale;
        op.scale[1] = std::max(op.scale[1], op.scale[0]);
      } else if (op.kind == OpKind::kColorJitter) {
        if (old_strength > 0) {
          const double ratio = knobs.color_jitter / old_strength;
          op.brightness *= ratio;
          op.contrast *= ratio;
          op.saturation *= ratio;
          op.hue = std::min(0.5, op.hue * ratio);
        } else {
          // No reference proportions: use SimCLR's (0.8s, 0.8s, 0.8s, 0.2s).
          op.brightness = op.contrast = op.saturation = 0.8 * knobs.color_jitter;
          op.hue = std::min(0.5, 0.2 * knobs.color_jitter);
        }
      } else if (op.kind == OpKind::kGaussianBlur) {
        op.sigma[1] = knobs.blur_sigma_max;
        op.sigma[0] = std::min(op.sigma[0], op.sigma[1]);
      }
    }
  }
  return out;
}

}  // namespace synthlens
