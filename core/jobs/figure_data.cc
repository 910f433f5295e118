#include "core/jobs/figure_data.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <sstream>
#include <unordered_map>

#include "core/augment/augment.h"
#include "core/augment/recipe.h"
#include "core/infer/encoder.h"
#include "core/infer/generator.h"
#include "core/io/image_source.h"
#include "core/io/npy.h"
#include "core/jobs/figure_data_internal.h"
#include "core/jobs/sweep_job.h"
#include "core/metrics/set_metrics.h"
#include "core/projection/projection.h"
#include "core/util/logging.h"
#include "core/util/sha256.h"
#include "core/util/version.h"

namespace synthlens {

namespace figure_internal {

std::string Num(double v, int precision) {
  std::ostringstream s;
  s << std::setprecision(precision) << v;
  return s.str();
}

std::string ClassName(const std::vector<std::string>& names, int label) {
  if (label < 0) return "";
  if (label < static_cast<int>(names.size())) return names[label];
  return "class " + std::to_string(label);
}

}  // namespace figure_internal

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

using namespace figure_internal;

FigMarker MarkerOf(int i) {
  static const FigMarker kOrder[] = {FigMarker::kCircle,   FigMarker::kTriangle, FigMarker::kSquare,
                                     FigMarker::kDiamond,  FigMarker::kCross,    FigMarker::kPlus,
                                     FigMarker::kTriangleDown, FigMarker::kStar};
  return kOrder[static_cast<size_t>(std::max(i, 0)) % 8];
}

// A strength as people write it: 0.5, 1.0.
std::string Strength(double s) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(std::abs(s * 10 - std::round(s * 10)) < 1e-9 ? 1 : 2) << s;
  return out.str();
}


// An embedding set: a source run through an encoder, or a .npy (+ NAME.ids.txt) as `embed` wrote.
struct EmbeddedSet {
  cv::Mat matrix;
  std::vector<std::string> ids;
  std::vector<int> labels;
  std::vector<std::string> class_names;
  json provenance;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

class EncoderHolder {
 public:
  EncoderHolder(std::string package, std::string device) : package_(std::move(package)), device_(std::move(device)) {}
  Result<const Encoder*> Get() {
    using R = Result<const Encoder*>;
    if (encoder_) return encoder_.get();
    auto device = Device::Parse(device_);
    if (!device.ok()) return R::Failure("device: " + device.error());
    auto opened = Encoder::Open(package_, *device);
    if (!opened.ok()) return R::Failure(opened.error());
    encoder_ = std::move(opened).value();
    return encoder_.get();
  }

 private:
  std::string package_, device_;
  std::unique_ptr<Encoder> encoder_;
};

Result<EmbeddedSet> LoadEmbeddedSet(const std::string& spec, int64_t limit, EncoderHolder& encoders,
                                    const ProgressFn& progress) {
  using R = Result<EmbeddedSet>;
  EmbeddedSet set;
  if (EndsWith(spec, ".npy")) {
    auto m = ReadNpy(spec);
    if (!m.ok()) return R::Failure(m.error());
    m->convertTo(set.matrix, CV_32F);
    if (limit > 0 && set.matrix.rows > limit) set.matrix = set.matrix.rowRange(0, static_cast<int>(limit)).clone();
    const std::string ids_path = spec.substr(0, spec.size() - 4) + ".ids.txt";
    std::ifstream in(ids_path);
    std::string line;
    while (in && std::getline(in, line) && static_cast<int>(set.ids.size()) < set.matrix.rows) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const size_t tab = line.find('\t');
      set.ids.push_back(line.substr(0, tab));
      int label = -1;
      if (tab != std::string::npos) {
        try {
          label = std::stoi(line.substr(tab + 1));
        } catch (...) {
          label = -1;
        }
      }
      set.labels.push_back(label);
    }
    if (!set.ids.empty() && static_cast<int>(set.ids.size()) != set.matrix.rows) {
      return R::Failure(ids_path + ": " + std::to_string(set.ids.size()) + " ids for " +
                        std::to_string(set.matrix.rows) + " rows of " + spec);
    }
    if (set.ids.empty()) {
      for (int r = 0; r < set.matrix.rows; ++r) set.ids.push_back(std::to_string(r)), set.labels.push_back(-1);
    }
    auto bytes_hash = Sha256Hex(std::string(reinterpret_cast<const char*>(set.matrix.data),
                                            set.matrix.total() * set.matrix.elemSize()));
    set.provenance = {{"spec", spec}, {"rows", set.matrix.rows}, {"dim", set.matrix.cols}, {"sha256", bytes_hash}};
    return set;
  }
  SourceOptions options;
  options.limit = limit;
  auto source = OpenImageSource(spec, options);
  if (!source.ok()) return R::Failure(source.error());
  auto encoder = encoders.Get();
  if (!encoder.ok()) return R::Failure(encoder.error());
  int64_t skipped = 0;
  auto embedded = EmbedSource(**source, **encoder, progress, [&](const SourceIssue& issue) {
    ++skipped;
    SL_LOG_WARNING(issue.file << ": " << issue.reason << " (skipped)");
  });
  if (!embedded.ok()) return R::Failure(embedded.error());
  if (embedded->cancelled) return R::Failure("cancelled");
  set.matrix = embedded->matrix;
  set.ids = embedded->ids;
  set.labels = embedded->labels;
  set.class_names = (*source)->class_names();
  Sha256 listing;
  for (int64_t i = 0; i < (*source)->size(); ++i) {
    listing.Update((*source)->record(i).id);
    listing.Update("\n");
  }
  set.provenance = {{"spec", spec},
                    {"images", (*source)->size()},
                    {"skipped", skipped},
                    {"listing_sha256", listing.HexDigest()},
                    {"encoder", (*encoder)->manifest().name},
                    {"encoder_hash", (*encoder)->manifest().hash}};
  return set;
}


// ---------------------------------------------------------------- comparison

std::string ModeHeader(const std::string& mode, double strength) {
  if (mode == "img2img") return "img2img · s=" + Strength(strength);
  if (mode == "instance") return "instance-conditioned";
  return "multi-positive";
}

// Images of SRC picked by id, in the order given.
struct PickedImages {
  std::unique_ptr<ImageSource> source;
  std::vector<cv::Mat> images;
  std::vector<std::string> ids;
  std::vector<int> labels;
};

Result<PickedImages> PickImages(const std::string& input, const json& wanted) {
  using R = Result<PickedImages>;
  auto opened = OpenImageSource(input);
  if (!opened.ok()) return R::Failure(opened.error());
  PickedImages out;
  out.source = std::move(opened).value();
  const ImageSource& source = *out.source;
  std::unordered_map<std::string, int64_t> index_of;
  for (int64_t i = 0; i < source.size(); ++i) index_of.emplace(source.record(i).id, i);
  for (const json& id : wanted) {
    auto it = index_of.find(id.get<std::string>());
    if (it == index_of.end()) {
      return R::Failure(input + ": no image with id '" + id.get<std::string>() + "' (ids look like '" +
                        source.record(0).id + "')");
    }
    auto image = source.Load(it->second);
    if (!image.ok()) return R::Failure(image.error());
    out.images.push_back(*image);
    out.ids.push_back(source.record(it->second).id);
    out.labels.push_back(source.record(it->second).label);
  }
  return out;
}

// The classic and generative views of a figure (comparison rows, an embedding's view points),
// from the comparison's parameter names: recipe, views, view_size, model, mode, strength, steps,
// guidance, generative_views, generative_seed, device; the views' seed under `seed_key`. A
// non-empty `strengths` adds one img2img view per strength (the sweep strip).
struct FigureViews {
  Recipe recipe;
  int generative_count = 0;
  std::vector<std::vector<AugmentedView>> classic;
  std::vector<std::vector<GeneratedView>> generative, strip;
  json provenance;
};

Result<FigureViews> MakeFigureViews(const json& p, const std::string& seed_key, const std::vector<cv::Mat>& images,
                                    const std::vector<std::string>& ids, const std::vector<int>& labels,
                                    const std::vector<double>& strengths, const ProgressFn& progress) {
  using R = Result<FigureViews>;
  // A built-in name, a .json file, or the recipe itself as JSON text (the studio's edited knobs).
  const std::string recipe_text = p["recipe"];
  auto recipe = !recipe_text.empty() && recipe_text.front() == '{' ? ParseRecipe(recipe_text, "params.recipe")
                                                                   : LoadRecipe(recipe_text);
  if (!recipe.ok()) return R::Failure(recipe.error());
  FigureViews out;
  out.recipe = *recipe;
  const int k = p["views"];
  const uint64_t seed = p[seed_key].get<uint64_t>();
  const int view_size = p["view_size"];
  const std::string model = p["model"];
  const bool with_model = !model.empty() && model != "none";
  const int kg = with_model ? (p["generative_views"].get<int>() < 0 ? k : p["generative_views"].get<int>()) : 0;
  const bool sweep = with_model && !strengths.empty();
  out.generative_count = kg;
  out.provenance = {{"recipe", recipe->name}, {"recipe_sha256", Sha256Hex(RecipeToJson(*recipe))}};
  // Classic views: cheap, per image.
  for (size_t i = 0; i < images.size(); ++i) {
    out.classic.push_back(MakeViews(*recipe, images[i], ids[i], 0, k, seed, view_size));
    if (progress && !progress(0.05 * (i + 1) / images.size())) return R::Failure("cancelled");
  }
  out.generative.resize(images.size());
  out.strip.resize(images.size());
  if (kg <= 0 && !sweep) return out;
  auto device = Device::Parse(p["device"].get<std::string>());
  if (!device.ok()) return R::Failure("device: " + device.error());
  auto generator = Generator::Open(model, *device);
  if (!generator.ok()) return R::Failure(generator.error());
  out.provenance["model"] = (*generator)->manifest().name;
  out.provenance["model_hash"] = (*generator)->model_hash();
  GenerateOptions o;
  o.mode = p["mode"];
  o.strength = p["strength"];
  o.steps = p["steps"];
  o.guidance = p["guidance"];
  o.seed = p["generative_seed"].get<int64_t>() < 0 ? seed : p["generative_seed"].get<uint64_t>();
  const double sweep_share = sweep ? 0.5 : 0.0;
  if (kg > 0) {
    o.views = kg;
    auto views = (*generator)->Generate(images, ids, labels, o, SubRange(progress, 0.05, 1.0 - sweep_share));
    if (!views.ok()) return R::Failure(views.error());
    out.generative = std::move(views).value();
    for (const auto& v : out.generative) {
      if (static_cast<int>(v.size()) < kg) return R::Failure("cancelled");
    }
  }
  if (sweep) {
    o.mode = "img2img";
    o.views = 1;
    for (size_t s = 0; s < strengths.size(); ++s) {
      o.strength = strengths[s];
      const double lo = 0.5 + 0.5 * s / strengths.size(), hi = 0.5 + 0.5 * (s + 1) / strengths.size();
      auto views = (*generator)->Generate(images, ids, labels, o, SubRange(progress, lo, hi));
      if (!views.ok()) return R::Failure(views.error());
      for (size_t i = 0; i < images.size(); ++i) {
        if ((*views)[i].empty()) return R::Failure("cancelled");
        out.strip[i].push_back((*views)[i][0]);
      }
    }
  }
  return out;
}


Result<FigureData> BuildComparison(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  const std::string input = p["input"];
  auto picked = PickImages(input, p["ids"]);
  if (!picked.ok()) return R::Failure(picked.error());
  const ImageSource& source = *picked->source;
  const std::vector<cv::Mat>& images = picked->images;
  const std::vector<std::string>& ids = picked->ids;
  const std::vector<int>& labels = picked->labels;
  const int k = p["views"];
  const uint64_t seed = p["seed"].get<uint64_t>();
  std::vector<std::string> captions = p["captions"];
  auto has_caption = [&](const char* c) { return std::find(captions.begin(), captions.end(), c) != captions.end(); };
  std::vector<double> strengths = p["sweep_strengths"];
  auto made = MakeFigureViews(p, "seed", images, ids, labels, p["sweep"].get<bool>() ? strengths : std::vector<double>{},
                              progress);
  if (!made.ok()) return R::Failure(made.error());
  const Recipe* recipe = &made->recipe;
  const int kg = made->generative_count;
  const bool sweep = !made->strip.empty() && !made->strip[0].empty();
  const auto& classic = made->classic;
  const auto& generative = made->generative;
  const auto& strip = made->strip;

  FigureData data;
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"source", input}};
  data.provenance.update(made->provenance);
  json data_rows = json::array();

  ImageGridPanel grid;
  grid.headers.push_back({"original", 1});
  if (k > 0) grid.headers.push_back({"classic · " + recipe->name, k});
  if (kg > 0) grid.headers.push_back({ModeHeader(p["mode"], p["strength"]), kg});
  ImageGridPanel strip_grid;
  if (sweep) strip_grid.headers.push_back({"original", 1});
  const uint64_t generative_seed = p["generative_seed"].get<int64_t>() < 0 ? seed : p["generative_seed"].get<uint64_t>();
  if (sweep) strip_grid.headers.push_back({"img2img at strength s · seed " + std::to_string(generative_seed), static_cast<int>(strengths.size())});
  std::vector<std::string> row_fields = p["row_labels"];
  for (size_t i = 0; i < images.size(); ++i) {
    std::string row_label;
    for (const std::string& f : row_fields) {
      const std::string text = f == "id" ? ids[i] : ClassName(source.class_names(), labels[i]);
      if (text.empty()) continue;
      row_label += (row_label.empty() ? "" : "\n") + text;
    }
    grid.row_labels.push_back(row_label);
    std::vector<FigTile> tiles;
    FigTile original;
    original.image = images[i];
    json row_json = {{"id", ids[i]}, {"label", labels[i]}, {"class", ClassName(source.class_names(), labels[i])}};
    json classic_json = json::array(), generative_json = json::array(), strip_json = json::array();
    for (int v = 0; v < k; ++v) {
      const AugmentedView& view = classic[i][v];
      FigTile t;
      t.image = view.image;
      t.frame_colour = 200 + v;
      std::string caption;
      if (has_caption("index")) caption += "v" + std::to_string(v);
      if (has_caption("param") && view.crop) {
        const double scale = view.crop->w * view.crop->h / (double(images[i].cols) * images[i].rows);
        caption += (caption.empty() ? "" : " · ") + std::string("scale ") + Num(scale, 2);
      }
      if (has_caption("recipe")) caption += (caption.empty() ? "" : " · ") + recipe->name;
      if (has_caption("seed")) caption += (caption.empty() ? "" : " · ") + std::string("seed ") + std::to_string(seed);
      t.caption = caption;
      if (view.crop && p["crop_boxes"].get<bool>()) {
        original.boxes.push_back({view.crop->x, view.crop->y, view.crop->w, view.crop->h, 200 + v, std::to_string(v), ""});
      }
      tiles.push_back(std::move(t));
      classic_json.push_back({{"view", v}, {"caption", caption}, {"params", json::parse(view.params_json, nullptr, false)}});
    }
    for (int v = 0; v < kg; ++v) {
      const GeneratedView& view = generative[i][v];
      const json params = json::parse(view.params_json, nullptr, false);
      FigTile t;
      t.image = view.image;
      std::string caption;
      if (has_caption("index")) caption += "g" + std::to_string(v);
      if (has_caption("param")) {
        std::string param = p["mode"] == "img2img" ? "s=" + Strength(p["strength"].get<double>())
                                                   : (params.contains("class") ? "class " + params["class"].dump() : "");
        if (!param.empty()) caption += (caption.empty() ? "" : " · ") + param;
      }
      if (has_caption("seed") && params.contains("view_seed")) {
        caption += (caption.empty() ? "" : " · ") + std::string("seed ") + params["view_seed"].dump();
      }
      t.caption = caption;
      tiles.push_back(std::move(t));
      generative_json.push_back({{"view", v}, {"caption", caption}, {"params", params}});
    }
    tiles.insert(tiles.begin(), original);
    grid.rows.push_back(std::move(tiles));
    if (sweep) {
      std::vector<FigTile> strip_tiles;
      FigTile plain;
      plain.image = images[i];
      strip_tiles.push_back(plain);
      for (size_t s = 0; s < strip[i].size(); ++s) {
        FigTile t;
        t.image = strip[i][s].image;
        t.caption = "s=" + Strength(strengths[s]);
        strip_tiles.push_back(std::move(t));
        strip_json.push_back({{"strength", strengths[s]}, {"params", json::parse(strip[i][s].params_json, nullptr, false)}});
      }
      strip_grid.row_labels.push_back(row_label);
      strip_grid.rows.push_back(std::move(strip_tiles));
    }
    row_json["classic"] = classic_json;
    row_json["generative"] = generative_json;
    if (sweep) row_json["sweep"] = strip_json;
    data_rows.push_back(row_json);
  }
  data.panels.push_back({kg > 0 ? "Classic and generative views" : "Classic views", grid});
  if (sweep) data.panels.push_back({"img2img strength sweep", strip_grid});
  data.data = {{"rows", data_rows}};
  return data;
}

// ---------------------------------------------------------------- embedding

// source id -> synthetic rows, from a generated folder's manifest.jsonl ("file" -> "source").
std::map<std::string, std::string> ManifestSources(const std::string& folder) {
  std::map<std::string, std::string> file_to_source;
  std::ifstream in(fs::path(folder) / "manifest.jsonl");
  std::string line;
  while (in && std::getline(in, line)) {
    json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("file") || !j.contains("source")) continue;
    if (!j["file"].is_string() || !j["source"].is_string()) continue;
    file_to_source[j["file"].get<std::string>()] = j["source"].get<std::string>();
  }
  return file_to_source;
}

// Generated views carry no label of their own: give each the label of its source image (the
// folder's manifest.jsonl names it) when the real set holds that source.
void InheritSourceLabels(const std::string& synthetic_spec, const EmbeddedSet& real, EmbeddedSet& synth) {
  if (!fs::is_directory(synthetic_spec)) return;
  if (std::any_of(synth.labels.begin(), synth.labels.end(), [](int l) { return l >= 0; })) return;
  const auto sources = ManifestSources(synthetic_spec);
  std::unordered_map<std::string, int> label_of;
  for (size_t i = 0; i < real.ids.size(); ++i) label_of.emplace(real.ids[i], real.labels[i]);
  for (size_t j = 0; j < synth.ids.size(); ++j) {
    auto s = sources.find(synth.ids[j]);
    if (s == sources.end()) continue;
    auto l = label_of.find(s->second);
    if (l != label_of.end()) synth.labels[j] = l->second;
  }
  if (synth.class_names.empty()) synth.class_names = real.class_names;
}

Result<FigureData> BuildEmbedding(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  EncoderHolder encoders(p["encoder"], p["device"]);
  const std::string synthetic_spec = p["synthetic"];
  const bool with_synthetic = !synthetic_spec.empty();
  auto real = LoadEmbeddedSet(p["real"], p["limit"], encoders, SubRange(progress, 0, with_synthetic ? 0.35 : 0.7));
  if (!real.ok()) return R::Failure(real.error());
  EmbeddedSet synth;
  if (with_synthetic) {
    auto s = LoadEmbeddedSet(synthetic_spec, p["synthetic_limit"], encoders, SubRange(progress, 0.35, 0.7));
    if (!s.ok()) return R::Failure(s.error());
    synth = std::move(s).value();
    InheritSourceLabels(synthetic_spec, *real, synth);
    if (synth.matrix.cols != real->matrix.cols) {
      return R::Failure(synthetic_spec + ": embeddings have " + std::to_string(synth.matrix.cols) +
                        " dimensions, the real set's " + std::to_string(real->matrix.cols));
    }
  }
  // One image's classic and generative views, embedded with the same encoder (the studio's view points).
  const std::string views_of = p["views_of"];
  FigureViews views;
  std::vector<int> view_kinds;  // 2: classic, 3: generative (the kind colours)
  cv::Mat view_matrix;
  int source_row = -1;  // the views' source among the real rows
  std::string views_input = p["views_input"];
  if (!views_of.empty()) {
    if (views_input.empty()) views_input = p["real"].get<std::string>();
    if (EndsWith(views_input, ".npy")) {
      return R::Failure("params.views_of needs the images: set views_input to the SRC that holds '" + views_of + "'");
    }
    auto picked = PickImages(views_input, json::array({views_of}));
    if (!picked.ok()) return R::Failure(picked.error());
    auto made = MakeFigureViews(p, "view_seed", picked->images, picked->ids, picked->labels, {}, SubRange(progress, 0.7, 0.8));
    if (!made.ok()) return R::Failure(made.error());
    views = std::move(made).value();
    std::vector<cv::Mat> images;
    for (const AugmentedView& v : views.classic[0]) images.push_back(v.image), view_kinds.push_back(2);
    for (const GeneratedView& v : views.generative[0]) images.push_back(v.image), view_kinds.push_back(3);
    if (!images.empty()) {
      auto encoder = encoders.Get();
      if (!encoder.ok()) return R::Failure(encoder.error());
      auto embedded = (*encoder)->Embed(images);
      if (!embedded.ok()) return R::Failure(embedded.error());
      view_matrix = std::move(embedded).value();
      if (view_matrix.cols != real->matrix.cols) {
        return R::Failure(views_input + ": the views' embeddings have " + std::to_string(view_matrix.cols) +
                          " dimensions, the real set's " + std::to_string(real->matrix.cols) +
                          " (embed the real set with params.encoder)");
      }
    }
    const auto at = std::find(real->ids.begin(), real->ids.end(), views_of);
    if (at != real->ids.end()) source_row = static_cast<int>(at - real->ids.begin());
  }
  ProjectionOptions po;
  po.method = *ParseProjectionMethod(p["method"]);
  po.seed = p["seed"].get<uint64_t>();
  // As the studio: PCA fitted on the real set, the rest placed with its components.
  auto projected = ProjectSets(real->matrix, synth.matrix, view_matrix, po, SubRange(progress, 0.8, 1.0));
  if (!projected.ok()) return R::Failure(projected.error());
  cv::Mat xy = projected->real.clone();
  if (with_synthetic) cv::vconcat(xy, projected->synthetic, xy);
  const int n_real = real->matrix.rows;
  ScatterPanel scatter;
  const std::string method = p["method"];
  const std::string axis = method == "pca" ? "PC" : method == "tsne" ? "t-SNE" : "UMAP";
  scatter.x_label = axis + " 1";
  scatter.y_label = axis + " 2";
  scatter.density_threshold = p["density_threshold"];
  bool any_label = false;
  for (int l : real->labels) any_label |= l >= 0;
  for (int l : synth.labels) any_label |= l >= 0;
  const bool by_class = p["colour"] == "class" && any_label;
  if (p["colour"] == "class" && !any_label) {
    SL_LOG_WARNING("figure embedding: no labels known (no EMB.ids.txt with labels, or an unlabelled source); colouring by kind");
  }
  const std::vector<std::string>& names = !real->class_names.empty() ? real->class_names : synth.class_names;
  json points = json::array();
  if (!by_class) {
    FigSeries r{"real", kRealColour, FigMarker::kCircle, {}, {}, true, true};
    FigSeries s{"synthetic", kSyntheticColour, FigMarker::kTriangle, {}, {}, true, true};
    for (int i = 0; i < xy.rows; ++i) {
      FigSeries& target = i < n_real ? r : s;
      target.x.push_back(xy.at<float>(i, 0));
      target.y.push_back(xy.at<float>(i, 1));
    }
    scatter.series.push_back(std::move(r));
    if (with_synthetic) scatter.series.push_back(std::move(s));
  } else {
    std::map<std::pair<int, int>, size_t> series_of;  // (kind, label) -> series
    for (int i = 0; i < xy.rows; ++i) {
      const bool is_real = i < n_real;
      const int label = is_real ? real->labels[i] : synth.labels[i - n_real];
      auto key = std::make_pair(is_real ? 0 : 1, label);
      auto it = series_of.find(key);
      if (it == series_of.end()) {
        FigSeries s;
        const std::string cls = label < 0 ? "unlabelled" : ClassName(names, label);
        s.name = with_synthetic ? cls + (is_real ? " · real" : " · synthetic") : cls;
        s.colour = label < 0 ? 9 : ClassColour(label);
        s.marker = is_real ? FigMarker::kCircle : FigMarker::kTriangle;
        s.in_legend = false;  // the legend lists classes by colour and kinds by shape
        it = series_of.emplace(key, scatter.series.size()).first;
        scatter.series.push_back(std::move(s));
      }
      scatter.series[it->second].x.push_back(xy.at<float>(i, 0));
      scatter.series[it->second].y.push_back(xy.at<float>(i, 1));
    }
    // Stable legend order: real classes first, by label.
    std::vector<std::pair<std::pair<int, int>, size_t>> order(series_of.begin(), series_of.end());
    std::vector<FigSeries> sorted;
    std::vector<int> legend_labels;
    for (const auto& [key, index] : order) {
      if (std::find(legend_labels.begin(), legend_labels.end(), key.second) == legend_labels.end()) legend_labels.push_back(key.second);
      sorted.push_back(std::move(scatter.series[index]));
    }
    std::sort(legend_labels.begin(), legend_labels.end());
    for (int label : legend_labels) {
      sorted.push_back({label < 0 ? "unlabelled" : ClassName(names, label), label < 0 ? 9 : ClassColour(label),
                        FigMarker::kSquare, {}, {}, false, true});
    }
    if (with_synthetic) {
      sorted.push_back({"real", 7, FigMarker::kCircle, {}, {}, false, true});
      sorted.push_back({"synthetic", 7, FigMarker::kTriangle, {}, {}, false, true});
    }
    scatter.series = std::move(sorted);
  }
  // The views: always markers (never density), classic as squares, generative as diamonds; in
  // class colouring they take their source's class colour, as in the studio.
  const cv::Mat& vxy = projected->extra;
  if (vxy.rows > 0) {
    const int source_label = views_of.empty() ? -1 : (source_row >= 0 ? real->labels[source_row] : -1);
    const std::vector<std::string> kind_names = {"", "", "classic views", "generative views"};
    for (int kind : {2, 3}) {
      FigSeries s;
      s.name = kind_names[kind];
      s.colour = by_class ? (source_label < 0 ? 9 : ClassColour(source_label)) : kind;
      s.marker = kind == 2 ? FigMarker::kSquare : FigMarker::kDiamond;
      s.bulk = false;
      s.in_legend = !by_class;
      for (int i = 0; i < vxy.rows; ++i) {
        if (view_kinds[i] != kind) continue;
        s.x.push_back(vxy.at<float>(i, 0));
        s.y.push_back(vxy.at<float>(i, 1));
      }
      if (s.x.empty()) continue;
      scatter.series.push_back(s);
      if (by_class) scatter.series.push_back({s.name, 7, s.marker, {}, {}, false, true});  // legend: the shape
    }
  }
  if (source_row >= 0) {
    scatter.series.push_back({views_of, 8, FigMarker::kStar, {xy.at<float>(source_row, 0)}, {xy.at<float>(source_row, 1)},
                              false, true});
    if (p["arrows"].get<bool>()) {
      for (int i = 0; i < vxy.rows; ++i) {
        scatter.arrows.push_back({xy.at<float>(source_row, 0), xy.at<float>(source_row, 1), vxy.at<float>(i, 0),
                                  vxy.at<float>(i, 1), view_kinds[i]});
      }
    }
  }
  if (p["arrows"].get<bool>() && with_synthetic && fs::is_directory(synthetic_spec)) {
    const auto sources = ManifestSources(synthetic_spec);
    std::unordered_map<std::string, int> real_row;
    for (int i = 0; i < n_real; ++i) real_row.emplace(real->ids[i], i);
    for (int j = 0; j < synth.matrix.rows; ++j) {
      auto s = sources.find(synth.ids[j]);
      if (s == sources.end()) continue;
      auto r = real_row.find(s->second);
      if (r == real_row.end()) continue;
      scatter.arrows.push_back({xy.at<float>(r->second, 0), xy.at<float>(r->second, 1),
                                xy.at<float>(n_real + j, 0), xy.at<float>(n_real + j, 1), kSyntheticColour});
    }
  }
  for (int i = 0; i < xy.rows; ++i) {
    const bool is_real = i < n_real;
    const int row = is_real ? i : i - n_real;
    points.push_back({{"set", is_real ? "real" : "synthetic"},
                      {"id", is_real ? real->ids[row] : synth.ids[row]},
                      {"label", is_real ? real->labels[row] : synth.labels[row]},
                      {"x", xy.at<float>(i, 0)},
                      {"y", xy.at<float>(i, 1)}});
  }
  for (int i = 0; i < vxy.rows; ++i) {
    points.push_back({{"set", view_kinds[i] == 2 ? "classic view" : "generative view"},
                      {"id", views_of},
                      {"view", view_kinds[i] == 2 ? i : i - static_cast<int>(views.classic[0].size())},
                      {"x", vxy.at<float>(i, 0)},
                      {"y", vxy.at<float>(i, 1)}});
  }
  FigureData data;
  data.panels.push_back({"", scatter});
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"real", real->provenance},
                     {"projection", json::parse(projected->settings, nullptr, false)}};
  // Wall time is a measurement, not provenance: the same spec must give the same bytes.
  if (data.provenance["projection"].is_object()) data.provenance["projection"].erase("seconds");
  if (with_synthetic) data.provenance["synthetic"] = synth.provenance;
  if (!views_of.empty()) {
    json v = {{"source", views_input}, {"id", views_of}};
    v.update(views.provenance);
    data.provenance["views"] = v;
  }
  data.data = {{"points", points}};
  return data;
}

// ---------------------------------------------------------------- metrics

struct MetricRow {
  const char* key;
  const char* name;
  const char* better;
};
const MetricRow kMetricRows[] = {
    {"fid", "FID", "lower"},
    {"kid_mean", "KID", "lower"},
    {"precision", "Precision", "higher"},
    {"recall", "Recall", "higher"},
    {"density", "Density", "higher"},
    {"coverage", "Coverage", "higher"},
    {"vendi_real", "Vendi (real)", ""},
    {"vendi_synthetic", "Vendi (synthetic)", "higher"},
    {"authpct", "AuthPct", "higher"},
    {"copy_fraction_cos0.5", "Copies (cos >= 0.5)", "lower"},
    {"c2st_accuracy", "C2ST accuracy", "0.5"},
};

std::string CsvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

std::string TexEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': case '%': case '$': case '#': case '_': case '{': case '}': out += '\\'; out += c; break;
      case '~': out += "\\textasciitilde{}"; break;
      case '^': out += "\\textasciicircum{}"; break;
      case '\\': out += "\\textbackslash{}"; break;
      default: out += c;
    }
  }
  // The UTF-8 middle dot and the >= sign, as LaTeX.
  for (auto [from, to] : {std::pair<std::string, std::string>{"\xC2\xB7", "$\\cdot$"}, {"\xE2\x89\xA5", "$\\geq$"},
                          {">=", "$\\geq$"}}) {
    for (size_t at = out.find(from); at != std::string::npos; at = out.find(from, at + to.size())) out.replace(at, from.size(), to);
  }
  return out;
}

void AppendTable(const TablePanel& t, const std::string& title, std::string& csv, std::string& tex) {
  if (!csv.empty()) csv += "\n";
  for (size_t c = 0; c < t.header.size(); ++c) csv += (c ? "," : "") + CsvField(t.header[c]);
  csv += "\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) csv += (c ? "," : "") + CsvField(row[c]);
    csv += "\n";
  }
  std::string align;
  for (size_t c = 0; c < t.header.size(); ++c) align += c < t.numeric.size() && t.numeric[c] ? "r" : "l";
  tex += "% " + title + " (synthlens figure metrics; needs \\usepackage{booktabs})\n";
  tex += "\\begin{tabular}{" + align + "}\n\\toprule\n";
  for (size_t c = 0; c < t.header.size(); ++c) tex += (c ? " & " : "") + TexEscape(t.header[c]);
  tex += " \\\\\n\\midrule\n";
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size(); ++c) tex += (c ? " & " : "") + TexEscape(row[c]);
    tex += " \\\\\n";
  }
  tex += "\\bottomrule\n\\end{tabular}\n";
  if (!t.note.empty()) tex += "% " + t.note + "\n";
}

Result<FigureData> BuildMetrics(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  EncoderHolder encoders(p["encoder"], p["device"]);
  auto real = LoadEmbeddedSet(p["real"], p["limit"], encoders, SubRange(progress, 0, 0.3));
  if (!real.ok()) return R::Failure(real.error());
  auto synth = LoadEmbeddedSet(p["synthetic"], p["synthetic_limit"], encoders, SubRange(progress, 0.3, 0.6));
  if (!synth.ok()) return R::Failure(synth.error());
  InheritSourceLabels(p["synthetic"], *real, *synth);
  if (synth->matrix.cols != real->matrix.cols) {
    return R::Failure(p["synthetic"].get<std::string>() + ": embeddings have " + std::to_string(synth->matrix.cols) +
                      " dimensions, the real set's " + std::to_string(real->matrix.cols));
  }
  SetMetricsOptions options;
  options.bootstrap = p["bootstrap"];
  options.seed = p["seed"].get<uint64_t>();
  options.per_class = p["per_class"];
  auto metrics = CompareSetsJson(real->matrix, synth->matrix, options, real->labels, synth->labels,
                                 SubRange(progress, 0.6, 1.0));
  if (!metrics.ok()) return R::Failure(metrics.error());
  const json m = json::parse(*metrics);
  const int digits = p["digits"];
  const bool intervals = m.contains("intervals");
  TablePanel table;
  table.header = {"Metric", "Value"};
  if (intervals) table.header.push_back(std::to_string(static_cast<int>(std::lround(options.confidence * 100))) + "% interval");
  table.header.push_back("Better");
  table.numeric = {false, true};
  if (intervals) table.numeric.push_back(true);
  table.numeric.push_back(false);
  for (const MetricRow& row : kMetricRows) {
    if (!m.contains(row.key)) continue;
    std::vector<std::string> cells = {row.name, FormatMetric(m[row.key].get<double>(), digits)};
    if (intervals) {
      cells.push_back(m["intervals"].contains(row.key)
                          ? "[" + FormatMetric(m["intervals"][row.key][0].get<double>(), digits) + ", " +
                                FormatMetric(m["intervals"][row.key][1].get<double>(), digits) + "]"
                          : "");
    }
    cells.push_back(std::string(row.better) == "0.5" ? "near 0.5" : row.better);
    table.rows.push_back(cells);
  }
  const json& s = m["settings"];
  table.note = "real " + s["n_real"].dump() + " x " + s["dim"].dump() + ", synthetic " + s["n_synthetic"].dump() +
               " x " + s["dim"].dump() + " · encoder " + real->provenance.value("encoder", std::string("(given embeddings)")) +
               " · seed " + std::to_string(options.seed);
  FigureData data;
  data.panels.push_back({"Real vs synthetic", table});
  AppendTable(table, "Real vs synthetic", data.csv, data.latex);
  if (m.contains("per_class") && !m["per_class"].empty()) {
    TablePanel pc;
    pc.header = {"Class", "n real", "n synth", "FID", "Precision", "Recall", "Density", "Coverage"};
    pc.numeric = {false, true, true, true, true, true, true, true};
    const std::vector<std::string>& names = !real->class_names.empty() ? real->class_names : synth->class_names;
    for (const auto& [cls, e] : m["per_class"].items()) {
      std::vector<std::string> cells = {ClassName(names, std::stoi(cls)), e["n_real"].dump(), e["n_synthetic"].dump()};
      for (const char* key : {"fid", "precision", "recall", "density", "coverage"}) {
        cells.push_back(e.contains(key) ? FormatMetric(e[key].get<double>(), digits) : "-");
      }
      pc.rows.push_back(cells);
    }
    data.panels.push_back({"Per class", pc});
    AppendTable(pc, "Per class", data.csv, data.latex);
  }
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"real", real->provenance}, {"synthetic", synth->provenance},
                     {"metrics_settings", m["settings"]}};
  data.data = m;
  return data;
}

// ---------------------------------------------------------------- sweep

Result<FigureData> BuildSweep(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  const std::string input = p["input"];
  auto opened = OpenImageSource(input);
  if (!opened.ok()) return R::Failure(opened.error());
  const ImageSource& source = **opened;
  const int64_t n = std::min<int64_t>(p["images"].get<int64_t>(), source.size());
  std::vector<cv::Mat> images;
  std::vector<std::string> ids;
  std::vector<int> labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t row = i * source.size() / n;  // evenly spaced over the source
    auto image = source.Load(row);
    if (!image.ok()) {
      SL_LOG_WARNING(image.error() << " (skipped)");
      continue;
    }
    images.push_back(*image);
    ids.push_back(source.record(row).id);
    labels.push_back(source.record(row).label);
  }
  auto device = Device::Parse(p["device"].get<std::string>());
  if (!device.ok()) return R::Failure("device: " + device.error());
  auto generator = Generator::Open(p["model"], *device);
  if (!generator.ok()) return R::Failure(generator.error());
  EncoderHolder encoders(p["encoder"], p["device"]);
  auto encoder = encoders.Get();
  if (!encoder.ok()) return R::Failure(encoder.error());
  SweepOptions options;
  options.strengths = p["strengths"].get<std::vector<double>>();
  options.steps = p["steps"];
  options.guidance = p["guidance"];
  options.seed = p["seed"].get<uint64_t>();
  options.bootstrap = p["bootstrap"];
  auto points = RunStrengthSweep(**generator, **encoder, images, ids, labels, options, progress);
  if (!points.ok()) return R::Failure(points.error());
  std::vector<std::string> metrics = p["metrics"];
  json per_strength = json::array();
  std::vector<json> parsed;
  for (const SweepPoint& pt : *points) {
    parsed.push_back(json::parse(pt.metrics_json));
    per_strength.push_back({{"strength", pt.strength}, {"metrics", parsed.back()}});
  }
  auto curve_of = [&](const std::string& key, int index) {
    FigCurve c;
    c.name = key;
    for (const MetricRow& row : kMetricRows) {
      if (key == row.key) c.name = row.name;
    }
    c.colour = index;
    c.marker = MarkerOf(index);
    const bool with_intervals = !parsed.empty() && parsed[0].contains("intervals") && parsed[0]["intervals"].contains(key);
    for (size_t i = 0; i < points->size(); ++i) {
      c.x.push_back((*points)[i].strength);
      c.y.push_back(parsed[i][key].get<double>());
      if (with_intervals) {
        c.lo.push_back(parsed[i]["intervals"][key][0].get<double>());
        c.hi.push_back(parsed[i]["intervals"][key][1].get<double>());
      }
    }
    return c;
  };
  FigureData data;
  // Distances (FID, KID) have their own scale; rates in [0, 1+] share a panel.
  CurvePanel distances, rates;
  distances.x_label = rates.x_label = "img2img strength";
  int index = 0;
  for (const std::string& key : metrics) {
    const bool distance = key == "fid" || key == "kid_mean";
    (distance ? distances : rates).curves.push_back(curve_of(key, index++));
  }
  if (!distances.curves.empty()) {
    distances.y_label = distances.curves.size() == 1 ? distances.curves[0].name : "distance";
    data.panels.push_back({"Distance to the source images", distances});
  }
  if (!rates.curves.empty()) {
    rates.y_label = rates.curves.size() == 1 ? rates.curves[0].name : "value";
    data.panels.push_back({"Fidelity and diversity", rates});
  }
  data.columns = static_cast<int>(data.panels.size());
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION},
                     {"source", input},
                     {"images", images.size()},
                     {"model", (*generator)->manifest().name},
                     {"model_hash", (*generator)->model_hash()},
                     {"encoder", (*encoder)->manifest().name},
                     {"encoder_hash", (*encoder)->manifest().hash}};
  data.data = {{"sweep", per_strength}};
  return data;
}

}  // namespace

std::string FormatMetric(double value, int digits) {
  if (!std::isfinite(value)) return "-";
  std::ostringstream s;
  const double magnitude = value == 0 ? 0 : std::floor(std::log10(std::abs(value)));
  // Fixed notation with `digits` significant digits (at least the integer part).
  const int decimals = std::max(0, digits - 1 - static_cast<int>(magnitude));
  s << std::fixed << std::setprecision(std::min(decimals, 8)) << value;
  return s.str();
}

std::string FormatPValue(double p) {
  if (!std::isfinite(p)) return "-";
  if (p < 1e-10) return "< 1e-10";
  if (p >= 0.001) return FormatMetric(p, 2);
  std::ostringstream s;
  s << std::scientific << std::setprecision(1) << p;
  return s.str();
}

namespace {

// The figure builder: every panel of every sub-figure, in order, titled by its figure.
Result<FigureData> BuildCombined(const json& p, const ProgressFn& progress) {
  FigureData combined;
  const size_t n = p["panels"].size();
  json provenance = json::array(), data = json::array();
  for (size_t i = 0; i < n; ++i) {
    auto part = BuildFigureData(p["panels"][i], SubRange(progress, double(i) / n, double(i + 1) / n));
    if (!part.ok()) return Result<FigureData>::Failure("panel " + std::to_string(i + 1) + " (" +
                                                       p["panels"][i]["kind"].get<std::string>() + "): " + part.error());
    for (FigPanel& panel : part->panels) {
      // Image grids need the page's width to stay legible next to plots.
      panel.full_width = std::holds_alternative<ImageGridPanel>(panel.content) && part->columns == 1;
      combined.panels.push_back(std::move(panel));
    }
    provenance.push_back(part->provenance);
    data.push_back(part->data);
    if (combined.csv.empty()) combined.csv = part->csv, combined.latex = part->latex;
  }
  combined.columns = p["columns"].get<int>() > 0 ? p["columns"].get<int>() : 2;
  combined.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"panels", provenance}};
  combined.data = {{"panels", data}};
  return combined;
}

}  // namespace

Result<FigureData> BuildFigureData(const json& spec, const ProgressFn& progress) {
  const std::string kind = spec.at("kind");
  const json& p = spec.at("params");
  Result<FigureData> data = Result<FigureData>::Failure("unknown figure kind '" + kind + "'");
  if (kind == "comparison") data = BuildComparison(p, progress);
  else if (kind == "embedding") data = BuildEmbedding(p, progress);
  else if (kind == "metrics") data = BuildMetrics(p, progress);
  else if (kind == "sweep") data = BuildSweep(p, progress);
  else if (kind == "detectors") data = figure_internal::BuildDetectors(p, progress);
  else if (kind == "bias") data = figure_internal::BuildBias(p, progress);
  else if (kind == "labels") data = figure_internal::BuildLabels(p, progress);
  else if (kind == "combined") data = BuildCombined(p, progress);
  if (data.ok() && progress && !progress(1.0)) return Result<FigureData>::Failure("cancelled");
  return data;
}

}  // namespace synthlens
