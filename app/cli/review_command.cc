// synthlens review: the learned artifact detector from the project's hand labels
// (docs/learned-detector.md): cross-validated AUROC and the unlabelled images ranked most likely
// artifact first.
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/io/image_source.h"
#include "core/jobs/review_job.h"
#include "core/util/check.h"
#include "core/util/file_util.h"

namespace synthlens::cli {

CommandRunner RegisterReviewCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "review", "Train the learned artifact detector on the project's hand labels and rank the "
                "unlabelled images (RANK.csv)");
  struct Flags {
    DetectJobOptions job;
    ArtifactClassifierOptions classifier;
    std::string project;
    std::string device = "cpu";
    std::string out;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--project", flags->project, "Project file holding the hand labels")->required();
  cmd->add_option("--input", flags->job.input,
                  "SRC whose images were labelled (the labels' source)")
      ->required();
  cmd->add_option("--reference", flags->job.reference,
                  "SRC of real images the detector scores are calibrated on (default: the input)");
  cmd->add_option("--encoder", flags->job.encoder,
                  "Encoder package for the embedding features, or none")
      ->capture_default_str();
  cmd->add_option("--device", flags->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--limit", flags->job.limit, "Use the first N images of the input");
  cmd->add_option("--reference-limit", flags->job.reference_limit,
                  "Calibrate on the first N reference images");
  cmd->add_option("--c", flags->classifier.c, "Inverse L2 strength of the logistic regression")
      ->capture_default_str();
  cmd->add_option("--folds", flags->classifier.folds, "Cross-validation folds")
      ->capture_default_str();
  cmd->add_option("--seed", flags->classifier.seed, "Seed of the fold split")->capture_default_str();
  cmd->add_option("--out", flags->out,
                  "Output CSV: rank,image,probability,label (unlabelled images first, by rank)")
      ->required();
  cmd->add_flag("--json", flags->json, "Print the cross-validation report as JSON");
  return [cmd, flags]() {
    if (!cmd->parsed()) return -1;
    auto device = Device::Parse(flags->device);
    if (!device.ok()) {
      std::cerr << "synthlens review: --device: " << device.error() << std::endl;
      return kExitUsage;
    }
    flags->job.device = *device;
    for (const std::string& problem : {flags->job.Check(), flags->classifier.Check()}) {
      if (!problem.empty()) {
        std::cerr << "synthlens review: " << problem << std::endl;
        return kExitUsage;
      }
    }
    ProjectOpenOptions open_options;
    open_options.create_if_missing = false;
    std::unique_ptr<LabelStore> store;
    try {
      store = LabelStore::Open(flags->project, open_options);
    } catch (const Error& e) {
      std::cerr << "synthlens review: --project: " << e.what() << std::endl;
      return kExitFailure;
    }
    // Labels name their source by its SourceKey, whatever the spelling on the command line.
    const std::string source = SourceKey(flags->job.input);
    std::vector<ImageLabels> labels = store->All(source);
    ProgressBar bar("review");
    auto detect = RunDetectJob(flags->job, [&](double f) { return bar.Callback()(0.9 * f); },
                               [&](const SourceIssue& issue) {
                                 bar.Finish();
                                 std::cerr << "skipped: " << issue.file << ": " << issue.reason
                                           << std::endl;
                               });
    if (!detect.ok()) {
      bar.Finish();
      std::cerr << "synthlens review: " << detect.error() << std::endl;
      return kExitFailure;
    }
    auto learned = TrainLearnedDetector(*detect, labels, source, flags->classifier);
    bar.Finish();
    if (!learned.ok()) {
      std::cerr << "synthlens review: " << learned.error() << std::endl;
      return kExitFailure;
    }
    std::ostringstream csv;
    csv.precision(9);
    csv << "rank,image,probability,label\n";
    int64_t rank = 0;
    for (int64_t row : learned->review_order) {
      csv << ++rank << ',' << detect->ids[row] << ',' << learned->probability[row] << ",\n";
    }
    for (size_t row = 0; row < detect->ids.size(); ++row) {
      if (learned->targets[row] < 0) continue;
      csv << ',' << detect->ids[row] << ',' << learned->probability[row] << ','
          << (learned->targets[row] ? "artifact" : "clean") << '\n';
    }
    if (std::string problem = WriteFileAtomic(flags->out, csv.str()); !problem.empty()) {
      std::cerr << "synthlens review: " << problem << std::endl;
      return kExitFailure;
    }
    const ArtifactClassifierReport& r = learned->report;
    if (flags->json) {
      nlohmann::json j = {{"cv_auroc", r.cv_auroc},       {"fold_aurocs", r.fold_aurocs},
                          {"folds", r.folds},             {"positives", r.positives},
                          {"negatives", r.negatives},     {"features", r.features},
                          {"seconds", r.seconds},         {"unlabelled", learned->review_order.size()},
                          {"source", source},             {"model", flags->classifier.model},
                          {"c", flags->classifier.c}};
      std::cout << j.dump(2) << std::endl;
    }
    std::cerr << "review: CV AUROC " << r.cv_auroc << " from " << r.positives << " artifact and "
              << r.negatives << " clean labels (" << r.folds << " folds); "
              << learned->review_order.size() << " unlabelled images ranked in " << flags->out
              << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
