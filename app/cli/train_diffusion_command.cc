// synthlens train-diffusion: trains the class-/embedding-conditioned pixel-space DDPM and writes
// a diffusion model package (docs/cli.md, docs/models.md).
#include <unistd.h>

#include <filesystem>
#include <iostream>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/infer/encoder.h"
#include "core/infer/model_package.h"
#include "core/io/npy.h"
#include "core/train/diffusion_trainer.h"
#include "core/util/random.h"

namespace synthlens::cli {
namespace {

namespace fs = std::filesystem;

// The command line as recorded in model.json (flags that were given, in canonical form).
std::string Provenance(const CLI::App* cmd, const DiffusionTrainOptions& o,
                       const std::string& encoder) {
  std::ostringstream s;
  s << "synthlens train-diffusion --input " << o.input << " --out " << o.out_dir;
  if (!encoder.empty()) s << " --encoder " << encoder;
  if (!o.embeddings.empty()) s << " --embeddings " << o.embeddings;
  if (o.steps > 0) s << " --steps " << o.steps;
  if (o.epochs > 0) s << " --epochs " << o.epochs;
  s << " --batch " << o.batch << " --lr " << o.lr << " --seed " << o.seed;
  if (o.class_drop != 0.1 || o.emb_drop != 0.1) {
    s << " --class-drop " << o.class_drop << " --emb-drop " << o.emb_drop;
  }
  if (o.source.limit >= 0) s << " --limit " << o.source.limit;
  return s.str();
}

// Embeds every image of --input (in source order) with the encoder package into `cache`.
std::string EmbedTrainingImages(const DiffusionTrainOptions& o, const std::string& encoder_pkg,
                                const std::string& cache) {
  auto source = OpenImageSource(o.input, o.source);
  if (!source.ok()) return source.error();
  auto enc = Encoder::Open(encoder_pkg, Device{});  // CPU
  if (!enc.ok()) return "--encoder: " + enc.error();
  std::cerr << "train-diffusion: embedding " << (*source)->size() << " images with "
            << encoder_pkg << " (once; cached in " << cache << ")" << std::endl;
  ProgressBar bar("embed");
  auto set = EmbedSource(**source, **enc, bar.Callback(), [](const SourceIssue& issue) {
    std::cerr << "skipped: " << issue.file << ": " << issue.reason << std::endl;
  });
  bar.Finish();
  if (!set.ok()) return set.error();
  if (set->cancelled) return "cancelled while embedding the training images";
  if (set->skipped > 0 || set->matrix.rows != (*source)->size()) {
    return "could not embed every training image (" + std::to_string(set->skipped) +
           " unreadable); pass --embeddings with one row per image";
  }
  std::error_code ec;
  fs::create_directories(fs::path(cache).parent_path(), ec);
  return WriteNpy(cache, set->matrix);
}

}  // namespace

CommandRunner RegisterTrainDiffusionCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train-diffusion",
      "Train the class- (and embedding-) conditioned pixel-space diffusion model");
  auto o = std::make_shared<DiffusionTrainOptions>();
  auto encoder = std::make_shared<std::string>();
  auto cond_drop = std::make_shared<double>(-1.0);
  auto limit = std::make_shared<int64_t>(-1);
  cmd->add_option("--input", o->input, "SRC (labelled): fashion-mnist:train, a folder, IDX, .csv")
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir, "Package folder to write (model.json + denoiser.pt)")
      ->required();
  cmd->add_option("--encoder", *encoder,
                  "Encoder package whose embeddings of --input condition the model (embedded "
                  "once, cached beside the checkpoint; with --embeddings: provenance only)");
  cmd->add_option("--embeddings", o->embeddings,
                  "EMB.npy with one row per image of --input (e.g. from `synthlens embed`)");
  cmd->add_option("--steps", o->steps, "Optimiser steps in total (overrides --epochs)");
  cmd->add_option("--epochs", o->epochs, "Epochs when --steps is not given (default 20)");
  cmd->add_option("--batch", o->batch, "Batch size")->capture_default_str();
  cmd->add_option("--lr", o->lr, "AdamW learning rate (after linear warmup)")
      ->capture_default_str();
  cmd->add_option("--warmup", o->warmup_steps, "Warmup steps")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "AdamW weight decay")->capture_default_str();
  cmd->add_option("--ema", o->ema_decay, "EMA decay of the saved weights")->capture_default_str();
  cmd->add_option("--cond-drop", *cond_drop,
                  "Condition dropout for classifier-free guidance: sets --class-drop and "
                  "--emb-drop (each drawn independently)");
  cmd->add_option("--class-drop", o->class_drop, "p(class -> null class)")->capture_default_str();
  cmd->add_option("--emb-drop", o->emb_drop, "p(embedding masked out)")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed (weights, batches, noise)")->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default OUT/checkpoint.pt)");
  cmd->add_flag("--resume", o->resume, "Continue from --checkpoint");
  cmd->add_option("--checkpoint-minutes", o->checkpoint_minutes,
                  "Checkpoint every N minutes (0: off)")
      ->capture_default_str();
  cmd->add_option("--checkpoint-steps", o->checkpoint_steps, "Checkpoint every N steps (0: off)")
      ->capture_default_str();
  cmd->add_option("--log-every", o->log_every, "A status line every N steps")
      ->capture_default_str();
  cmd->add_option("--limit", *limit, "Train on the first N images of SRC");
  return [cmd, o, encoder, cond_drop, limit]() {
    if (!cmd->parsed()) return -1;
    if (*cond_drop >= 0) {
      if (cmd->count("--class-drop") == 0) o->class_drop = *cond_drop;
      if (cmd->count("--emb-drop") == 0) o->emb_drop = *cond_drop;
    }
    o->source.limit = *limit;
    if (std::string problem = o->Validate(); !problem.empty()) {
      std::cerr << "synthlens train-diffusion: " << problem << std::endl;
      return kExitUsage;
    }
    if (!encoder->empty()) {
      auto manifest = ReadModelPackage(*encoder, "encoder");
      if (!manifest.ok()) {
        std::cerr << "synthlens train-diffusion: --encoder: " << manifest.error() << std::endl;
        return kExitFailure;
      }
      // The folder name is what the samplers resolve (next to the package, then by name).
      const fs::path dir = fs::path(manifest->dir).lexically_normal();
      o->encoder_name = dir.filename().empty() ? dir.parent_path().filename().string()
                                               : dir.filename().string();
      o->encoder_hash = manifest->hash;
      const std::string* hash = &manifest->hash;
      if (o->embeddings.empty()) {
        // Embed the training images once and cache them beside the checkpoint.
        const fs::path ckpt_dir = fs::path(o->CheckpointPath()).parent_path();
        const std::string cache =
            (ckpt_dir / ("embeddings-" + hash->substr(0, 16) + "-" +
                         std::to_string(HashString(o->input + "|" + std::to_string(*limit))) +
                         ".npy"))
                .string();
        if (!fs::exists(cache)) {
          std::string err = EmbedTrainingImages(*o, *encoder, cache);
          if (!err.empty()) {
            std::cerr << "synthlens train-diffusion: " << err << std::endl;
            return kExitFailure;
          }
        } else {
          std::cerr << "train-diffusion: using cached embeddings " << cache << std::endl;
        }
        o->embeddings = cache;
      }
    }
    o->command_line = Provenance(cmd, *o, *encoder);
    const bool tty = ::isatty(STDERR_FILENO) == 1;
    ProgressBar bar("train-diffusion");
    auto summary = RunDiffusionTraining(*o, bar.Callback(), [&](const std::string& line) {
      if (tty) std::cerr << "\r\033[K";
      std::cerr << line << std::endl;
    });
    bar.Finish();
    if (!summary.ok()) {
      std::cerr << "synthlens train-diffusion: " << summary.error() << std::endl;
      return kExitFailure;
    }
    std::cerr << "train-diffusion: " << (summary->cancelled ? "stopped" : "done") << " at step "
              << summary->steps_done << "/" << summary->total_steps << ", loss "
              << summary->final_loss << ", " << static_cast<int64_t>(summary->seconds)
              << " s of training; package " << o->out_dir << ", checkpoint "
              << summary->checkpoint_path << std::endl;
    if (summary->cancelled) {
      std::cerr << "resume with: " << o->command_line << " --resume" << std::endl;
      return kExitFailure;  // CLI.md: stopped before the end is not success
    }
    return kExitOk;
  };
}

}  // namespace synthlens::cli
