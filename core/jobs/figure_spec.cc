#include "core/jobs/figure_spec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <regex>
#include <vector>

namespace synthlens {
namespace {

using json = nlohmann::json;
using JR = Result<json>;

enum class Type { kString, kInt, kNumber, kBool, kStrings, kNumbers, kSpecs };

struct ParamDef {
  const char* key;
  Type type;
  json fallback;  // null: required
  const char* help = "";
};

const char* TypeName(Type t) {
  switch (t) {
    case Type::kString: return "a string";
    case Type::kInt: return "an integer";
    case Type::kNumber: return "a number";
    case Type::kBool: return "true or false";
    case Type::kStrings: return "a list of strings";
    case Type::kNumbers: return "a list of numbers";
    case Type::kSpecs: return "a list of figure specs";
  }
  return "?";
}

bool HasType(const json& v, Type t) {
  switch (t) {
    case Type::kString: return v.is_string();
    case Type::kInt: return v.is_number_integer();
    case Type::kNumber: return v.is_number();
    case Type::kBool: return v.is_boolean();
    case Type::kStrings:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_string(); });
    case Type::kNumbers:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_number(); });
    case Type::kSpecs:
      return v.is_array() && std::all_of(v.begin(), v.end(), [](const json& e) { return e.is_object(); });
  }
  return false;
}

const json kStrengths = json::array({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0});

const std::vector<ParamDef>& ParamsOf(const std::string& kind) {
  static const std::vector<ParamDef> comparison = {
      {"input", Type::kString, nullptr, "SRC of the source images"},
      {"ids", Type::kStrings, nullptr, "Image ids, comma-separated (one row each)"},
      {"recipe", Type::kString, "simclr", "Classic recipe: simclr, byol, mocov2 or a JSON file"},
      {"views", Type::kInt, 4, "Classic views per image (0-16)"},
      {"seed", Type::kInt, 0, "Seed of every view"},
      {"view_size", Type::kInt, 0, "Classic view size in px (0: the source size)"},
      {"crop_boxes", Type::kBool, true, "Draw the classic views' crop boxes on the original"},
      {"model", Type::kString, "builtin", "Diffusion package for generative views (none: classic only)"},
      {"mode", Type::kString, "img2img", "img2img, instance or multipositive"},
      {"strength", Type::kNumber, 0.5, "img2img strength"},
      {"steps", Type::kInt, 25, "Sampling steps at strength 1"},
      {"guidance", Type::kNumber, 3.0, "Classifier-free guidance weight"},
      {"generative_views", Type::kInt, -1, "Generative views per image (-1: as many as classic)"},
      {"generative_seed", Type::kInt, -1, "Seed of the generative views (-1: --seed)"},
      {"sweep", Type::kBool, false, "Add the img2img strength strip as a second panel"},
      {"sweep_strengths", Type::kNumbers, kStrengths, "Strengths of the strip, comma-separated"},
      {"captions", Type::kStrings, json::array({"index", "param"}), "Caption fields per view: index, param, seed, recipe (comma-separated; empty: none)"},
      {"row_labels", Type::kStrings, json::array({"id", "class"}), "Row label fields: id, class"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> embedding = {
      {"real", Type::kString, nullptr, "Real set: SRC or EMB.npy (+ EMB.ids.txt)"},
      {"synthetic", Type::kString, "", "Synthetic set: SRC or EMB.npy"},
      {"encoder", Type::kString, "builtin", "Encoder package for SRC inputs"},
      {"method", Type::kString, "pca", "pca, tsne or umap"},
      {"seed", Type::kInt, 0, "Projection seed"},
      {"colour", Type::kString, "kind", "Colour by kind or class"},
      {"limit", Type::kInt, -1, "First N real images (-1: all)"},
      {"synthetic_limit", Type::kInt, -1, "First N synthetic images (-1: all)"},
      {"arrows", Type::kBool, false, "Arrows from each source image to its views (a generated folder's manifest, --views-of)"},
      {"density_threshold", Type::kInt, 20000, "Above this many points, draw densities instead of markers"},
      {"views_of", Type::kString, "", "Id of an image whose classic and generative views are placed on the plot (as the studio shows them)"},
      {"views_input", Type::kString, "", "SRC holding --views-of (empty: the real set)"},
      {"recipe", Type::kString, "simclr", "Classic recipe of --views-of: simclr, byol, mocov2 or a JSON file"},
      {"views", Type::kInt, 4, "Classic views of --views-of (0-16)"},
      {"view_seed", Type::kInt, 0, "Seed of the views of --views-of"},
      {"view_size", Type::kInt, 0, "Classic view size in px (0: the source size)"},
      {"model", Type::kString, "builtin", "Diffusion package for the generative views of --views-of (none: classic only)"},
      {"mode", Type::kString, "img2img", "img2img, instance or multipositive"},
      {"strength", Type::kNumber, 0.5, "img2img strength"},
      {"steps", Type::kInt, 25, "Sampling steps at strength 1"},
      {"guidance", Type::kNumber, 3.0, "Classifier-free guidance weight"},
      {"generative_views", Type::kInt, -1, "Generative views of --views-of (-1: as many as classic)"},
      {"generative_seed", Type::kInt, -1, "Seed of the generative views (-1: --view-seed)"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> metrics = {
      {"real", Type::kString, nullptr, "Real set: SRC or EMB.npy"},
      {"synthetic", Type::kString, nullptr, "Synthetic set: SRC or EMB.npy"},
      {"encoder", Type::kString, "builtin", "Encoder package for SRC inputs"},
      {"limit", Type::kInt, -1, "First N real images (-1: all)"},
      {"synthetic_limit", Type::kInt, -1, "First N synthetic images (-1: all)"},
      {"bootstrap", Type::kInt, 0, "Half-sampling rounds for 95% intervals (0: none)"},
      {"seed", Type::kInt, 0, "Seed of KID subsets, C2ST folds, interval rounds"},
      {"per_class", Type::kBool, true, "Add the per-class table"},
      {"digits", Type::kInt, 3, "Significant digits"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> sweep = {
      {"input", Type::kString, nullptr, "SRC of the images"},
      {"model", Type::kString, "builtin", "Diffusion package"},
      {"encoder", Type::kString, "builtin", "Encoder package"},
      {"images", Type::kInt, 64, "Images, evenly spaced over SRC"},
      {"steps", Type::kInt, 25, "Sampling steps at strength 1"},
      {"guidance", Type::kNumber, 3.0, "Classifier-free guidance weight"},
      {"seed", Type::kInt, 0, "Seed"},
      {"strengths", Type::kNumbers, kStrengths, "Strengths, comma-separated"},
      {"metrics", Type::kStrings, json::array({"fid", "precision", "recall", "density", "coverage"}), "Metrics to plot, comma-separated"},
      {"bootstrap", Type::kInt, 0, "Half-sampling rounds for error bars (0: none)"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> detectors = {
      {"input", Type::kString, nullptr, "SRC of the images to check (e.g. generated views)"},
      {"reference", Type::kString, "", "SRC of the real set the thresholds are calibrated on (empty: the input)"},
      {"encoder", Type::kString, "builtin", "Encoder for the embedding detectors (none: pixel detectors only)"},
      {"limit", Type::kInt, -1, "First N input images (-1: all)"},
      {"reference_limit", Type::kInt, -1, "First N reference images (-1: all)"},
      {"detectors", Type::kStrings, json::array(), "Detectors to show (empty: the most flagged ones)"},
      {"max_detectors", Type::kInt, 4, "At most this many detectors when none are named"},
      {"top_k", Type::kInt, 6, "Highest-scoring images shown per detector"},
      {"thresholds", Type::kString, "", "Threshold overrides as synthlens detect takes them (blur=p95,...)"},
      {"spectrum", Type::kBool, true, "Add the spectrum of the most spectral image against the reference band"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> bias = {
      {"real", Type::kString, nullptr, "SRC of the real set"},
      {"synthetic", Type::kString, nullptr, "SRC of the synthetic set"},
      {"encoder", Type::kString, "builtin", "Encoder for the class probe and diversity (none: statistics only)"},
      {"real_limit", Type::kInt, -1, "First N real images (-1: all)"},
      {"synthetic_limit", Type::kInt, -1, "First N synthetic images (-1: all)"},
      {"statistics", Type::kStrings, json::array(), "Statistics whose histograms are shown (empty: the most shifted)"},
      {"max_statistics", Type::kInt, 4, "At most this many histograms when none are named"},
      {"bins", Type::kInt, 24, "Histogram bins"},
      {"device", Type::kString, "cpu", "cpu, cuda or cuda:N"},
  };
  static const std::vector<ParamDef> labels = {
      {"project", Type::kString, nullptr, "Project file holding the hand labels"},
      {"source", Type::kString, "", "Only labels of this SRC (empty: every source)"},
      {"examples", Type::kInt, 4, "Example images per category (0: counts only)"},
  };
  // The figure builder: panels of other figures in one figure (shared page, fonts, (a)/(b), caption).
  static const std::vector<ParamDef> combined = {
      {"panels", Type::kSpecs, nullptr, "Figure specs or figure files whose panels are combined (comma-separated files on the command line)"},
      {"columns", Type::kInt, 0, "Panels per row (0: two, one on narrow pages)"},
  };
  static const std::vector<ParamDef> none;
  if (kind == "combined") return combined;
  if (kind == "detectors") return detectors;
  if (kind == "bias") return bias;
  if (kind == "labels") return labels;
  if (kind == "comparison") return comparison;
  if (kind == "embedding") return embedding;
  if (kind == "metrics") return metrics;
  if (kind == "sweep") return sweep;
  return none;
}

const char* const kKinds[] = {"comparison", "embedding", "metrics", "sweep", "detectors", "bias", "labels", "combined", nullptr};
const char* const kPresets[] = {"slide-16x9", "slide-4x3", "paper-column", "paper-full", "poster",
                                nullptr};

bool InList(const char* const* list, const std::string& s) {
  for (; *list; ++list) {
    if (s == *list) return true;
  }
  return false;
}

std::string JoinList(const char* const* list) {
  std::string out;
  for (; *list; ++list) out += (out.empty() ? "" : ", ") + std::string(*list);
  return out;
}

// Empty when params[key] lies in [lo, hi], else the problem naming the parameter.
std::string CheckRange(const json& p, const char* key, double lo, double hi) {
  const double v = p[key].get<double>();
  if (!(v >= lo && v <= hi)) {
    return std::string("params.") + key + " must be in [" + json(lo).dump() + ", " + json(hi).dump() + "], got " +
           p[key].dump();
  }
  return "";
}

// The parameters of the views a figure makes (comparison rows, an embedding's view points).
std::string CheckViewParams(const json& p, const char* seed_key) {
  auto range = [&](const char* key, double lo, double hi) { return CheckRange(p, key, lo, hi); };
  std::string e;
  if (!(e = range("views", 0, 16)).empty()) return e;
  if (!(e = range("generative_views", -1, 16)).empty()) return e;
  if (!(e = range("view_size", 0, 1024)).empty()) return e;
  if (!(e = range("strength", 0, 1)).empty()) return e;
  if (!(e = range("steps", 1, 1000)).empty()) return e;
  if (!(e = range(seed_key, 0, 9.007e15)).empty()) return e;
  const std::string mode = p["mode"];
  if (mode != "img2img" && mode != "instance" && mode != "multipositive") {
    return "params.mode must be img2img, instance or multipositive, got '" + mode + "'";
  }
  return "";
}

// Checks the values a type check cannot: ranges and enumerations.
std::string CheckParams(const std::string& kind, const json& p) {
  auto range = [&](const char* key, double lo, double hi) { return CheckRange(p, key, lo, hi); };
  std::string e;
  if (kind == "comparison") {
    if (p["ids"].empty()) return "params.ids must name at least one image id";
    if (p["ids"].size() > 64) return "params.ids names " + std::to_string(p["ids"].size()) + " images; at most 64 fit a figure";
    if (!(e = CheckViewParams(p, "seed")).empty()) return e;
    for (const json& s : p["sweep_strengths"]) {
      if (!(s.get<double>() > 0 && s.get<double>() <= 1)) return "params.sweep_strengths must lie in (0, 1], got " + s.dump();
    }
    for (const json& c : p["captions"]) {
      const std::string v = c.get<std::string>();
      if (v != "index" && v != "param" && v != "seed" && v != "recipe") {
        return "params.captions: unknown caption field '" + v + "' (index, param, seed, recipe)";
      }
    }
    for (const json& c : p["row_labels"]) {
      const std::string v = c.get<std::string>();
      if (v != "id" && v != "class") return "params.row_labels: unknown field '" + v + "' (id, class)";
    }
  } else if (kind == "embedding") {
    if (!p["views_of"].get<std::string>().empty() && !(e = CheckViewParams(p, "view_seed")).empty()) return e;
    const std::string method = p["method"], colour = p["colour"];
    if (method != "pca" && method != "tsne" && method != "umap") {
      return "params.method must be pca, tsne or umap, got '" + method + "'";
    }
    if (colour != "kind" && colour != "class") return "params.colour must be kind or class, got '" + colour + "'";
    if (!(e = range("density_threshold", 1, 1e9)).empty()) return e;
  } else if (kind == "metrics") {
    if (!(e = range("bootstrap", 0, 10000)).empty()) return e;
    if (!(e = range("digits", 1, 8)).empty()) return e;
  } else if (kind == "sweep") {
    if (!(e = range("images", 2, 100000)).empty()) return e;
    if (!(e = range("steps", 1, 1000)).empty()) return e;
    if (!(e = range("bootstrap", 0, 10000)).empty()) return e;
    if (p["strengths"].empty()) return "params.strengths must list at least one strength";
    for (const json& s : p["strengths"]) {
      if (!(s.get<double>() > 0 && s.get<double>() <= 1)) return "params.strengths must lie in (0, 1], got " + s.dump();
    }
    static const char* const kMetrics[] = {"fid", "kid_mean", "precision", "recall", "density",
                                           "coverage", "vendi_synthetic", "authpct", "c2st_accuracy",
                                           nullptr};
    if (p["metrics"].empty()) return "params.metrics must list at least one metric";
    for (const json& m : p["metrics"]) {
      if (!InList(kMetrics, m.get<std::string>())) {
        return "params.metrics: unknown metric '" + m.get<std::string>() + "' (" + JoinList(kMetrics) + ")";
      }
    }
  } else if (kind == "detectors") {
    if (!(e = range("top_k", 1, 16)).empty()) return e;
    if (!(e = range("max_detectors", 1, 24)).empty()) return e;
  } else if (kind == "bias") {
    if (!(e = range("bins", 2, 200)).empty()) return e;
    if (!(e = range("max_statistics", 1, 24)).empty()) return e;
  } else if (kind == "labels") {
    if (!(e = range("examples", 0, 16)).empty()) return e;
  } else if (kind == "combined") {
    if (p["panels"].empty()) return "params.panels must hold at least one figure spec";
    if (p["panels"].size() > 26) return "params.panels holds " + std::to_string(p["panels"].size()) + " figures; at most 26";
    if (!(e = range("columns", 0, 6)).empty()) return e;
  }
  return "";
}

}  // namespace

const char* const* FigurePresetNames() { return kPresets; }

std::vector<FigureParamInfo> FigureParams(const std::string& kind) {
  static const char* const kTypeNames[] = {"string", "int", "number", "bool", "strings", "numbers", "specs"};
  std::vector<FigureParamInfo> out;
  for (const ParamDef& d : ParamsOf(kind)) out.push_back({d.key, kTypeNames[static_cast<int>(d.type)], d.fallback, d.help});
  return out;
}
const char* const* FigureKindNames() { return kKinds; }
bool IsFigureKind(const std::string& kind) { return InList(kKinds, kind); }

std::string FigureFormatOf(const std::string& path) {
  const size_t dot = path.rfind('.');
  const size_t slash = path.rfind('/');
  if (dot == std::string::npos || (slash != std::string::npos && dot < slash)) return "";
  std::string ext = path.substr(dot + 1);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == "pdf" || ext == "svg" || ext == "png" || ext == "csv" || ext == "tex") return ext;
  return "";
}

Result<FigurePage> ResolveFigurePage(const json& spec) {
  using R = Result<FigurePage>;
  FigurePage page;
  const std::string preset = spec.value("preset", std::string("paper-full"));
  const std::string size = spec.value("size", std::string());
  page.preset = preset;
  if (preset == "slide-16x9") {
    page.width_in = 13.333, page.height_in = 7.5, page.font_pt = 18, page.min_font_pt = 14;
  } else if (preset == "slide-4x3") {
    page.width_in = 10, page.height_in = 7.5, page.font_pt = 18, page.min_font_pt = 14;
  } else if (preset == "paper-column") {
    page.width_in = 3.25, page.height_in = 0, page.font_pt = 7.5, page.min_font_pt = 7;
  } else if (preset == "paper-full") {
    page.width_in = 6.75, page.height_in = 0, page.font_pt = 8, page.min_font_pt = 7;
  } else if (preset == "poster") {
    page.width_in = 16, page.height_in = 0, page.font_pt = 28, page.min_font_pt = 24;
  } else if (preset != "custom") {
    return R::Failure("preset: unknown preset '" + preset + "' (" + JoinList(kPresets) + ", or a size)");
  }
  if (spec.contains("dpi")) page.dpi = spec["dpi"].get<int>();
  if (!size.empty()) {
    // WIDTHxHEIGHTunit or WIDTHunit (height from the content).
    static const std::regex re(R"(^\s*([0-9]*\.?[0-9]+)\s*(?:[xX]\s*([0-9]*\.?[0-9]+))?\s*(mm|cm|in|px)\s*$)");
    std::smatch m;
    if (!std::regex_match(size, m, re)) {
      return R::Failure("size: '" + size + "' is not a size (e.g. 180x120mm, 6x4in, 1920x1080px, 89mm)");
    }
    const std::string unit = m[3];
    const double per_in = unit == "mm" ? 25.4 : unit == "cm" ? 2.54 : unit == "px" ? page.dpi : 1.0;
    page.width_in = std::stod(m[1]) / per_in;
    page.height_in = m[2].matched ? std::stod(m[2]) / per_in : 0;
    if (!(page.width_in >= 1.0 && page.width_in <= 60) || (m[2].matched && !(page.height_in >= 0.5 && page.height_in <= 60))) {
      return R::Failure("size: '" + size + "' is outside 1 x 0.5 in .. 60 x 60 in");
    }
    if (preset == "custom") {
      // Type scales with the width between a paper column and a wide slide.
      page.font_pt = std::clamp(page.width_in * 1.3, 7.5, 24.0);
      page.min_font_pt = page.width_in >= 9 ? 14 : 7;
    }
    page.preset = preset == "custom" ? "custom" : preset;
  } else if (preset == "custom") {
    return R::Failure("size: preset 'custom' needs a size (e.g. 180x120mm)");
  }
  if (spec.contains("font_pt") && spec["font_pt"].get<double>() > 0) {
    page.font_pt = std::max(spec["font_pt"].get<double>(), page.min_font_pt);
  }
  if (page.dpi < 36 || page.dpi > 2400) return R::Failure("dpi must be in [36, 2400], got " + std::to_string(page.dpi));
  const double px = page.width_in * page.dpi * std::max(page.height_in, page.width_in) * page.dpi;
  if (px > 400e6) return R::Failure("size x dpi gives " + std::to_string(static_cast<long long>(px)) + " pixels; at most 400 million");
  return page;
}

Result<json> ResolveFigureSpec(const json& in, const std::string& origin) {
  auto fail = [&](const std::string& what) { return JR::Failure(origin + ": " + what); };
  if (!in.is_object()) return fail("a figure spec is a JSON object");
  json spec = in;
  if (spec.contains("version")) {
    if (!spec["version"].is_number_integer()) return fail("version must be an integer");
    const int v = spec["version"].get<int>();
    if (v > kFigureSpecVersion) {
      return fail("figure spec version " + std::to_string(v) + " is newer than this build reads (" +
                  std::to_string(kFigureSpecVersion) + "); update SynthLens to reproduce it");
    }
    if (v < 1) return fail("version must be >= 1, got " + std::to_string(v));
  }
  spec["version"] = kFigureSpecVersion;
  if (!spec.contains("kind") || !spec["kind"].is_string()) return fail("kind is missing (" + JoinList(kKinds) + ")");
  const std::string kind = spec["kind"];
  if (!IsFigureKind(kind)) return fail("unknown figure kind '" + kind + "' (" + JoinList(kKinds) + ")");
  const std::vector<ParamDef> top = {
      {"preset", Type::kString, "paper-full"}, {"size", Type::kString, ""},
      {"theme", Type::kString, "light"},       {"dpi", Type::kInt, 300},
      {"font_pt", Type::kNumber, 0},           {"text", Type::kString, "text"},
      {"caption", Type::kString, ""},          {"panel_labels", Type::kBool, true},
  };
  for (const ParamDef& d : top) {
    if (!spec.contains(d.key) || spec[d.key].is_null()) {
      spec[d.key] = d.fallback;
    } else if (!HasType(spec[d.key], d.type)) {
      return fail(std::string(d.key) + " must be " + TypeName(d.type) + ", got " + spec[d.key].dump());
    }
  }
  const std::string theme = spec["theme"];
  if (theme != "light" && theme != "dark" && theme != "transparent") {
    return fail("theme must be light, dark or transparent, got '" + theme + "'");
  }
  if (spec["text"] != "text" && spec["text"] != "paths") {
    return fail("text must be text or paths, got " + spec["text"].dump());
  }
  auto page = ResolveFigurePage(spec);
  if (!page.ok()) return fail(page.error());
  if (!spec.contains("params")) spec["params"] = json::object();
  if (!spec["params"].is_object()) return fail("params must be an object");
  json& p = spec["params"];
  const auto& defs = ParamsOf(kind);
  for (const auto& [key, value] : p.items()) {
    if (std::none_of(defs.begin(), defs.end(), [&](const ParamDef& d) { return key == d.key; })) {
      return fail("params." + key + " is not a parameter of a " + kind + " figure");
    }
  }
  for (const ParamDef& d : defs) {
    if (!p.contains(d.key) || p[d.key].is_null()) {
      if (d.fallback.is_null()) return fail("params." + std::string(d.key) + " is required for a " + kind + " figure");
      p[d.key] = d.fallback;
    } else if (!HasType(p[d.key], d.type)) {
      return fail("params." + std::string(d.key) + " must be " + TypeName(d.type) + ", got " + p[d.key].dump());
    }
  }
  const std::string problem = CheckParams(kind, p);
  if (!problem.empty()) return fail(problem);
  if (kind == "combined") {
    // Each panel is a figure of its own kind; the page, fonts and theme are the combined one's.
    for (size_t i = 0; i < p["panels"].size(); ++i) {
      json& panel = p["panels"][i];
      if (panel.value("kind", std::string()) == "combined") return fail("params.panels[" + std::to_string(i) + "]: a combined figure cannot hold another");
      auto resolved = ResolveFigureSpec(panel, origin + ": params.panels[" + std::to_string(i) + "]");
      if (!resolved.ok()) return JR::Failure(resolved.error());
      panel = *resolved;
    }
  }
  return spec;
}

Result<json> ParseFigureSpec(const std::string& text, const std::string& origin) {
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return JR::Failure(origin + ": not valid JSON (a corrupted figure spec?)");
  return ResolveFigureSpec(parsed, origin);
}

}  // namespace synthlens
