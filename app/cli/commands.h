#pragma once

#include <CLI/CLI.hpp>

#include "core/jobs/job.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens::cli {

// Exit statuses of CLI.md.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Each command registers its sub-command and flags; the returned function runs it after parsing
// and returns the exit status.
using CommandRunner = std::function<int()>;

// Runs a view-writing job (augment, generate) with a progress bar, prints each skipped input and
// the summary line, and maps the outcome to an exit status (CLI.md: --strict fails on skips).
using ViewJobFn = std::function<Result<JobSummary>(const ProgressFn&, const IssueFn&)>;
int RunViewJobCommand(const std::string& name, const std::string& out_dir, bool strict,
                      const ViewJobFn& job);

CommandRunner RegisterInfoCommand(CLI::App& app);
CommandRunner RegisterAugmentCommand(CLI::App& app);
CommandRunner RegisterBenchCommand(CLI::App& app);
CommandRunner RegisterGenerateCommand(CLI::App& app);
CommandRunner RegisterEmbedCommand(CLI::App& app);
CommandRunner RegisterTrainEncoderCommand(CLI::App& app);
CommandRunner RegisterProbeCommand(CLI::App& app);
CommandRunner RegisterCompareCommand(CLI::App& app);
CommandRunner RegisterTrainDiffusionCommand(CLI::App& app);
CommandRunner RegisterProjectCommand(CLI::App& app);
CommandRunner RegisterLabelsCommand(CLI::App& app);
CommandRunner RegisterDetectCommand(CLI::App& app);
CommandRunner RegisterBiasCommand(CLI::App& app);
CommandRunner RegisterReviewCommand(CLI::App& app);
CommandRunner RegisterFigureCommand(CLI::App& app);
CommandRunner RegisterReportCommand(CLI::App& app);

}  // namespace synthlens::cli
