#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "core/io/image_source.h"
#include "core/train/diffusion_unet.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// Options of `synthlens train-diffusion`: a class- (and optionally embedding-) conditioned
// pixel-space DDPM (eps prediction, linear betas, T = 1000) with condition dropout for
// classifier-free guidance, AdamW + linear warmup, EMA weights, checkpoints and resume.
struct DiffusionTrainOptions {
  std::string input = "fashion-mnist:train";
  SourceOptions source;           // limit, decode options
  std::string out_dir;            // the model package written (model.json + denoiser.pt)
  std::string checkpoint;         // empty: OUT/checkpoint.pt
  bool resume = false;            // continue from `checkpoint` (fails if it does not exist)
  // Semantic embeddings, one row per image of `input` in source order (float32 .npy, N x E),
  // e.g. written by `synthlens embed`. Empty: no embedding conditioning (emb_mask always 0).
  std::string embeddings;
  std::string encoder_name;       // provenance for model.json (package name of the encoder)
  std::string encoder_hash;       // provenance (hash of the encoder weights)

  int64_t steps = 0;              // total optimiser steps; 0: derive from epochs
  int epochs = 0;                 // used when steps == 0 (default 20 when both are 0)
  int batch = 64;
  double lr = 3e-4;
  double weight_decay = 0.0;
  int64_t warmup_steps = 500;
  double grad_clip = 1.0;
  double ema_decay = 0.999;
  double class_drop = 0.1;        // p(class -> null class)
  double emb_drop = 0.1;          // p(emb_mask = 0), independent of class_drop
  uint64_t seed = 0;
  double checkpoint_minutes = 10.0;  // checkpoint (and package) every N minutes ...
  int64_t checkpoint_steps = 0;      // ... and/or every N steps (0: off)
  int64_t log_every = 100;        // a status line every N steps
  std::string command_line;       // provenance for model.json
  DiffusionUNetConfig model;

  // Empty when valid, else the problem naming the option (as a CLI flag).
  std::string Validate() const;
  std::string CheckpointPath() const;
};

struct DiffusionTrainSummary {
  int64_t images = 0;
  int64_t start_step = 0;      // > 0 when resumed
  int64_t steps_done = 0;      // step counter at the end
  int64_t total_steps = 0;
  double final_loss = 0.0;     // mean loss of the last min(500, steps) steps run
  double seconds = 0.0;        // training time over all runs (resumes included)
  int64_t parameters = 0;
  bool cancelled = false;
  bool embedding_conditioned = false;
  std::string denoiser_path;
  std::string checkpoint_path;
};

// Trains and writes OUT/model.json + OUT/denoiser.pt (EMA weights), checkpointing atomically on
// schedule, on completion and on cancellation (`progress` returning false). `log` receives
// human-readable status lines (loss, it/s, ETA). Failures to read data or a checkpoint return an
// error; contract violations throw synthlens::Error.
Result<DiffusionTrainSummary> RunDiffusionTraining(
    const DiffusionTrainOptions& options, const ProgressFn& progress,
    const std::function<void(const std::string&)>& log);

}  // namespace synthlens
