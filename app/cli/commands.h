#pragma once

#include <CLI/CLI.hpp>

namespace synthlens::cli {

// Exit statuses of CLI.md.
constexpr int kExitOk = 0;
constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;

// Each command registers its sub-command and flags; the returned function runs it after parsing
// and returns the exit status.
using CommandRunner = std::function<int()>;

CommandRunner RegisterInfoCommand(CLI::App& app);
CommandRunner RegisterAugmentCommand(CLI::App& app);
CommandRunner RegisterBenchCommand(CLI::App& app);
CommandRunner RegisterGenerateCommand(CLI::App& app);
CommandRunner RegisterEmbedCommand(CLI::App& app);
CommandRunner RegisterTrainEncoderCommand(CLI::App& app);
CommandRunner RegisterProbeCommand(CLI::App& app);
CommandRunner RegisterTrainDiffusionCommand(CLI::App& app);

}  // namespace synthlens::cli
