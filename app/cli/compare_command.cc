// synthlens compare: set metrics of two embedding matrices (CLI.md, docs/metrics.md).
#include <cmath>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/io/npy.h"
#include "core/metrics/set_metrics.h"

namespace synthlens::cli {
namespace {

struct CompareArgs {
  std::string real, synthetic, real_labels, synthetic_labels;
  SetMetricsOptions options;
  bool json = false;
  bool no_per_class = false;
};

// Labels, one per row: a one-column .npy with integer values (float dtype, as ReadNpy reads), or a
// text file with one line per row holding "LABEL" or "ID<TAB>LABEL" (the NAME.ids.txt that
// `synthlens embed` writes); a line without a label, or a negative one, means unknown (-1).
Result<std::vector<int>> ReadLabels(const std::string& path) {
  using R = Result<std::vector<int>>;
  std::vector<int> labels;
  if (path.size() > 4 && path.compare(path.size() - 4, 4, ".npy") == 0) {
    std::vector<int64_t> shape;
    auto m = ReadNpy(path, &shape);
    if (!m.ok()) return R::Failure(m.error());
    if (m->cols != 1) return R::Failure(path + ": labels must have one column, got " + std::to_string(m->cols));
    cv::Mat d;
    m->convertTo(d, CV_64F);
    for (int r = 0; r < d.rows; ++r) {
      const double v = d.at<double>(r, 0);
      if (!(v == std::floor(v)) || std::abs(v) > 2e9) {
        return R::Failure(path + ": row " + std::to_string(r) + " is not an integer label");
      }
      labels.push_back(v < 0 ? -1 : static_cast<int>(v));
    }
    return labels;
  }
  std::ifstream in(path);
  if (!in) return R::Failure(path + ": cannot open");
  std::string line;
  for (int64_t n = 1; std::getline(in, line); ++n) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t tab = line.rfind('\t');
    std::string field = tab == std::string::npos ? line : line.substr(tab + 1);
    if (tab != std::string::npos && field.empty()) {
      labels.push_back(-1);
      continue;
    }
    std::istringstream s(field);
    long long v = 0;
    std::string rest;
    if (!(s >> v) || (s >> rest)) {
      if (tab == std::string::npos && !line.empty()) {
        return R::Failure(path + ": line " + std::to_string(n) + " is not an integer label: '" + line + "'");
      }
      labels.push_back(-1);  // an id without a label
      continue;
    }
    labels.push_back(v < 0 ? -1 : static_cast<int>(v));
  }
  return labels;
}

void PrintTable(const nlohmann::json& j) {
  const auto& s = j["settings"];
  std::cout << "real " << s["n_real"] << " x " << s["dim"] << ", synthetic " << s["n_synthetic"]
            << " x " << s["dim"] << "\n";
  const char* keys[] = {"fid", "kid_mean", "kid_std", "precision", "recall", "density",
                        "coverage", "vendi_real", "vendi_synthetic", "authpct",
                        "copy_fraction_cos0.5", "c2st_accuracy"};
  for (const char* k : keys) {
    if (!j.contains(k)) continue;
    std::cout << "  " << std::left << std::setw(22) << k << std::right << std::setw(14)
              << std::setprecision(6) << j[k].get<double>();
    if (j.contains("intervals") && j["intervals"].contains(k)) {
      std::cout << "   [" << j["intervals"][k][0].get<double>() << ", "
                << j["intervals"][k][1].get<double>() << "]";
    }
    std::cout << "\n";
  }
  if (j.contains("per_class")) {
    std::cout << "per class (fid, precision, recall, density, coverage):\n";
    for (const auto& [cls, e] : j["per_class"].items()) {
      std::cout << "  " << std::left << std::setw(6) << cls << std::right;
      if (e.contains("error")) {
        std::cout << " " << e["error"].get<std::string>() << "\n";
        continue;
      }
      for (const char* k : {"fid", "precision", "recall", "density", "coverage"}) {
        std::cout << std::setw(12) << std::setprecision(5) << e[k].get<double>();
      }
      std::cout << "\n";
    }
  }
  std::cout << std::flush;
}

}  // namespace

CommandRunner RegisterCompareCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "compare", "Set metrics of real vs synthetic embeddings (FID, KID, precision/recall, "
                 "density/coverage, Vendi, AuthPct, C2ST)");
  auto a = std::make_shared<CompareArgs>();
  cmd->add_option("--real", a->real, "N x d float .npy of real embeddings")->required();
  cmd->add_option("--synthetic", a->synthetic, "M x d float .npy of synthetic embeddings")->required();
  cmd->add_option("--real-labels", a->real_labels,
                  "Labels of the real rows: one-column .npy, or text (LABEL or ID<TAB>LABEL per line)");
  cmd->add_option("--synthetic-labels", a->synthetic_labels, "Labels of the synthetic rows");
  cmd->add_option("--bootstrap", a->options.bootstrap, "Rounds of half-sampling for the intervals (0: none)")
      ->capture_default_str();
  cmd->add_option("--confidence", a->options.confidence, "Two-sided interval level")
      ->capture_default_str();
  cmd->add_option("--seed", a->options.seed, "Seed of KID subsets, C2ST folds, interval rounds")
      ->capture_default_str();
  cmd->add_option("--kid-subsets", a->options.kid_subsets, "KID subsets")->capture_default_str();
  cmd->add_option("--kid-subset-size", a->options.kid_subset_size,
                  "KID subset size (clipped to the smaller set)")
      ->capture_default_str();
  cmd->add_option("--k-pr", a->options.pr_k, "k of precision/recall")->capture_default_str();
  cmd->add_option("--k-dc", a->options.dc_k, "k of density/coverage")->capture_default_str();
  cmd->add_option("--c2st-folds", a->options.c2st_folds, "Cross-validation folds of C2ST")
      ->capture_default_str();
  cmd->add_option("--c2st-max-rows", a->options.c2st_max_rows,
                  "Rows of each set C2ST fits on at most (0: all)")
      ->capture_default_str();
  cmd->add_flag("--no-per-class", a->no_per_class, "Skip per-class metrics even with labels");
  cmd->add_flag("--json", a->json, "Print one JSON object on stdout");
  return [cmd, a]() {
    if (!cmd->parsed()) return -1;
    a->options.per_class = !a->no_per_class;
    if (std::string problem = a->options.Check(); !problem.empty()) {
      std::cerr << "synthlens compare: " << problem << std::endl;
      return kExitUsage;
    }
    if (a->real_labels.empty() != a->synthetic_labels.empty()) {
      std::cerr << "synthlens compare: --real-labels and --synthetic-labels go together" << std::endl;
      return kExitUsage;
    }
    auto real = ReadNpy(a->real);
    if (!real.ok()) {
      std::cerr << "synthlens compare: " << real.error() << std::endl;
      return kExitFailure;
    }
    auto synthetic = ReadNpy(a->synthetic);
    if (!synthetic.ok()) {
      std::cerr << "synthlens compare: " << synthetic.error() << std::endl;
      return kExitFailure;
    }
    std::vector<int> real_labels, synthetic_labels;
    if (!a->real_labels.empty()) {
      auto l = ReadLabels(a->real_labels);
      auto m = ReadLabels(a->synthetic_labels);
      if (!l.ok() || !m.ok()) {
        std::cerr << "synthlens compare: " << (l.ok() ? m.error() : l.error()) << std::endl;
        return kExitFailure;
      }
      real_labels = std::move(*l);
      synthetic_labels = std::move(*m);
    }
    ProgressBar bar("compare");
    auto json = CompareSetsJson(*real, *synthetic, a->options, real_labels, synthetic_labels,
                                bar.Callback());
    bar.Finish();
    if (!json.ok()) {
      // Set-level problems name the set; say which file it came from.
      std::string error = json.error();
      if (error.rfind("real labels", 0) == 0) error = a->real_labels + " (" + error + ")";
      else if (error.rfind("synthetic labels", 0) == 0) error = a->synthetic_labels + " (" + error + ")";
      else if (error.rfind("real", 0) == 0) error = a->real + " (" + error + ")";
      else if (error.rfind("synthetic", 0) == 0) error = a->synthetic + " (" + error + ")";
      else if (error.rfind("dimension", 0) == 0) error = a->real + " vs " + a->synthetic + ": " + error;
      std::cerr << "synthlens compare: " << error << std::endl;
      return kExitFailure;
    }
    if (a->json) {
      std::cout << *json << std::endl;
    } else {
      PrintTable(nlohmann::json::parse(*json));
    }
    return kExitOk;
  };
}

}  // namespace synthlens::cli
