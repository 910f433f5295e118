// synthlens detect: per-image artifact detectors calibrated on a reference set (docs/detectors.md).
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/jobs/detect_job.h"

namespace synthlens::cli {

CommandRunner RegisterDetectCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "detect", "Per-image artifact detectors calibrated on a reference set (SCORES.csv)");
  struct Flags {
    DetectJobOptions job;
    std::string device = "cpu";
    std::string out;
    bool json = false;
    bool strict = false;
  };
  auto flags = std::make_shared<Flags>();
  DetectJobOptions& job = flags->job;
  cmd->add_option("--input", job.input, "SRC to check: folder (e.g. generated views), "
                                        "fashion-mnist:train|test, IDX or .csv")
      ->required();
  cmd->add_option("--reference", job.reference,
                  "SRC of real images the thresholds are calibrated on (default: the input)");
  cmd->add_option("--sources", job.sources,
                  "SRC the views' sources come from (manifest.jsonl 'source' ids; default: the "
                  "reference)");
  cmd->add_option("--out", flags->out, "Output CSV: image,detector,score,flagged")->required();
  cmd->add_option("--limit", job.limit, "Check the first N images of the input");
  cmd->add_option("--reference-limit", job.reference_limit,
                  "Calibrate on the first N reference images");
  cmd->add_option("--encoder", job.encoder,
                  "Encoder package for memorisation/authenticity/drift/class change, or none")
      ->capture_default_str();
  cmd->add_option("--device", flags->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--batch", job.batch, "Images decoded, analysed and embedded together")
      ->capture_default_str();
  cmd->add_option("--percentile", job.default_percentile,
                  "Flag a score beyond this percentile of the reference's scores")
      ->capture_default_str();
  cmd->add_option("--thresholds", job.thresholds,
                  "Per-detector overrides, e.g. blur=p95,memorisation=0.97 (pNN: percentile; "
                  "a number: absolute threshold)");
  cmd->add_option("--near-duplicate-distance", job.duplicates.max_distance,
                  "pHash Hamming distance that counts as a near duplicate")
      ->capture_default_str();
  cmd->add_option("--max-megapixels", job.max_megapixels,
                  "Refuse images larger than this (decompression bombs)")
      ->capture_default_str();
  cmd->add_flag("--json", flags->json, "Print a JSON summary (thresholds, flagged counts)");
  cmd->add_flag("--strict", flags->strict, "Exit 1 if any input was unreadable");
  return [cmd, flags]() {
    if (!cmd->parsed()) return -1;
    auto usage = [](const std::string& message) {
      std::cerr << "synthlens detect: " << message << std::endl;
      return kExitUsage;
    };
    auto device = Device::Parse(flags->device);
    if (!device.ok()) return usage("--device: " + device.error());
    flags->job.device = *device;
    if (std::string problem = flags->job.Check(); !problem.empty()) return usage(problem);

    ProgressBar bar("detect");
    int64_t issues = 0;
    auto result = RunDetectJob(flags->job, bar.Callback(), [&](const SourceIssue& issue) {
      bar.Finish();
      ++issues;
      std::cerr << "skipped: " << issue.file << ": " << issue.reason << std::endl;
    });
    bar.Finish();
    if (!result.ok()) {
      std::cerr << "synthlens detect: " << result.error() << std::endl;
      return result.error().rfind("--thresholds", 0) == 0 ? kExitUsage : kExitFailure;
    }
    auto lines = WriteDetectCsv(*result, flags->out);
    if (!lines.ok()) {
      std::cerr << "synthlens detect: " << lines.error() << std::endl;
      return kExitFailure;
    }
    if (flags->json) std::cout << DetectSummaryJson(*result) << std::endl;
    int64_t any = 0;
    for (const auto& row : result->flags) {
      for (uint8_t f : row) {
        if (f) {
          ++any;
          break;
        }
      }
    }
    std::cerr << "detect: " << result->ids.size() << " images, " << result->detectors.size()
              << " detectors, " << any << " image(s) flagged by at least one; calibrated on "
              << result->reference_count << " reference images; " << *lines
              << " rows written to " << flags->out << ", " << result->skipped
              << " unreadable input(s) skipped" << std::endl;
    if (flags->strict && result->skipped > 0) return kExitFailure;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
