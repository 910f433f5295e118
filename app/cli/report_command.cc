// synthlens report: the one-click report (docs/figures.md): DIR/index.html (self-contained),
// DIR/report.pdf and DIR/report.json. Built with the Qt renderer (figure_unavailable_command.cc
// says so in builds without Qt).
#include <iostream>
#include <memory>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/jobs/report_job.h"
#include "ui/figures/report_writer.h"

namespace synthlens::cli {

CommandRunner RegisterReportCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "report", "One-click report of a synthetic set against a real one: DIR/index.html, DIR/report.pdf, DIR/report.json");
  struct Flags {
    ReportOptions options;
    std::string out;
  };
  auto f = std::make_shared<Flags>();
  ReportOptions& o = f->options;
  cmd->add_option("--real", o.real, "SRC of the real set")->required();
  cmd->add_option("--synthetic", o.synthetic, "SRC of the synthetic set")->required();
  cmd->add_option("--project", o.project, "Project with hand labels (counts, examples, the learned detector's AUROC)");
  cmd->add_option("--model", o.model, "Diffusion package for the comparison grids and the sweep (none: skip them)")
      ->capture_default_str();
  cmd->add_option("--encoder", o.encoder, "Encoder package for embeddings, metrics and detectors")->capture_default_str();
  cmd->add_option("--device", o.device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--real-limit", o.real_limit, "First N real images (-1: all)")->capture_default_str();
  cmd->add_option("--synthetic-limit", o.synthetic_limit, "First N synthetic images (-1: all)")->capture_default_str();
  cmd->add_option("--sample", o.sample, "Images in the comparison grid (0: none)")->capture_default_str();
  cmd->add_option("--sweep-images", o.sweep_images, "Images of the strength sweep (0: no sweep)")->capture_default_str();
  cmd->add_option("--bootstrap", o.bootstrap, "Bootstrap rounds for metric intervals (0: none)")->capture_default_str();
  cmd->add_option("--method", o.method, "Projection of the embedding plot: pca, tsne, umap")->capture_default_str();
  cmd->add_option("--seed", o.seed, "Seed of every random choice")->capture_default_str();
  cmd->add_option("--out", f->out, "Output folder")->required();
  return [cmd, f]() {
    if (!cmd->parsed()) return -1;
    if (std::string problem = f->options.Validate(); !problem.empty()) {
      std::cerr << "synthlens report: " << problem << std::endl;
      return kExitUsage;
    }
    ProgressBar bar("report");
    auto report = BuildReport(f->options, bar.Callback());
    bar.Finish();
    if (!report.ok()) {
      std::cerr << "synthlens report: " << report.error() << std::endl;
      return kExitFailure;
    }
    for (const ReportSection& s : report->sections) {
      if (!s.error.empty()) std::cerr << "synthlens report: section " << s.id << " left out: " << s.error << std::endl;
    }
    if (std::string error = figures::WriteReport(*report, f->out); !error.empty()) {
      std::cerr << "synthlens report: " << error << std::endl;
      return kExitFailure;
    }
    for (const std::string& v : report->verdicts) std::cout << "- " << v << "\n";
    std::cerr << "wrote " << f->out << "/index.html, report.pdf, report.json (" << report->seconds << " s)" << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
