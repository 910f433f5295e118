#include <fstream>
#include <iterator>
#include <iostream>
#include <sstream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/train/simclr_trainer.h"

namespace synthlens::cli {
namespace {

// The invocation as typed (argv joined; program name shortened to "synthlens"), recorded in
// model.json as provenance. Empty where /proc is not available.
std::string CommandLine() {
  std::ifstream in("/proc/self/cmdline", std::ios::binary);
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ostringstream out;
  size_t start = 0;
  bool first = true;
  while (start < all.size()) {
    size_t end = all.find('\0', start);
    if (end == std::string::npos) end = all.size();
    std::string arg = all.substr(start, end - start);
    if (first) arg = "synthlens";
    if (!first) out << ' ';
    out << arg;
    first = false;
    start = end + 1;
  }
  return out.str();
}

}  // namespace

CommandRunner RegisterTrainEncoderCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "train-encoder",
      "Train the 28x28 SimCLR encoder (NT-Xent, the simclr recipe) and write a model package");
  auto o = std::make_shared<SimclrTrainOptions>();
  auto limit = std::make_shared<int64_t>(-1);
  cmd->add_option("--input", o->input, "SRC: fashion-mnist:train, folder, IDX or .csv")
      ->capture_default_str();
  cmd->add_option("--out", o->out_dir, "Model package folder (model.json + encoder.pt)")
      ->required();
  cmd->add_option("--epochs", o->epochs, "Total epochs (with --resume: up to this many)")
      ->capture_default_str();
  cmd->add_option("--batch", o->batch, "Images per step (2 views each)")->capture_default_str();
  cmd->add_option("--lr", o->lr, "Adam peak learning rate (warm-up, then cosine to 0)")
      ->capture_default_str();
  cmd->add_option("--warmup-epochs", o->warmup_epochs, "Linear warm-up length in epochs")
      ->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "Adam L2 weight decay")->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "NT-Xent temperature")->capture_default_str();
  cmd->add_option("--recipe", o->recipe, "Augmentation recipe for the two views")
      ->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed: the same command gives the same weights")
      ->capture_default_str();
  cmd->add_option("--checkpoint", o->checkpoint, "Checkpoint file (default: OUT.ckpt)");
  cmd->add_flag("--resume", o->resume,
                "Continue from the checkpoint; with --epochs <= its epochs, just export the package");
  cmd->add_option("--stop-after-epochs", o->stop_after_epochs,
                  "Stop once N epochs are done (checkpoint kept, no package; the --epochs "
                  "schedule is kept for a later --resume)");
  cmd->add_option("--limit", *limit, "Train on the first N images of SRC");
  return [cmd, o, limit]() {
    if (!cmd->parsed()) return -1;
    o->source.limit = *limit;
    o->command_line = CommandLine();
    if (const std::string problem = o->Validate(); !problem.empty()) {
      std::cerr << "synthlens train-encoder: " << problem << std::endl;
      return kExitUsage;
    }
    ProgressBar bar("train-encoder");
    auto summary = TrainSimclrEncoder(*o, bar.Callback());
    bar.Finish();
    if (!summary.ok()) {
      std::cerr << "synthlens train-encoder: " << summary.error() << std::endl;
      return kExitFailure;
    }
    if (summary->cancelled) {
      std::cerr << "train-encoder: interrupted after " << summary->steps_done
                << " steps; checkpoint saved to " << summary->checkpoint
                << " (continue with the same command and --resume)" << std::endl;
      return kExitFailure;
    }
    if (summary->stopped) {
      std::cerr << "train-encoder: stopped after epoch " << summary->epochs_done << " of "
                << o->epochs << " as asked; checkpoint " << summary->checkpoint
                << " (continue with --resume)" << std::endl;
      return kExitOk;
    }
    std::cerr << "train-encoder: " << summary->epochs_done << " epochs on " << summary->images
              << " images, final loss " << summary->last_epoch_loss << ", "
              << static_cast<int>(summary->seconds) << " s; package written to " << o->out_dir
              << " (checkpoint " << summary->checkpoint << ")" << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
