#include <iostream>

#include "app/cli/commands.h"
#include "core/jobs/augment_job.h"

namespace synthlens::cli {

CommandRunner RegisterAugmentCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("augment", "Classic SSL views of each source image");
  auto options = std::make_shared<AugmentJobOptions>();
  auto strict = std::make_shared<bool>(false);
  auto max_mp = std::make_shared<double>(100.0);
  cmd->add_option("--input", options->input, "SRC: folder, fashion-mnist:train|test, IDX or .csv")
      ->required();
  cmd->add_option("--recipe", options->recipe, "simclr, byol, mocov2 or a recipe .json file")
      ->capture_default_str();
  cmd->add_option("--views", options->views, "Views per source image (K)")->capture_default_str();
  cmd->add_option("--seed", options->seed, "Seed: the same command gives the same bytes")
      ->capture_default_str();
  cmd->add_option("--out", options->out_dir, "Output folder (PNGs + manifest.jsonl)")->required();
  cmd->add_option("--size", options->size, "Output side in pixels (0: source size)")
      ->capture_default_str();
  cmd->add_option("--limit", options->limit, "Take the first N images of SRC");
  cmd->add_option("--project", options->project_path,
                  "Also record every view's provenance in this project file");
  cmd->add_option("--max-megapixels", *max_mp, "Refuse images larger than this (decompression bombs)")
      ->capture_default_str();
  cmd->add_flag("--strict", *strict, "Exit 1 if any input was unreadable");
  return [cmd, options, strict, max_mp]() {
    if (!cmd->parsed()) return -1;
    if (const std::string problem = options->Validate(); !problem.empty()) {
      std::cerr << "synthlens augment: " << problem << std::endl;
      return kExitUsage;
    }
    if (*max_mp <= 0) {
      std::cerr << "synthlens augment: --max-megapixels must be positive" << std::endl;
      return kExitUsage;
    }
    options->source.decode.max_pixels = static_cast<int64_t>(*max_mp * 1e6);
    return RunViewJobCommand("augment", options->out_dir, *strict,
                             [&](const ProgressFn& progress, const IssueFn& on_issue) {
                               return RunAugmentJob(*options, progress, on_issue);
                             });
  };
}

}  // namespace synthlens::cli
