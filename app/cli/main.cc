// synthlens: the headless CLI (CLI.md). Links core only; never creates a QApplication.
#include <iostream>

#include "app/cli/commands.h"
#include "core/infer/device.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/version.h"

int main(int argc, char** argv) {
  using namespace synthlens;
  CLI::App app{"SynthLens: classic and generative SSL views, side by side", "synthlens"};
  app.set_version_flag("--version", SYNTHLENS_VERSION);
  app.require_subcommand(1);
  app.fallthrough();  // global options (--threads) may follow the sub-command
  int threads = 0;
  app.add_option("--threads", threads, "Worker threads for OpenCV and LibTorch (0: all cores)")
      ->check(CLI::Range(0, 1024));
  std::vector<cli::CommandRunner> commands = {
      cli::RegisterInfoCommand(app),
      cli::RegisterAugmentCommand(app),
      cli::RegisterBenchCommand(app),
      cli::RegisterGenerateCommand(app),
      cli::RegisterEmbedCommand(app),
      cli::RegisterTrainEncoderCommand(app),
      cli::RegisterProbeCommand(app),
      cli::RegisterCompareCommand(app),
      cli::RegisterTrainDiffusionCommand(app),
      cli::RegisterProjectCommand(app),
      cli::RegisterLabelsCommand(app),
      cli::RegisterDetectCommand(app),
      cli::RegisterBiasCommand(app),
      cli::RegisterReviewCommand(app),
      cli::RegisterFigureCommand(app),
      cli::RegisterReportCommand(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "synthlens: " << e.what() << "\nRun 'synthlens --help' for usage." << std::endl;
    return cli::kExitUsage;
  }
  SetNumThreads(threads);
  SetBackendThreads(threads);
  try {
    for (const auto& run : commands) {
      const int status = run();
      if (status >= 0) return status;
    }
  } catch (const std::exception& e) {
    std::cerr << "synthlens: " << e.what() << std::endl;
    return cli::kExitFailure;
  }
  return cli::kExitUsage;
}
