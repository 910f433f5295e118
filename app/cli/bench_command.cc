#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "core/augment/augment_bench.h"
#include "core/augment/recipe.h"
#include "core/util/parallel.h"

namespace synthlens::cli {

CommandRunner RegisterBenchCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Throughput benchmarks (see docs/benchmarks.md)");
  cmd->require_subcommand(1);
  auto* augment = cmd->add_subcommand("augment", "Classic views per second on 256x256 sources");
  struct Flags {
    std::string recipe = "simclr";
    int size = 224;
    int threads = 1;
    int views = 1000;
    bool json = false;
  };
  auto flags = std::make_shared<Flags>();
  augment->add_option("--recipe", flags->recipe, "Recipe name or .json file")->capture_default_str();
  augment->add_option("--size", flags->size, "Output side in pixels")->capture_default_str();
  augment->add_option("--threads", flags->threads, "Worker threads")->capture_default_str();
  augment->add_option("--views", flags->views, "Views to time")->capture_default_str();
  augment->add_flag("--json", flags->json, "Print {\"views_per_s\": ...}");
  return [augment, flags]() {
    if (!augment->parsed()) return -1;
    if (flags->size < 8 || flags->size > 4096 || flags->threads < 1 || flags->views < 1) {
      std::cerr << "synthlens bench augment: --size must be 8..4096, --threads and --views positive"
                << std::endl;
      return kExitUsage;
    }
    auto recipe = LoadRecipe(flags->recipe);
    if (!recipe.ok()) {
      std::cerr << "synthlens bench augment: " << recipe.error() << std::endl;
      return kExitFailure;
    }
    const double rate =
        BenchAugmentViewsPerSecond(*recipe, flags->size, flags->threads, flags->views);
    SetNumThreads(0);
    if (flags->json) {
      std::cout << nlohmann::json{{"views_per_s", rate},
                                  {"recipe", recipe->name},
                                  {"size", flags->size},
                                  {"threads", flags->threads},
                                  {"views", flags->views}}
                       .dump()
                << std::endl;
    } else {
      std::cout << recipe->name << " " << flags->size << " px, " << flags->threads
                << " thread(s): " << rate << " views/s" << std::endl;
    }
    return kExitOk;
  };
}

}  // namespace synthlens::cli
