// synthlens bias: the per-set bias report of a synthetic set against a real one (docs/bias.md).
#include <iostream>
#include <memory>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/jobs/bias_job.h"
#include "core/util/file_util.h"

namespace synthlens::cli {

CommandRunner RegisterBiasCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "bias", "Bias report of a synthetic set against a real one: class balance, statistic "
              "shifts, diversity and mode collapse");
  struct Flags {
    BiasJobOptions job;
    std::string device = "cpu";
    std::string out;
    bool json = false;
    bool strict = false;
  };
  auto flags = std::make_shared<Flags>();
  BiasJobOptions& job = flags->job;
  cmd->add_option("--real", job.real, "SRC of the real set (its labels train the class probe)")
      ->required();
  cmd->add_option("--synthetic", job.synthetic, "SRC of the synthetic set")->required();
  cmd->add_option("--real-limit", job.real_limit, "Take the first N real images");
  cmd->add_option("--synthetic-limit", job.synthetic_limit, "Take the first N synthetic images");
  cmd->add_option("--encoder", job.encoder, "Encoder package for the embedding parts, or none")
      ->capture_default_str();
  cmd->add_option("--device", flags->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--batch", job.batch, "Images decoded and embedded together")
      ->capture_default_str();
  cmd->add_option("--bins", job.report.histogram_bins, "Histogram bins per statistic")
      ->capture_default_str();
  cmd->add_option("--alpha", job.report.alpha, "Flag a test with p below this")
      ->capture_default_str();
  cmd->add_option("--min-class-rows", job.report.min_class_rows,
                  "Per-class diversity needs this many images of the class on both sides")
      ->capture_default_str();
  cmd->add_option("--max-megapixels", job.max_megapixels,
                  "Refuse images larger than this (decompression bombs)")
      ->capture_default_str();
  cmd->add_option("--out", flags->out, "Also write the report (JSON) to this file");
  cmd->add_flag("--json", flags->json, "Print the whole report as JSON on stdout");
  cmd->add_flag("--strict", flags->strict, "Exit 1 if any input was unreadable");
  return [cmd, flags]() {
    if (!cmd->parsed()) return -1;
    auto device = Device::Parse(flags->device);
    if (!device.ok()) {
      std::cerr << "synthlens bias: --device: " << device.error() << std::endl;
      return kExitUsage;
    }
    flags->job.device = *device;
    if (std::string problem = flags->job.Check(); !problem.empty()) {
      std::cerr << "synthlens bias: " << problem << std::endl;
      return kExitUsage;
    }
    ProgressBar bar("bias");
    int64_t skipped = 0;
    auto report = RunBiasJob(flags->job, bar.Callback(), [&](const SourceIssue& issue) {
      bar.Finish();
      ++skipped;
      std::cerr << "skipped: " << issue.file << ": " << issue.reason << std::endl;
    });
    bar.Finish();
    if (!report.ok()) {
      std::cerr << "synthlens bias: " << report.error() << std::endl;
      return kExitFailure;
    }
    if (!flags->out.empty()) {
      if (std::string problem = WriteFileAtomic(flags->out, *report + "\n"); !problem.empty()) {
        std::cerr << "synthlens bias: " << problem << std::endl;
        return kExitFailure;
      }
    }
    const auto j = nlohmann::json::parse(*report);
    if (flags->json) {
      std::cout << *report << std::endl;
    } else {
      // A short human summary: the flagged tests.
      // A short human summary: every test with its p-value, flagged ones marked.
      auto p_text = [](const nlohmann::json& v) {
        return v.is_number() ? std::to_string(v.get<double>()) : std::string("n/a");
      };
      if (j.contains("class_balance") && j["class_balance"].contains("chi_square")) {
        const auto& t = j["class_balance"]["chi_square"];
        std::cout << "class balance: chi-square p " << p_text(t["p_value"])
                  << (t.value("flag", false) ? "  FLAGGED" : "") << std::endl;
      }
      if (j.contains("shifts") && j["shifts"].is_object()) {
        for (const auto& [name, s] : j["shifts"].items()) {
          if (!s.contains("ks_statistic")) continue;
          std::cout << "shift of " << name << ": KS " << s["ks_statistic"].get<double>()
                    << ", p " << p_text(s["p_value"]) << (s.value("flag", false) ? "  FLAGGED" : "")
                    << std::endl;
        }
      }
    }
    std::cerr << "bias: report of " << flags->job.synthetic << " against " << flags->job.real
              << (flags->out.empty() ? "" : " written to " + flags->out) << ", " << skipped
              << " unreadable input(s) skipped" << std::endl;
    if (flags->strict && skipped > 0) return kExitFailure;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
