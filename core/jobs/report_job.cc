#include "core/jobs/report_job.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>
#include <unordered_set>

#include "core/io/image_source.h"
#include "core/jobs/detect_job.h"
#include "core/jobs/figure_spec.h"
#include "core/jobs/review_job.h"
#include "core/jobs/sweep_job.h"
#include "core/store/labels.h"
#include "core/util/logging.h"
#include "core/util/version.h"

namespace synthlens {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

// j[key] when j is an object holding a boolean there, else false (report JSON may hold nulls).
bool Flag(const json& j, const char* key) { return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>(); }

std::string Percent(double fraction) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(fraction < 0.1 ? 1 : 0) << 100.0 * fraction << "%";
  return s.str();
}

// Up to n ids of real images that the synthetic folder's views were made from (its
// manifest.jsonl), else the first n real images.
std::vector<std::string> SampleIds(const ReportOptions& o, const ImageSource& real, int n) {
  std::unordered_set<std::string> real_ids;
  for (int64_t i = 0; i < real.size(); ++i) real_ids.insert(real.record(i).id);
  std::vector<std::string> ids;
  std::ifstream in(fs::path(o.synthetic) / "manifest.jsonl");
  std::string line;
  while (in && std::getline(in, line) && static_cast<int>(ids.size()) < n) {
    const json j = json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("source") || !j["source"].is_string()) continue;
    const std::string id = j["source"];
    if (real_ids.count(id) && std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  for (int64_t i = 0; i < real.size() && static_cast<int>(ids.size()) < n; ++i) {
    if (std::find(ids.begin(), ids.end(), real.record(i).id) == ids.end()) ids.push_back(real.record(i).id);
  }
  return ids;
}

}  // namespace

std::string ReportOptions::Validate() const {
  if (real.empty()) return "--real is required";
  if (synthetic.empty()) return "--synthetic is required";
  if (sample < 0 || sample > 16) return "--sample must be in [0, 16]";
  if (sweep_images != 0 && sweep_images < 2) return "--sweep-images must be 0 (no sweep) or >= 2";
  if (bootstrap < 0) return "--bootstrap must be >= 0";
  if (method != "pca" && method != "tsne" && method != "umap") return "--method must be pca, tsne or umap";
  return "";
}

json ReportData::Json() const {
  json sections_json = json::array();
  for (const ReportSection& s : sections) {
    json e = {{"id", s.id}, {"title", s.title}, {"text", s.text}};
    if (!s.error.empty()) e["error"] = s.error;
    if (!s.spec.is_null()) {
      e["spec"] = s.spec;
      e["data"] = s.data.data;
    }
    sections_json.push_back(e);
  }
  return {{"synthlens_report", 1}, {"summary", summary}, {"verdicts", verdicts}, {"provenance", provenance},
          {"sections", sections_json}, {"seconds", seconds}};
}

Result<ReportData> BuildReport(const ReportOptions& o, const ProgressFn& progress) {
  using R = Result<ReportData>;
  const auto start = std::chrono::steady_clock::now();
  if (std::string problem = o.Validate(); !problem.empty()) return R::Failure(problem);
  SourceOptions real_options, synth_options;
  real_options.limit = o.real_limit;
  synth_options.limit = o.synthetic_limit;
  auto real = OpenImageSource(o.real, real_options);
  if (!real.ok()) return R::Failure(real.error());
  auto synth = OpenImageSource(o.synthetic, synth_options);
  if (!synth.ok()) return R::Failure(synth.error());
  const bool with_model = !o.model.empty() && o.model != "none";
  const auto seed = static_cast<int64_t>(o.seed);

  struct Planned {
    std::string id, title, text;
    json spec;
    double weight;
  };
  std::vector<Planned> plan;
  plan.push_back({"metrics", "Metrics", "Set metrics of the synthetic embeddings against the real ones (docs/metrics.md)" +
                                            std::string(o.bootstrap > 0 ? ", with 95% half-sampling intervals." : "."),
                  {{"kind", "metrics"}, {"params", {{"real", o.real}, {"synthetic", o.synthetic}, {"encoder", o.encoder},
                                                    {"limit", o.real_limit}, {"synthetic_limit", o.synthetic_limit},
                                                    {"bootstrap", o.bootstrap}, {"seed", seed}, {"device", o.device}}}},
                  0.2});
  plan.push_back({"embedding", "Embedding", "Real and synthetic embeddings projected together (" + o.method + "), coloured by class.",
                  {{"kind", "embedding"}, {"params", {{"real", o.real}, {"synthetic", o.synthetic}, {"encoder", o.encoder},
                                                      {"method", o.method}, {"colour", "class"}, {"limit", o.real_limit},
                                                      {"synthetic_limit", o.synthetic_limit}, {"seed", seed}, {"device", o.device}}}},
                  0.15});
  if (o.sample > 0) {
    plan.push_back({"comparison", "Comparison grids",
                    "Sample source images with their classic views" +
                        std::string(with_model ? " and the model's img2img views." : ".") +
                        " The sources are those the synthetic folder's views were made from, when it says so.",
                    {{"kind", "comparison"}, {"params", {{"input", o.real}, {"ids", SampleIds(o, **real, o.sample)},
                                                         {"model", with_model ? o.model : std::string("none")},
                                                         {"seed", seed}, {"device", o.device}}}},
                    0.1});
  }
  if (with_model && o.sweep_images > 0) {
    plan.push_back({"sweep", "Strength sweep", "Metrics of img2img views against their sources as the strength grows.",
                    {{"kind", "sweep"}, {"params", {{"input", o.real}, {"model", o.model}, {"encoder", o.encoder},
                                                    {"images", o.sweep_images}, {"seed", seed}, {"device", o.device}}}},
                    0.15});
  }
  plan.push_back({"detectors", "Detector findings",
                  "Per-image artifact detectors over the synthetic set, calibrated on the real set: the most flagged "
                  "detectors with their worst images and score histograms (docs/detectors.md).",
                  {{"kind", "detectors"}, {"params", {{"input", o.synthetic}, {"reference", o.real}, {"encoder", o.encoder},
                                                      {"limit", o.synthetic_limit}, {"reference_limit", o.real_limit},
                                                      {"device", o.device}}}},
                  0.25});
  plan.push_back({"bias", "Bias", "Class balance and the most shifted image statistics (docs/bias.md).",
                  {{"kind", "bias"}, {"params", {{"real", o.real}, {"synthetic", o.synthetic}, {"encoder", o.encoder},
                                                 {"real_limit", o.real_limit}, {"synthetic_limit", o.synthetic_limit},
                                                 {"device", o.device}}}},
                  0.15});
  if (!o.project.empty()) {
    plan.push_back({"labels", "Hand labels", "Hand labels of the project: counts per category and examples.",
                    {{"kind", "labels"}, {"params", {{"project", o.project}}}}, 0.05});
  }
  double total = 0;
  for (const Planned& p : plan) total += p.weight;

  ReportData report;
  double done = 0;
  for (const Planned& p : plan) {
    ReportSection section{p.id, p.title, p.text, nullptr, {}, ""};
    const ProgressFn part = SubRange(progress, done / total, (done + p.weight) / total);
    done += p.weight;
    auto spec = ResolveFigureSpec(p.spec, "report " + p.id);
    if (!spec.ok()) {
      section.error = spec.error();
    } else {
      auto data = BuildFigureData(*spec, part);
      if (!data.ok() && data.error() == "cancelled") return R::Failure("cancelled");
      if (data.ok()) {
        section.spec = *spec;
        section.spec["provenance"] = data->provenance;
        section.data = std::move(data).value();
      } else {
        section.error = data.error();
      }
    }
    if (!section.error.empty()) SL_LOG_WARNING("report: " << p.id << ": " << section.error);
    report.sections.push_back(std::move(section));
  }
  if (progress && !progress(1.0)) return R::Failure("cancelled");

  // Summary and verdicts from the sections' numbers.
  json& summary = report.summary;
  summary["real"] = {{"spec", o.real}, {"images", (*real)->size()}};
  summary["synthetic"] = {{"spec", o.synthetic}, {"images", (*synth)->size()}};
  std::vector<std::string>& verdicts = report.verdicts;
  for (const ReportSection& s : report.sections) {
    if (s.spec.is_null()) {
      verdicts.push_back("The " + s.title + " section could not be made: " + s.error);
      continue;
    }
    const json& d = s.data.data;
    if (s.id == "metrics") {
      json m = json::object();
      for (const char* key : {"fid", "kid_mean", "precision", "recall", "density", "coverage", "vendi_real",
                              "vendi_synthetic", "authpct", "c2st_accuracy"}) {
        if (d.contains(key)) m[key] = d[key];
      }
      if (d.contains("intervals")) m["intervals"] = d["intervals"];
      summary["metrics"] = m;
      const double precision = d.value("precision", 1.0), recall = d.value("recall", 1.0), c2st = d.value("c2st_accuracy", 0.5);
      if (precision < 0.5) verdicts.push_back("Low precision: only " + Percent(precision) + " of synthetic images lie within the real set's manifold.");
      if (recall < 0.5) verdicts.push_back("Low recall: the synthetic set covers only " + Percent(recall) + " of the real set's variety.");
      if (c2st > 0.75) verdicts.push_back("A classifier tells synthetic from real embeddings apart with " + Percent(c2st) + " accuracy.");
    } else if (s.id == "detectors" && d.contains("summary")) {
      const json& sum = d["summary"];
      const double n = std::max<double>(1, sum.value("images", 0));
      json flagged = json::object();
      std::vector<std::pair<int64_t, std::string>> order;
      for (const json& det : sum["detectors"]) {
        flagged[det["name"].get<std::string>()] = det["flagged"];
        order.push_back({det["flagged"].get<int64_t>(), det["name"].get<std::string>()});
      }
      summary["flagged_by_detector"] = flagged;
      summary["flagged_any"] = sum.value("flagged_any", 0);
      std::stable_sort(order.begin(), order.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
      if (flagged.contains("class_change") && flagged["class_change"].get<int64_t>() > 0) {
        verdicts.push_back(Percent(flagged["class_change"].get<int64_t>() / n) + " of synthetic views change class (linear probe on the real labels).");
      }
      int listed = 0;
      for (const auto& [count, name] : order) {
        if (count == 0 || listed == 3) break;
        if (name == "class_change") continue;
        verdicts.push_back(Percent(count / n) + " of synthetic images are flagged by the " + name + " detector.");
        ++listed;
      }
    } else if (s.id == "bias") {
      const json balance = d.contains("class_balance") && d["class_balance"].is_object() ? d["class_balance"] : json::object();
      if (balance.is_object() && balance.contains("chi_square") && Flag(balance["chi_square"], "flag")) {
        std::string line = "Class balance differs from the real set (chi-square p = " +
                           (balance["chi_square"]["p_value"].is_number() ? FormatPValue(balance["chi_square"]["p_value"].get<double>()) : "?") + ")";
        if (balance.contains("most_over_represented") && balance["most_over_represented"].is_object()) {
          line += "; most over-represented: " + balance["most_over_represented"].value("name", std::string());
        }
        verdicts.push_back(line + ".");
      }
      std::vector<std::string> shifted;
      const json shifts = d.contains("shifts") && d["shifts"].is_object() ? d["shifts"] : json::object();
      for (const auto& [name, e] : shifts.items()) {
        if (Flag(e, "flag")) shifted.push_back(name);
      }
      if (!shifted.empty()) {
        std::string line = "Image statistics shifted against the real set (KS p < 0.05): ";
        for (size_t i = 0; i < shifted.size() && i < 6; ++i) line += (i ? ", " : "") + shifted[i];
        verdicts.push_back(line + (shifted.size() > 6 ? ", ..." : "") + ".");
      }
      const json div = d.contains("diversity") && d["diversity"].is_object() ? d["diversity"] : json::object();
      if (div.contains("mode_collapse_classes") && div["mode_collapse_classes"].is_array() && !div["mode_collapse_classes"].empty()) {
        verdicts.push_back("Mode collapse in " + std::to_string(div["mode_collapse_classes"].size()) + " class(es).");
      }
      const json chi = balance.contains("chi_square") && balance["chi_square"].is_object() ? balance["chi_square"] : json::object();
      summary["bias"] = {{"class_balance_p", chi.contains("p_value") ? chi["p_value"] : json()},
                         {"shifted_statistics", shifted}};
    } else if (s.id == "labels") {
      summary["labels"] = d;
    }
  }
  // The learned detector's cross-validated AUROC, when the project has enough labels.
  if (!o.project.empty()) {
    try {
      ProjectOpenOptions open;
      open.create_if_missing = false;
      auto store = LabelStore::Open(o.project, open);
      const std::vector<ImageLabels> labels = store->All();
      DetectJobOptions detect;
      detect.input = o.synthetic;
      detect.reference = o.real;
      detect.limit = o.synthetic_limit;
      detect.reference_limit = o.real_limit;
      detect.encoder = o.encoder == "none" ? std::string() : o.encoder;
      auto result = RunDetectJob(detect, nullptr, [](const SourceIssue&) {});
      std::string why;
      if (result.ok()) {
        // Labels name their source as the studio and `labels import` wrote it: the spec as given,
        // or the folder's absolute path.
        std::error_code ec;
        const std::string absolute = fs::weakly_canonical(o.synthetic, ec).string();
        for (const std::string& key : {o.synthetic, absolute, "views:" + o.synthetic}) {
          auto learned = TrainLearnedDetector(*result, labels, key);
          if (learned.ok()) {
            summary["learned_detector"] = {{"cv_auroc", learned->report.cv_auroc}, {"source_key", key}};
            verdicts.push_back("Learned detector (from the hand labels): cross-validated AUROC " +
                               FormatMetric(learned->report.cv_auroc, 3) + ".");
            break;
          }
          why = learned.error();
        }
      } else {
        why = result.error();
      }
      if (!summary.contains("learned_detector")) summary["learned_detector"] = {{"error", why}};
    } catch (const std::exception& e) {
      summary["learned_detector"] = {{"error", std::string(e.what())}};
    }
  }
  report.provenance = {{"synthlens_version", SYNTHLENS_VERSION}, {"options", {{"real", o.real}, {"synthetic", o.synthetic},
                        {"project", o.project}, {"model", o.model}, {"encoder", o.encoder}, {"device", o.device},
                        {"real_limit", o.real_limit}, {"synthetic_limit", o.synthetic_limit}, {"sample", o.sample},
                        {"sweep_images", o.sweep_images}, {"bootstrap", o.bootstrap}, {"method", o.method}, {"seed", seed}}}};
  json per_section = json::object();
  for (const ReportSection& s : report.sections) {
    if (!s.spec.is_null()) per_section[s.id] = s.spec["provenance"];
  }
  report.provenance["sections"] = per_section;
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace synthlens
