// Figure builders over a set under review: detector findings, the bias report, hand labels.
#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <unordered_map>

#include "core/jobs/bias_job.h"
#include "core/jobs/detect_job.h"
#include "core/jobs/figure_data_internal.h"
#include "core/jobs/sweep_job.h"
#include "core/store/labels.h"
#include "core/util/logging.h"
#include "core/util/version.h"

namespace synthlens::figure_internal {
namespace {

using json = nlohmann::json;

void LogIssue(const SourceIssue& issue) { SL_LOG_WARNING(issue.file << ": " << issue.reason << " (skipped)"); }

// Equal-width histogram of the finite values over [lo, hi].
std::vector<double> Counts(const std::vector<double>& values, const std::vector<double>& edges) {
  std::vector<double> counts(edges.size() - 1, 0);
  const double lo = edges.front(), hi = edges.back();
  for (double v : values) {
    if (!std::isfinite(v)) continue;
    const int b = std::clamp(static_cast<int>((v - lo) / (hi - lo) * counts.size()), 0, static_cast<int>(counts.size()) - 1);
    counts[b] += 1;
  }
  return counts;
}

std::vector<double> Edges(double lo, double hi, int bins) {
  if (!(hi > lo)) lo -= 0.5, hi += 0.5;
  std::vector<double> e(bins + 1);
  for (int i = 0; i <= bins; ++i) e[i] = lo + (hi - lo) * i / bins;
  return e;
}

}  // namespace

Result<FigureData> BuildDetectors(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  DetectJobOptions options;
  options.input = p["input"];
  options.reference = p["reference"];
  options.limit = p["limit"];
  options.reference_limit = p["reference_limit"];
  options.encoder = p["encoder"] == "none" ? std::string() : p["encoder"].get<std::string>();
  options.thresholds = p["thresholds"];
  auto device = Device::Parse(p["device"].get<std::string>());
  if (!device.ok()) return R::Failure("device: " + device.error());
  options.device = *device;
  if (std::string problem = options.Check(); !problem.empty()) return R::Failure(problem);
  auto result = RunDetectJob(options, SubRange(progress, 0, 0.9), LogIssue);
  if (!result.ok()) return R::Failure(result.error());
  const DetectJobResult& r = *result;
  // The detectors to show: those named, else the most flagged (at least one flag).
  std::vector<int> shown;
  for (const json& name : p["detectors"]) {
    const int d = r.DetectorIndex(name.get<std::string>());
    if (d < 0) {
      std::string known;
      for (const DetectorInfo& info : r.detectors) known += (known.empty() ? "" : ", ") + info.name;
      return R::Failure("params.detectors: no detector '" + name.get<std::string>() + "' (" + known + ")");
    }
    shown.push_back(d);
  }
  if (shown.empty()) {
    std::vector<int> order(r.detectors.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return r.FlaggedCount(a) > r.FlaggedCount(b); });
    for (int d : order) {
      if (static_cast<int>(shown.size()) >= p["max_detectors"].get<int>() || r.FlaggedCount(d) == 0) break;
      shown.push_back(d);
    }
  }
  SourceOptions source_options;
  source_options.limit = options.limit;
  auto source = OpenImageSource(options.input, source_options);
  if (!source.ok()) return R::Failure(source.error());
  const int k = p["top_k"];
  FigureData data;
  json findings = json::array();
  for (size_t si = 0; si < shown.size(); ++si) {
    const int d = shown[si];
    const std::string& name = r.detectors[d].name;
    std::vector<int> rows;
    std::vector<double> values;
    for (size_t row = 0; row < r.scores.size(); ++row) {
      values.push_back(r.scores[row][d]);
      if (std::isfinite(r.scores[row][d])) rows.push_back(static_cast<int>(row));
    }
    std::stable_sort(rows.begin(), rows.end(), [&](int a, int b) { return r.scores[a][d] > r.scores[b][d]; });
    if (static_cast<int>(rows.size()) > k) rows.resize(k);
    ImageGridPanel grid;
    std::vector<FigTile> tiles;
    json worst = json::array();
    for (int row : rows) {
      auto image = (*source)->Load(r.indices[row]);
      FigTile t;
      if (image.ok()) t.image = *image;
      t.caption = r.ids[row] + " · " + FormatMetric(r.scores[row][d], 3) + (r.flags[row][d] ? " · flagged" : "");
      t.frame_colour = r.flags[row][d] ? 1 : -1;
      tiles.push_back(std::move(t));
      worst.push_back({{"id", r.ids[row]}, {"score", r.scores[row][d]}, {"flagged", r.flags[row][d] != 0}});
    }
    grid.rows.push_back(std::move(tiles));
    data.panels.push_back({name + ": " + std::to_string(r.FlaggedCount(d)) + " of " + std::to_string(r.ids.size()) +
                               " flagged",
                           grid});
    double lo = r.thresholds[d], hi = r.thresholds[d];
    for (double v : values) {
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
    }
    BarPanel hist;
    hist.x_label = name + " score";
    hist.y_label = "images";
    hist.edges = Edges(lo, hi, 24);
    hist.series.push_back({"input", kSyntheticColour, "", Counts(values, hist.edges)});
    if (std::isfinite(r.thresholds[d])) hist.vlines.push_back({r.thresholds[d], "threshold (" + r.rules[d] + ")", 8});
    data.panels.push_back({"", hist});
    findings.push_back({{"detector", name}, {"description", r.detectors[d].description}, {"threshold", r.thresholds[d]},
                        {"rule", r.rules[d]}, {"flagged", r.FlaggedCount(d)}, {"worst", worst},
                        {"histogram", {{"edges", hist.edges}, {"counts", hist.series[0].values}}}});
  }
  // The spectrum of the image that scores highest on "spectral", against the reference band.
  const int spectral = r.DetectorIndex("spectral");
  if (p["spectrum"].get<bool>() && spectral >= 0 && !r.spectra.empty() && !r.reference_spectrum_mean.empty()) {
    int best = -1;
    for (size_t row = 0; row < r.scores.size(); ++row) {
      if (std::isfinite(r.scores[row][spectral]) && (best < 0 || r.scores[row][spectral] > r.scores[best][spectral])) best = static_cast<int>(row);
    }
    if (best >= 0) {
      CurvePanel curve;
      curve.x_label = "spatial frequency (bin)";
      curve.y_label = "log(1 + |DFT|)";
      FigBand band{"reference mean ± 2 sd", kRealColour, {}, {}, {}};
      FigCurve image{r.ids[best], kSyntheticColour, FigMarker::kCircle, {}, {}, {}, {}, false};
      FigCurve mean{"reference mean", kRealColour, FigMarker::kSquare, {}, {}, {}, {}, true};
      for (size_t b = 0; b < r.reference_spectrum_mean.size(); ++b) {
        band.x.push_back(b);
        band.lo.push_back(r.reference_spectrum_mean[b] - 2 * r.reference_spectrum_std[b]);
        band.hi.push_back(r.reference_spectrum_mean[b] + 2 * r.reference_spectrum_std[b]);
        mean.x.push_back(b);
        mean.y.push_back(r.reference_spectrum_mean[b]);
        if (b < r.spectra[best].size()) image.x.push_back(b), image.y.push_back(r.spectra[best][b]);
      }
      curve.bands.push_back(band);
      curve.curves.push_back(mean);
      curve.curves.push_back(image);
      data.panels.push_back({"Most spectral image vs the reference", curve});
    }
  }
  if (data.panels.empty()) {
    TablePanel none;
    none.header = {"Detector", "Flagged"};
    for (size_t d = 0; d < r.detectors.size(); ++d) none.rows.push_back({r.detectors[d].name, std::to_string(r.FlaggedCount(d))});
    none.numeric = {false, true};
    none.note = "no image is flagged by any detector";
    data.panels.push_back({"Detectors", none});
  }
  data.columns = shown.empty() ? 1 : 2;
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"input", options.input},
                     {"reference", options.reference.empty() ? options.input : options.reference},
                     {"images", r.ids.size()}, {"reference_images", r.reference_count},
                     {"encoder", r.encoder_name}, {"skipped", r.skipped}};
  data.data = {{"summary", json::parse(DetectSummaryJson(r))}, {"shown", findings}};
  return data;
}

Result<FigureData> BuildBias(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  BiasJobOptions options;
  options.real = p["real"];
  options.synthetic = p["synthetic"];
  options.real_limit = p["real_limit"];
  options.synthetic_limit = p["synthetic_limit"];
  options.encoder = p["encoder"];
  options.report.histogram_bins = p["bins"];
  auto device = Device::Parse(p["device"].get<std::string>());
  if (!device.ok()) return R::Failure("device: " + device.error());
  options.device = *device;
  if (std::string problem = options.Check(); !problem.empty()) return R::Failure(problem);
  auto report = RunBiasJob(options, SubRange(progress, 0, 0.95), LogIssue);
  if (!report.ok()) return R::Failure(report.error());
  const json j = json::parse(*report);
  FigureData data;
  const json& balance = j.value("class_balance", json::object());
  if (balance.contains("classes") && !balance["classes"].empty()) {
    BarPanel bars;
    bars.y_label = "share of the set";
    FigBarSeries real{"real", kRealColour, "", {}}, synth{"synthetic", kSyntheticColour, "", {}};
    for (const json& c : balance["classes"]) {
      bars.categories.push_back(c.value("name", std::string()));
      real.values.push_back(c.value("real_proportion", 0.0));
      synth.values.push_back(c.value("synthetic_proportion", 0.0));
    }
    bars.series = {real, synth};
    std::string title = "Class balance";
    if (balance.contains("chi_square") && balance["chi_square"]["p_value"].is_number()) {
      title += " · chi-square p = " + FormatPValue(balance["chi_square"]["p_value"].get<double>());
    }
    data.panels.push_back({title, bars});
  }
  // Histograms of the statistics: those named, else the largest standardised shifts.
  const json& shifts = j.value("shifts", json::object());
  std::vector<std::string> names = p["statistics"];
  for (const std::string& n : names) {
    if (!shifts.contains(n)) {
      std::string known;
      for (const auto& [key, value] : shifts.items()) known += (known.empty() ? "" : ", ") + key;
      return R::Failure("params.statistics: no statistic '" + n + "' (" + known + ")");
    }
  }
  if (names.empty()) {
    std::vector<std::pair<double, std::string>> by_shift;
    for (const auto& [key, e] : shifts.items()) {
      if (!e.contains("histogram")) continue;
      const json& smd = e.value("standardised_mean_difference", json());
      by_shift.push_back({smd.is_number() ? std::abs(smd.get<double>()) : 0.0, key});
    }
    std::stable_sort(by_shift.begin(), by_shift.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    for (const auto& [shift, key] : by_shift) {
      if (static_cast<int>(names.size()) >= p["max_statistics"].get<int>()) break;
      names.push_back(key);
    }
  }
  for (const std::string& n : names) {
    const json& e = shifts[n];
    if (!e.contains("histogram")) continue;
    BarPanel hist;
    hist.x_label = n;
    hist.y_label = "share of images";
    hist.edges = e["histogram"]["edges"].get<std::vector<double>>();
    auto normalised = [](std::vector<double> v) {
      const double total = std::accumulate(v.begin(), v.end(), 0.0);
      if (total > 0) {
        for (double& x : v) x /= total;
      }
      return v;
    };
    hist.series.push_back({"real", kRealColour, "", normalised(e["histogram"]["real"].get<std::vector<double>>())});
    hist.series.push_back({"synthetic", kSyntheticColour, "", normalised(e["histogram"]["synthetic"].get<std::vector<double>>())});
    std::string title = n;
    if (e.contains("ks_statistic")) {
      title += " · KS " + FormatMetric(e["ks_statistic"].get<double>(), 2) + ", p " + FormatPValue(e["p_value"].get<double>());
    }
    data.panels.push_back({title, hist});
  }
  data.columns = data.panels.size() > 1 ? 2 : 1;
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"inputs", j.value("inputs", json::object())}};
  data.data = j;
  return data;
}

Result<FigureData> BuildLabels(const json& p, const ProgressFn& progress) {
  using R = Result<FigureData>;
  const std::string path = p["project"];
  std::unique_ptr<LabelStore> store;
  try {
    ProjectOpenOptions open;
    open.create_if_missing = false;
    store = LabelStore::Open(path, open);
  } catch (const std::exception& e) {
    return R::Failure(path + ": " + e.what());
  }
  const std::string only = p["source"];
  const std::vector<LabelCategory> categories = store->Categories();
  const LabelCounts counts = store->Counts(only);
  const std::vector<ImageLabels> all = store->All(only);
  FigureData data;
  BarPanel bars;
  bars.y_label = "images";
  FigBarSeries series{"images", kSyntheticColour, "", {}};
  json per_category = json::array();
  for (const LabelCategory& c : categories) {
    bars.categories.push_back(c.name);
    auto it = counts.per_category.find(c.id);
    const int64_t n = it == counts.per_category.end() ? 0 : it->second;
    series.values.push_back(static_cast<double>(n));
    per_category.push_back({{"category", c.name}, {"color", c.color}, {"images", n}});
  }
  bars.categories.push_back("clean");
  series.values.push_back(static_cast<double>(counts.clean));
  bars.series.push_back(series);
  data.panels.push_back({"Hand labels · " + std::to_string(counts.labelled) + " images labelled, " +
                             std::to_string(counts.with_artifacts) + " with artifacts",
                         bars});
  // Examples per category with their boxes, from the sources the labels name.
  const int examples = p["examples"];
  if (examples > 0) {
    std::map<std::string, std::unique_ptr<ImageSource>> sources;
    std::map<std::string, std::unordered_map<std::string, int64_t>> index_of;
    auto load = [&](const LabelTarget& t) -> cv::Mat {
      auto it = sources.find(t.source);
      if (it == sources.end()) {
        auto opened = OpenImageSource(t.source);
        if (!opened.ok()) SL_LOG_WARNING("figure labels: " << opened.error());
        it = sources.emplace(t.source, opened.ok() ? std::move(opened).value() : nullptr).first;
        if (it->second) {
          for (int64_t i = 0; i < it->second->size(); ++i) index_of[t.source][it->second->record(i).id] = i;
        }
      }
      if (!it->second) return {};
      auto found = index_of[t.source].find(t.image_id);
      if (found == index_of[t.source].end()) return {};
      auto image = it->second->Load(found->second);
      return image.ok() ? *image : cv::Mat();
    };
    ImageGridPanel grid;
    size_t done = 0;
    for (const LabelCategory& c : categories) {
      std::vector<FigTile> tiles;
      for (const ImageLabels& l : all) {
        if (static_cast<int>(tiles.size()) >= examples) break;
        if (std::find(l.category_ids.begin(), l.category_ids.end(), c.id) == l.category_ids.end()) continue;
        FigTile t;
        t.image = load(l.target);
        if (t.image.empty()) continue;
        t.caption = l.target.image_id;
        for (const LabelBox& b : l.boxes) {
          if (b.category_id == c.id) t.boxes.push_back({b.x, b.y, b.width, b.height, 1, "", c.color});
        }
        tiles.push_back(std::move(t));
      }
      if (progress && !progress(0.2 + 0.8 * (++done) / categories.size())) return R::Failure("cancelled");
      if (tiles.empty()) continue;
      grid.row_labels.push_back(c.name);
      grid.rows.push_back(std::move(tiles));
    }
    if (!grid.rows.empty()) data.panels.push_back({"Examples per category", grid});
  }
  data.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"project", path}, {"source", only}};
  data.data = {{"labelled", counts.labelled}, {"clean", counts.clean}, {"with_artifacts", counts.with_artifacts},
               {"categories", per_category}};
  return data;
}

}  // namespace synthlens::figure_internal
