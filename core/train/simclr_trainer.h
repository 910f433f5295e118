#pragma once

#include <cstdint>
#include <string>

#include "core/io/image_source.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// SimCLR training of the Fashion-MNIST-sized encoder (1x28x28 -> 128-d), with NT-Xent on two views
// per image drawn by the project's own augmentation recipe (MakeView, view index 2*epoch + v, so
// every epoch sees fresh views and the same command gives the same weights).
struct SimclrTrainOptions {
  std::string input = "fashion-mnist:train";  // SRC; images are converted to grey (ITU-R 601)
  SourceOptions source;                        // limit etc.
  std::string out_dir;                         // model package written at the end
  std::string checkpoint;                      // empty: OUT_DIR.ckpt (beside the package)
  std::string recipe = "simclr";               // built-in name or recipe .json
  int epochs = 20;
  int batch = 256;
  double lr = 2e-3;            // Adam, cosine decay to 0 after a linear warm-up
  double warmup_epochs = 1.0;  // linear warm-up length in epochs
  double weight_decay = 1e-6;
  double temperature = 0.5;
  uint64_t seed = 0;
  // Continue from the checkpoint (its optimizer state, epoch and step). With --epochs no larger
  // than the checkpoint's epoch count nothing is trained: the package is exported from it.
  bool resume = false;
  // Stop once this many epochs are complete (checkpoint saved, no package), keeping --epochs'
  // learning-rate schedule; a later --resume continues. 0: off.
  int stop_after_epochs = 0;
  std::string command_line;  // recorded in model.json as provenance
  // Empty when valid, else a message naming the option.
  std::string Validate() const;
  std::string CheckpointPath() const;
};

struct SimclrTrainSummary {
  int64_t images = 0;           // training images
  int epochs_done = 0;          // completed epochs (including those before a resume)
  int64_t steps_done = 0;       // optimizer steps, all runs together
  double last_epoch_loss = 0;   // mean NT-Xent over the last completed epoch
  double seconds = 0;           // training wall time, all runs together
  bool cancelled = false;       // stopped by the progress callback (checkpoint saved)
  bool stopped = false;         // stopped at stop_after_epochs (checkpoint saved)
  bool package_written = false;
  std::string checkpoint;
};

// Trains (or resumes), checkpointing atomically after every epoch and on cancellation, and writes
// OUT_DIR/model.json + OUT_DIR/encoder.pt when all epochs are done. progress(fraction) returning
// false stops after the current step. Expected failures (bad SRC, unreadable/mismatched
// checkpoint) are returned as errors.
Result<SimclrTrainSummary> TrainSimclrEncoder(const SimclrTrainOptions& options,
                                              const ProgressFn& progress);

}  // namespace synthlens
