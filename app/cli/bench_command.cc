#include <chrono>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "core/augment/augment_bench.h"
#include "core/augment/recipe.h"
#include "core/infer/device.h"
#include "core/infer/generator.h"
#include "core/util/random.h"
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
  auto* generate = cmd->add_subcommand(
      "generate", "Generative views per second: K views of one 28x28 image (interactive case)");
  struct GenFlags {
    std::string model = "builtin";
    std::string device = "cpu";
    GenerateOptions options;
    int repeats = 5;
    int threads = 0;
    bool json = false;
  };
  auto gen = std::make_shared<GenFlags>();
  gen->options.views = 8;
  gen->options.steps = 25;
  gen->options.batch = 8;
  generate->add_option("--model", gen->model, "Diffusion package or builtin")->capture_default_str();
  generate->add_option("--mode", gen->options.mode, "img2img | instance | multipositive")
      ->capture_default_str();
  generate->add_option("--views", gen->options.views, "Views per call (K)")->capture_default_str();
  generate->add_option("--steps", gen->options.steps, "Sampling steps")->capture_default_str();
  generate->add_option("--strength", gen->options.strength, "img2img strength")
      ->capture_default_str();
  generate->add_option("--guidance", gen->options.guidance, "Guidance scale")
      ->capture_default_str();
  generate->add_option("--batch", gen->options.batch, "Views per network batch")
      ->capture_default_str();
  generate->add_option("--device", gen->device, "cpu or cuda[:N]")->capture_default_str();
  generate->add_option("--precision", gen->options.precision, "fp32 | fp16 | bf16")
      ->capture_default_str();
  generate->add_option("--threads", gen->threads, "Worker threads (0: all cores)")
      ->capture_default_str();
  generate->add_option("--repeats", gen->repeats, "Timed calls")->capture_default_str();
  generate->add_flag("--json", gen->json, "Print one JSON object");

  return [augment, flags, generate, gen]() {
    if (generate->parsed()) {
      if (std::string problem = gen->options.Validate(); !problem.empty() || gen->repeats < 1) {
        std::cerr << "synthlens bench generate: " << (problem.empty() ? "--repeats must be positive" : problem)
                  << std::endl;
        return kExitUsage;
      }
      auto device = Device::Parse(gen->device);
      if (!device.ok()) {
        std::cerr << "synthlens bench generate: --device: " << device.error() << std::endl;
        return kExitUsage;
      }
      if (std::string error = ValidateDevice(*device); !error.empty()) {
        std::cerr << "synthlens bench generate: " << error << std::endl;
        return kExitFailure;
      }
      if (gen->threads > 0) {
        SetNumThreads(gen->threads);
        SetBackendThreads(gen->threads);
      }
      auto generator = Generator::Open(gen->model, *device);
      if (!generator.ok()) {
        std::cerr << "synthlens bench generate: " << generator.error() << std::endl;
        return kExitFailure;
      }
      const int res = (*generator)->manifest().input.resolution;
      cv::Mat source(res, res, CV_8UC3);
      Rng rng(0);
      for (int y = 0; y < res; ++y)
        for (int x = 0; x < res; ++x) {
          const auto v = static_cast<uint8_t>(rng.UniformInt(0, 255));
          source.at<cv::Vec3b>(y, x) = cv::Vec3b(v, v, v);
        }
      auto run = [&]() {
        return (*generator)->Generate({source}, {"bench:0"}, {3}, gen->options, nullptr);
      };
      if (auto warm = run(); !warm.ok()) {
        std::cerr << "synthlens bench generate: " << warm.error() << std::endl;
        return kExitFailure;
      }
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < gen->repeats; ++r) run();
      const double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double latency = seconds / gen->repeats;
      const double rate = gen->options.views / latency;
      if (gen->json) {
        std::cout << nlohmann::json{{"views_per_s", rate},
                                    {"latency_s", latency},
                                    {"views", gen->options.views},
                                    {"steps", gen->options.steps},
                                    {"mode", gen->options.mode},
                                    {"strength", gen->options.strength},
                                    {"guidance", gen->options.guidance},
                                    {"batch", gen->options.batch},
                                    {"threads", NumThreads()},
                                    {"device", device->ToString()},
                                    {"model", (*generator)->manifest().name}}
                         .dump()
                  << std::endl;
      } else {
        std::cout << gen->options.views << " views in " << latency << " s (" << rate
                  << " views/s)" << std::endl;
      }
      return kExitOk;
    }
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
