#include <iomanip>
#include <iostream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/infer/encoder.h"
#include "core/train/linear_probe.h"

namespace synthlens::cli {
namespace {

struct ProbeArgs {
  std::string train, test;
  std::string encoder = "builtin";
  std::string device = "cpu";
  int64_t limit = -1;
  int batch = 256;
  uint64_t seed = 0;
  bool json = false;
  bool strict = false;
};

// Embeds one source; unreadable images are reported and skipped. Fails with a message.
Result<EmbeddingSet> EmbedSpec(const std::string& spec, const Encoder& encoder, int64_t limit,
                               const std::string& label, int64_t* skipped) {
  SourceOptions source_options;
  source_options.limit = limit;
  auto source = OpenImageSource(spec, source_options);
  if (!source.ok()) return Result<EmbeddingSet>::Failure(source.error());
  ProgressBar bar(label);
  auto set = EmbedSource(**source, encoder, bar.Callback(), [&](const SourceIssue& issue) {
    bar.Finish();
    std::cerr << "skipped: " << issue.file << ": " << issue.reason << std::endl;
    ++*skipped;
  });
  bar.Finish();
  if (set.ok() && set->cancelled) return Result<EmbeddingSet>::Failure("cancelled");
  return set;
}

}  // namespace

CommandRunner RegisterProbeCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "probe", "Linear-probe top-1 of an encoder: logistic regression on train, scored on test");
  auto a = std::make_shared<ProbeArgs>();
  cmd->add_option("--train", a->train, "SRC with labels to fit the probe on")->required();
  cmd->add_option("--test", a->test, "SRC with labels to score it on")->required();
  cmd->add_option("--encoder", a->encoder, "builtin, a model package folder, or pixels")
      ->capture_default_str();
  cmd->add_option("--device", a->device, "cpu or cuda[:N] for the encoder")->capture_default_str();
  cmd->add_option("--batch", a->batch, "Images per encoder batch")->capture_default_str();
  cmd->add_option("--limit", a->limit, "Take the first N images of each SRC");
  cmd->add_option("--seed", a->seed, "Seed of the validation split that picks the weight decay")
      ->capture_default_str();
  cmd->add_flag("--json", a->json, "Print one JSON object on stdout");
  cmd->add_flag("--strict", a->strict, "Exit 1 if any input was unreadable");
  return [cmd, a]() {
    if (!cmd->parsed()) return -1;
    if (a->batch < 1) {
      std::cerr << "synthlens probe: --batch must be at least 1" << std::endl;
      return kExitUsage;
    }
    if (a->limit == 0 || a->limit < -1) {
      std::cerr << "synthlens probe: --limit must be positive" << std::endl;
      return kExitUsage;
    }
    auto device = Device::Parse(a->device);
    if (!device.ok()) {
      std::cerr << "synthlens probe: --device: " << device.error() << std::endl;
      return kExitUsage;
    }
    auto encoder = Encoder::Open(a->encoder, *device, a->batch);
    if (!encoder.ok()) {
      std::cerr << "synthlens probe: " << encoder.error() << std::endl;
      return kExitFailure;
    }
    int64_t skipped = 0;
    auto train = EmbedSpec(a->train, **encoder, a->limit, "embed train", &skipped);
    if (!train.ok()) {
      std::cerr << "synthlens probe: " << train.error() << std::endl;
      return kExitFailure;
    }
    auto test = EmbedSpec(a->test, **encoder, a->limit, "embed test", &skipped);
    if (!test.ok()) {
      std::cerr << "synthlens probe: " << test.error() << std::endl;
      return kExitFailure;
    }
    LinearProbeOptions options;
    options.seed = a->seed;
    ProgressBar bar("probe");
    auto result = RunLinearProbe(train->matrix, train->labels, test->matrix, test->labels, options,
                                 bar.Callback());
    bar.Finish();
    if (!result.ok()) {
      std::cerr << "synthlens probe: " << result.error() << std::endl;
      return kExitFailure;
    }
    const std::string encoder_name = (*encoder)->manifest().name.empty()
                                         ? a->encoder
                                         : (*encoder)->manifest().name;
    if (a->json) {
      nlohmann::ordered_json j;
      j["top1"] = result->top1;
      j["encoder"] = a->encoder;
      j["encoder_name"] = encoder_name;
      j["dim"] = (*encoder)->dim();
      j["train_images"] = result->train_size;
      j["test_images"] = result->test_size;
      j["num_classes"] = result->num_classes;
      j["weight_decay"] = result->weight_decay;
      j["validation_top1"] = result->validation_top1;
      j["skipped"] = skipped;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "encoder " << a->encoder << " (" << encoder_name << ", " << (*encoder)->dim()
                << "-d): top-1 " << std::fixed << std::setprecision(4) << result->top1 << " on "
                << result->test_size << " test images (probe fitted on " << result->train_size
                << ", weight decay " << std::defaultfloat << result->weight_decay
                << " chosen on a validation split)" << std::endl;
    }
    if (skipped > 0) std::cerr << "probe: " << skipped << " unreadable input(s) skipped" << std::endl;
    if (a->strict && skipped > 0) return kExitFailure;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
