#include "core/infer/model_package.h"

#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/imaging/resize.h"
#include "core/util/file_util.h"
#include "core/util/sha256.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

constexpr char kFormat[] = "synthlens-model-package";
constexpr int kFormatVersion = 1;

// Thrown inside this file only; turned into a Result by ParseModelManifest.
struct ManifestError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& message) { throw ManifestError{message}; }

const char* TypeName(const json& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return "a boolean";
  if (value.is_number_integer() || value.is_number_unsigned()) return "an integer";
  if (value.is_number()) return "a number";
  if (value.is_string()) return "a string";
  if (value.is_array()) return "an array";
  return "an object";
}

// Reads the keys of one JSON object, checking types, and rejects keys nobody read (typos such
// as "output_dims" must not be silently ignored).
class ObjectReader {
 public:
  ObjectReader(const json& object, std::string path) : object_(object), path_(std::move(path)) {
    if (!object_.is_object()) Fail(Where("") + "must be an object, got " + TypeName(object_));
  }
  ~ObjectReader() noexcept(false) {}

  std::string Where(const std::string& key) const {
    if (path_.empty()) return key.empty() ? "" : key + ": ";
    return path_ + (key.empty() ? "" : "." + key) + ": ";
  }
  bool Has(const std::string& key) const { return object_.contains(key); }
  const json& Get(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end()) Fail(Where(key) + "missing");
    return *it;
  }
  // nullptr when absent or null.
  const json* GetOptional(const std::string& key) {
    seen_.insert(key);
    auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return nullptr;
    return &*it;
  }
  std::string String(const std::string& key) {
    const json& v = Get(key);
    if (!v.is_string()) Fail(Where(key) + "must be a string, got " + TypeName(v));
    return v.get<std::string>();
  }
  std::string OptionalString(const std::string& key, const std::string& fallback) {
    const json* v = GetOptional(key);
    if (!v) return fallback;
    if (!v->is_string()) Fail(Where(key) + "must be a string, got " + TypeName(*v));
    return v->get<std::string>();
  }
  int Int(const std::string& key) { return AsInt(Get(key), key); }
  int OptionalInt(const std::string& key, int fallback) {
    const json* v = GetOptional(key);
    return v ? AsInt(*v, key) : fallback;
  }
  double Number(const std::string& key) { return AsNumber(Get(key), key); }
  double OptionalNumber(const std::string& key, double fallback) {
    const json* v = GetOptional(key);
    return v ? AsNumber(*v, key) : fallback;
  }
  std::vector<double> Numbers(const std::string& key) {
    const json& v = Get(key);
    if (!v.is_array()) Fail(Where(key) + "must be an array of numbers, got " + TypeName(v));
    std::vector<double> out;
    for (const json& item : v) out.push_back(AsNumber(item, key));
    return out;
  }
  // Call after reading: fails on any key that was not read.
  void Finish() const {
    for (auto it = object_.begin(); it != object_.end(); ++it) {
      if (!seen_.count(it.key())) Fail(Where(it.key()) + "unknown key");
    }
  }

 private:
  int AsInt(const json& v, const std::string& key) const {
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      Fail(Where(key) + "must be an integer, got " + TypeName(v));
    }
    const auto value = v.get<int64_t>();
    if (value < -1000000000 || value > 1000000000) Fail(Where(key) + "out of range");
    return static_cast<int>(value);
  }
  double AsNumber(const json& v, const std::string& key) const {
    if (!v.is_number()) Fail(Where(key) + "must be a number, got " + TypeName(v));
    const double value = v.get<double>();
    if (!std::isfinite(value)) Fail(Where(key) + "must be finite");
    return value;
  }
  const json& object_;
  std::string path_;
  std::set<std::string> seen_;
};

void ParseInput(ObjectReader& root, ModelManifest* m) {
  ObjectReader in(root.Get("input"), "input");
  ModelInput& input = m->input;
  input.resolution = in.Int("resolution");
  if (input.resolution <= 0 || input.resolution > 8192) {
    Fail("input.resolution: must be in [1, 8192], got " + std::to_string(input.resolution));
  }
  input.channels = in.Int("channels");
  if (input.channels != 1 && input.channels != 3) {
    Fail("input.channels: must be 1 or 3, got " + std::to_string(input.channels));
  }
  input.resize = in.OptionalString("resize", "bilinear");
  if (input.resize != "bilinear" && input.resize != "bicubic" && input.resize != "nearest") {
    Fail("input.resize: '" + input.resize + "' is not one of bilinear, bicubic, nearest");
  }
  if (in.GetOptional("value_range")) {
    const std::vector<double> range = in.Numbers("value_range");
    if (range.size() != 2 || !(range[0] < range[1])) {
      Fail("input.value_range: must be [lo, hi] with lo < hi");
    }
    input.value_range[0] = range[0];
    input.value_range[1] = range[1];
  }
  const bool has_mean = in.GetOptional("mean") != nullptr;
  const bool has_std = in.GetOptional("std") != nullptr;
  if (has_mean != has_std) Fail("input: mean and std must be given together");
  if (has_mean) {
    input.mean = in.Numbers("mean");
    input.std = in.Numbers("std");
    const size_t c = static_cast<size_t>(input.channels);
    if (input.mean.size() != c) {
      Fail("input.mean: has " + std::to_string(input.mean.size()) + " value(s), channels is " +
           std::to_string(c));
    }
    if (input.std.size() != c) {
      Fail("input.std: has " + std::to_string(input.std.size()) + " value(s), channels is " +
           std::to_string(c));
    }
    for (double s : input.std) {
      if (!(s > 0)) Fail("input.std: every value must be > 0");
    }
  }
  in.Finish();
}

void ParseDiffusion(ObjectReader& root, ModelManifest* m) {
  ObjectReader d(root.Get("diffusion"), "diffusion");
  DiffusionSpec& spec = m->diffusion;
  spec.space = d.String("space");
  if (spec.space != "pixel" && spec.space != "latent") {
    Fail("diffusion.space: '" + spec.space + "' is not one of pixel, latent");
  }
  if (spec.space == "latent") {
    spec.latent_scale = d.Number("latent_scale");
    if (!(spec.latent_scale > 0)) Fail("diffusion.latent_scale: must be > 0");
    spec.latent_channels = d.Int("latent_channels");
    spec.latent_resolution = d.Int("latent_resolution");
    if (spec.latent_channels <= 0) Fail("diffusion.latent_channels: must be > 0");
    if (spec.latent_resolution <= 0) Fail("diffusion.latent_resolution: must be > 0");
  } else {
    for (const char* key : {"latent_scale", "latent_channels", "latent_resolution"}) {
      if (d.GetOptional(key)) {
        Fail(std::string("diffusion.") + key + ": only for space \"latent\"");
      }
    }
  }
  {
    ObjectReader s(d.Get("schedule"), "diffusion.schedule");
    NoiseScheduleSpec& sched = spec.schedule;
    sched.beta_schedule = s.String("beta_schedule");
    sched.beta_start = s.OptionalNumber("beta_start", sched.beta_start);
    sched.beta_end = s.OptionalNumber("beta_end", sched.beta_end);
    sched.num_train_timesteps = s.Int("num_train_timesteps");
    sched.prediction_type = s.String("prediction_type");
    s.Finish();
    if (std::string problem = sched.Validate(); !problem.empty()) {
      Fail("diffusion.schedule: " + problem);
    }
  }
  if (const json* cond = d.GetOptional("conditioning")) {
    ObjectReader c(*cond, "diffusion.conditioning");
    if (const json* cls = c.GetOptional("class")) {
      ObjectReader k(*cls, "diffusion.conditioning.class");
      spec.conditioning.num_classes = k.Int("num_classes");
      if (spec.conditioning.num_classes < 1) {
        Fail("diffusion.conditioning.class.num_classes: must be >= 1 (use null for none)");
      }
      k.Finish();
    }
    if (const json* emb = c.GetOptional("embedding")) {
      ObjectReader e(*emb, "diffusion.conditioning.embedding");
      spec.conditioning.embedding_dim = e.Int("dim");
      if (spec.conditioning.embedding_dim < 1) {
        Fail("diffusion.conditioning.embedding.dim: must be >= 1 (use null for none)");
      }
      spec.conditioning.embedding_encoder = e.OptionalString("encoder", "");
      e.Finish();
    }
    c.Finish();
  }
  d.Finish();
}

void ParseFiles(ObjectReader& root, ModelManifest* m) {
  ObjectReader f(root.Get("files"), "files");
  std::vector<std::string> required;
  std::vector<std::string> allowed;
  if (m->kind == "encoder") {
    required = {"encoder"};
  } else {
    required = {"denoiser"};
    if (m->diffusion.space == "latent") {
      required.push_back("vae_encoder");
      required.push_back("vae_decoder");
    }
  }
  for (const std::string& role : required) {
    const std::string path = f.String(role);
    if (path.empty()) Fail("files." + role + ": empty path");
    const fs::path p(path);
    if (p.is_absolute()) Fail("files." + role + ": '" + path + "' must be relative to the package");
    for (const auto& part : p) {
      if (part == "..") Fail("files." + role + ": '" + path + "' must stay inside the package");
    }
    m->files[role] = path;
  }
  f.Finish();
}

std::string ExecutableDir() {
  std::error_code ec;
  const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  return ec ? std::string() : exe.parent_path().string();
}

std::string JsonErrorLocation(const std::string& text, size_t byte) {
  size_t line = 1, col = 1;
  for (size_t i = 0; i < text.size() && i + 1 < byte; ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

}  // namespace

std::string ModelManifest::FilePath(const std::string& role) const {
  auto it = files.find(role);
  SL_CHECK(it != files.end(), "model package " << dir << " has no file role '" << role << "'");
  return (fs::path(dir) / it->second).string();
}

std::vector<std::string> ModelSearchPath() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("SYNTHLENS_MODELS"); env && *env) {
    std::stringstream list(env);
    for (std::string item; std::getline(list, item, ':');) {
      if (!item.empty()) dirs.push_back(item);
    }
  }
  if (const std::string exe = ExecutableDir(); !exe.empty()) {
    dirs.push_back((fs::path(exe) / ".." / "share" / "synthlens" / "models").lexically_normal().string());
  }
#ifdef SYNTHLENS_SOURCE_DIR
  dirs.push_back(std::string(SYNTHLENS_SOURCE_DIR) + "/resources/models");
#endif
  return dirs;
}

std::string ResolveModelPackage(const std::string& dir_or_name, const std::string& kind) {
  if (dir_or_name.find('/') != std::string::npos) return dir_or_name;
  std::string name = dir_or_name;
  if (name == "builtin") {
    if (kind == "encoder") name = "fmnist-encoder";
    else if (kind == "diffusion") name = "fmnist-diffusion";
    else return "";
  }
  std::error_code ec;
  for (const std::string& dir : ModelSearchPath()) {
    const fs::path candidate = fs::path(dir) / name;
    if (fs::is_regular_file(candidate / "model.json", ec)) return candidate.string();
  }
  if (dir_or_name != "builtin" && fs::is_directory(dir_or_name, ec)) return dir_or_name;
  return "";
}

Result<ModelManifest> ParseModelManifest(const std::string& json_text, const std::string& name) {
  using R = Result<ModelManifest>;
  json root;
  try {
    root = json::parse(json_text, nullptr, /*allow_exceptions=*/true, /*ignore_comments=*/true);
  } catch (const json::parse_error& e) {
    std::string what = e.what();
    // Keep nlohmann's reason, drop its "[json.exception.parse_error.101] parse error at ..:" lead.
    if (const size_t colon = what.find(": "); colon != std::string::npos) what = what.substr(colon + 2);
    return R::Failure(name + ": malformed JSON at " + JsonErrorLocation(json_text, e.byte) + ": " +
                      what);
  }
  ModelManifest m;
  try {
    ObjectReader r(root, "");
    const std::string format = r.String("format");
    if (format != kFormat) {
      Fail("format: '" + format + "' is not \"" + kFormat + "\"");
    }
    const int version = r.Int("format_version");
    if (version != kFormatVersion) {
      Fail("format_version: " + std::to_string(version) + " is not supported (this build reads " +
           std::to_string(kFormatVersion) + ")");
    }
    m.kind = r.String("kind");
    if (m.kind == "gan") Fail("kind: 'gan' is reserved and not supported yet");
    if (m.kind != "encoder" && m.kind != "diffusion") {
      Fail("kind: unknown kind '" + m.kind + "' (expected encoder or diffusion)");
    }
    m.name = r.String("name");
    if (m.name.empty()) Fail("name: must not be empty");
    m.description = r.OptionalString("description", "");
    ParseInput(r, &m);
    if (m.kind == "encoder") {
      ObjectReader e(r.Get("encoder"), "encoder");
      m.encoder.output_dim = e.Int("output_dim");
      if (m.encoder.output_dim <= 0) {
        Fail("encoder.output_dim: must be > 0, got " + std::to_string(m.encoder.output_dim));
      }
      e.Finish();
      if (r.Has("diffusion")) Fail("diffusion: not allowed for kind \"encoder\"");
    } else {
      ParseDiffusion(r, &m);
      if (r.Has("encoder")) Fail("encoder: not allowed for kind \"diffusion\"");
    }
    ParseFiles(r, &m);
    if (const json* training = r.GetOptional("training")) {
      if (!training->is_object()) Fail(std::string("training: must be an object, got ") + TypeName(*training));
      m.training = training->dump();
    } else {
      m.training = "{}";
    }
    if (const json* architecture = r.GetOptional("architecture")) {
      if (!architecture->is_object()) {
        Fail(std::string("architecture: must be an object, got ") + TypeName(*architecture));
      }
      m.architecture = architecture->dump();
    } else {
      m.architecture = "{}";
    }
    r.Finish();
  } catch (const ManifestError& e) {
    return R::Failure(name + ": " + e.message);
  }
  return m;
}

Result<ModelManifest> ReadModelPackage(const std::string& dir_or_name,
                                       const std::string& expected_kind) {
  using R = Result<ModelManifest>;
  const std::string dir = ResolveModelPackage(dir_or_name, expected_kind);
  if (dir.empty()) {
    std::string where;
    for (const std::string& d : ModelSearchPath()) where += (where.empty() ? "" : ", ") + d;
    if (dir_or_name == "builtin" && expected_kind.empty()) {
      return R::Failure("'builtin' needs a model kind (encoder or diffusion)");
    }
    std::string shown = "'" + dir_or_name + "'";
    if (dir_or_name == "builtin") {
      shown += expected_kind == "encoder" ? " (fmnist-encoder)" : " (fmnist-diffusion)";
    }
    return R::Failure("model package " + shown + " not found (searched " + where +
                      " and the working directory; $SYNTHLENS_MODELS adds folders)");
  }
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return R::Failure(dir + ": not a model package folder (" +
                      (fs::exists(dir, ec) ? "not a directory" : "does not exist") + ")");
  }
  const std::string json_path = (fs::path(dir) / "model.json").string();
  if (!fs::exists(json_path, ec)) return R::Failure(json_path + ": missing (every model package has one)");
  auto text = ReadFileBytes(json_path);
  if (!text.ok()) return R::Failure(text.error());
  auto parsed = ParseModelManifest(*text, json_path);
  if (!parsed.ok()) return parsed;
  ModelManifest m = std::move(parsed).value();
  m.dir = dir;
  if (!expected_kind.empty() && m.kind != expected_kind) {
    return R::Failure(json_path + ": kind is '" + m.kind + "', expected '" + expected_kind + "'");
  }
  // Hash: SHA-256 over "model.json <sha>\n" then "<role> <sha>\n" per file in role order.
  std::string summary = "model.json " + Sha256Hex(*text) + "\n";
  for (const auto& [role, rel] : m.files) {
    const std::string path = m.FilePath(role);
    if (!fs::is_regular_file(path, ec)) {
      return R::Failure(path + ": missing (model.json files." + role + " names it)");
    }
    auto file_hash = Sha256File(path);
    if (!file_hash.ok()) return R::Failure(file_hash.error());
    summary += role + " " + *file_hash + "\n";
  }
  m.hash = Sha256Hex(summary);
  return m;
}

cv::Mat PreprocessImage(const cv::Mat& rgb, const ModelInput& input, bool normalize) {
  SL_CHECK(rgb.type() == CV_8UC3 && !rgb.empty(),
           "PreprocessImage needs a non-empty CV_8UC3 RGB image, got type " << rgb.type());
  SL_CHECK(input.resolution > 0 && (input.channels == 1 || input.channels == 3),
           "PreprocessImage: invalid input spec");
  cv::Mat pixels;
  if (input.channels == 1) {
    // PIL's convert("L"): ITU-R 601 luma in 16-bit fixed point, rounded to 8 bits.
    pixels.create(rgb.rows, rgb.cols, CV_8UC1);
    for (int y = 0; y < rgb.rows; ++y) {
      const uint8_t* src = rgb.ptr<uint8_t>(y);
      uint8_t* dst = pixels.ptr<uint8_t>(y);
      for (int x = 0; x < rgb.cols; ++x) {
        const uint32_t r = src[3 * x], g = src[3 * x + 1], b = src[3 * x + 2];
        dst[x] = static_cast<uint8_t>((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
      }
    }
  } else {
    pixels = rgb;
  }
  const int side = input.resolution;
  if (pixels.rows != side || pixels.cols != side) {
    // Pillow's definitions (antialiased when downscaling), as the PIL pipelines that trained
    // most encoders; cv::resize does not antialias and moves FID by several points.
    const auto filter = ParsePilFilter(input.resize);
    SL_CHECK(filter.has_value(), "PreprocessImage: unknown resize '" << input.resize << "'");
    pixels = ResizePil(pixels, side, side, *filter);
  }
  const double lo = input.value_range[0], hi = input.value_range[1];
  cv::Mat out;
  pixels.convertTo(out, CV_32F, (hi - lo) / 255.0, lo);
  if (normalize && !input.mean.empty()) {
    std::vector<cv::Mat> planes;
    cv::split(out, planes);
    for (size_t c = 0; c < planes.size(); ++c) {
      planes[c].convertTo(planes[c], CV_32F, 1.0 / input.std[c], -input.mean[c] / input.std[c]);
    }
    cv::merge(planes, out);
  }
  return out;
}

std::string DescribePreprocessing(const ModelInput& input, bool normalize) {
  std::ostringstream out;
  if (input.channels == 1) out << "grey ITU-R 601 (PIL convert('L') rounding), ";
  else out << "RGB, ";
  out << "resize " << input.resize << " (Pillow's definition) to " << input.resolution << "x"
      << input.resolution << " when the size differs, ";
  out << "range [" << input.value_range[0] << ", " << input.value_range[1] << "]";
  if (normalize && !input.mean.empty()) {
    out << ", mean [";
    for (size_t i = 0; i < input.mean.size(); ++i) out << (i ? ", " : "") << input.mean[i];
    out << "], std [";
    for (size_t i = 0; i < input.std.size(); ++i) out << (i ? ", " : "") << input.std[i];
    out << "]";
  }
  return out.str();
}

std::string PreprocessingJson(const ModelInput& input, bool normalize) {
  // nlohmann::json objects keep keys sorted and print doubles in shortest round-trip form, so the
  // same settings always give the same bytes: the string is a cache key, not just a record.
  json mean = json::array(), std = json::array();
  if (normalize) {
    for (double m : input.mean) mean.push_back(m);
    for (double s : input.std) std.push_back(s);
  }
  const json description = {
      {"version", 1},
      {"color", input.channels == 1 ? "grey-itu-r-601-pil" : "rgb"},
      {"channels", input.channels},
      {"resize",
       {{"filter", input.resize},
        {"definition", "pillow"},
        {"when", "size differs"},
        {"fit", "stretch"}}},
      {"size", {input.resolution, input.resolution}},
      {"value_range", {input.value_range[0], input.value_range[1]}},
      {"mean", mean},
      {"std", std},
      {"layout", "NCHW float32"}};
  return description.dump();
}

}  // namespace synthlens
