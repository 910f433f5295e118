#pragma once
// The one-click report (docs/figures.md): everything known about a synthetic set against a real
// one, as figure specs with their data, headline numbers and the verdict lines a user must not
// miss. No Qt: ui/figures/report_writer turns it into index.html, report.pdf and report.json.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs/figure_data.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct ReportOptions {
  std::string real;
  std::string synthetic;
  std::string project;            // hand labels (optional)
  std::string model = "builtin";  // comparison grids and the sweep; "none": skip them
  std::string encoder = "builtin";
  std::string device = "cpu";
  int64_t real_limit = -1, synthetic_limit = -1;
  int sample = 4;         // images in the comparison grid
  int sweep_images = 32;  // images of the strength sweep; 0: no sweep
  int bootstrap = 20;     // metric intervals; 0: none
  std::string method = "pca";
  uint64_t seed = 0;
  // Empty when valid, else the problem naming the flag.
  std::string Validate() const;
};

struct ReportSection {
  std::string id;     // "comparison", "embedding", ...
  std::string title;
  std::string text;   // one paragraph: what it shows, or why it is missing
  nlohmann::json spec;  // resolved, with provenance; null when the section failed
  FigureData data;
  std::string error;  // the section could not be made (the report goes on)
};

struct ReportData {
  nlohmann::json summary;             // headline numbers (metrics, flagged counts, sizes)
  std::vector<std::string> verdicts;  // the lines a user must not miss, most important first
  nlohmann::json provenance;          // sources, hashes, models, seeds, settings, versions
  std::vector<ReportSection> sections;
  double seconds = 0;
  // report.json: summary, verdicts, provenance and each section's spec and data.
  nlohmann::json Json() const;
};

// Builds every section; a section that fails is kept with its error and the others go on.
// progress returning false cancels (Failure "cancelled"). Fails for an unreadable real or
// synthetic set.
Result<ReportData> BuildReport(const ReportOptions& options, const ProgressFn& progress);

}  // namespace synthlens
