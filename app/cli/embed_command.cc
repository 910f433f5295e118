#include <chrono>
#include <iostream>
#include <memory>
#include <sstream>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/infer/encoder.h"
#include "core/io/image_source.h"
#include "core/io/npy.h"
#include "core/jobs/embed_job.h"
#include "core/jobs/project_open.h"
#include "core/store/project.h"
#include "core/util/check.h"
#include "core/util/file_util.h"

namespace synthlens::cli {
namespace {

// EMB.npy -> EMB (the prefix of the sidecar files EMB.ids.txt and EMB.meta.json).
std::string SidecarPrefix(const std::string& out) {
  if (out.size() > 4 && out.compare(out.size() - 4, 4, ".npy") == 0) {
    return out.substr(0, out.size() - 4);
  }
  return out;
}

}  // namespace

CommandRunner RegisterEmbedCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "embed", "One embedding per image (EMB.npy + EMB.ids.txt + EMB.meta.json)");
  struct Flags {
    std::string input;
    std::string encoder = "builtin";
    std::string out;
    int64_t limit = -1;
    int batch = 256;
    std::string device = "cpu";
    std::string precision = "fp32";
    double max_megapixels = 100.0;
    std::string project;
    bool strict = false;
  };
  auto flags = std::make_shared<Flags>();
  cmd->add_option("--input", flags->input, "SRC: folder, fashion-mnist:train|test, IDX or .csv")
      ->required();
  cmd->add_option("--encoder", flags->encoder,
                  "builtin, a model package (name or folder), or pixels[:RES[:rgb]]")
      ->capture_default_str();
  cmd->add_option("--out", flags->out, "Output EMB.npy (float32 N x D); EMB.ids.txt beside it")
      ->required();
  cmd->add_option("--limit", flags->limit, "Take the first N images of SRC");
  cmd->add_option("--batch", flags->batch, "Images per forward pass")->capture_default_str();
  cmd->add_option("--device", flags->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--precision", flags->precision, "fp32, fp16 (CUDA) or bf16")
      ->capture_default_str();
  cmd->add_option("--max-megapixels", flags->max_megapixels,
                  "Refuse images larger than this (decompression bombs)")
      ->capture_default_str();
  cmd->add_option("--project", flags->project,
                  "Cache embeddings in this project file (created if missing): the same images "
                  "with the same encoder are not embedded again");
  cmd->add_flag("--strict", flags->strict, "Exit 1 if any input was unreadable");
  return [cmd, flags]() {
    if (!cmd->parsed()) return -1;
    const auto started = std::chrono::steady_clock::now();
    auto usage = [](const std::string& message) {
      std::cerr << "synthlens embed: " << message << std::endl;
      return kExitUsage;
    };
    if (flags->limit == 0 || flags->limit < -1) return usage("--limit must be positive");
    if (flags->batch < 1 || flags->batch > 65536) return usage("--batch must be in [1, 65536]");
    if (flags->max_megapixels <= 0) return usage("--max-megapixels must be positive");
    auto device = Device::Parse(flags->device);
    if (!device.ok()) return usage("--device: " + device.error());
    EncoderOptions encoder_options;
    encoder_options.batch_size = flags->batch;
    encoder_options.precision = flags->precision;
    if (std::string problem = encoder_options.Validate(); !problem.empty()) {
      return usage("--precision: " + problem);
    }
    if (std::string problem = ValidateDevice(*device); !problem.empty()) {
      std::cerr << "synthlens embed: --device: " << problem << std::endl;
      return kExitFailure;
    }

    auto encoder = Encoder::Open(flags->encoder, *device, encoder_options);
    if (!encoder.ok()) {
      std::cerr << "synthlens embed: --encoder " << flags->encoder << ": " << encoder.error()
                << std::endl;
      return kExitFailure;
    }
    SourceOptions source_options;
    source_options.limit = flags->limit;
    source_options.decode.max_pixels = static_cast<int64_t>(flags->max_megapixels * 1e6);
    auto source = OpenImageSource(flags->input, source_options);
    if (!source.ok()) {
      std::cerr << "synthlens embed: " << source.error() << std::endl;
      return kExitFailure;
    }

    std::unique_ptr<Project> project;
    if (!flags->project.empty()) {
      try {
        project = OpenProject(flags->project);
      } catch (const Error& e) {
        std::cerr << "synthlens embed: --project: " << e.what() << std::endl;
        return kExitFailure;
      }
    }

    ProgressBar bar("embed");
    auto cached = EmbedSourceCached(**source, **encoder, project.get(), bar.Callback(),
                                    [&](const SourceIssue& issue) {
                                      bar.Finish();
                                      std::cerr << "skipped: " << issue.file << ": "
                                                << issue.reason << std::endl;
                                    });
    bar.Finish();
    if (!cached.ok()) {
      std::cerr << "synthlens embed: " << cached.error() << std::endl;
      return kExitFailure;
    }
    const EmbeddingSet* set = &cached->set;

    // Rows and ids first, then the matrix: each file is written atomically, so a reader never
    // sees a torn file, and the three always describe the same run once the command exits 0.
    const std::string prefix = SidecarPrefix(flags->out);
    std::ostringstream ids;
    for (size_t i = 0; i < set->ids.size(); ++i) {
      ids << set->ids[i];
      if (set->labels[i] >= 0) ids << '\t' << set->labels[i];
      ids << '\n';
    }
    const Encoder& enc = **encoder;
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    nlohmann::json meta = {
        {"input", flags->input},
        {"count", set->ids.size()},
        {"dim", enc.dim()},
        {"skipped", set->skipped},
        {"cancelled", set->cancelled},
        {"seconds", seconds},
        {"embedding_seconds", cached->seconds},
        {"from_cache", cached->from_cache},
        {"project", flags->project.empty() ? nlohmann::json() : nlohmann::json(flags->project)},
        {"encoder",
         {{"spec", flags->encoder},
          {"name", enc.manifest().name},
          {"dir", enc.manifest().dir},
          {"hash", enc.manifest().hash},
          {"device", enc.device().ToString()},
          {"precision", enc.options().precision},
          // The canonical JSON as an object, and the same for people.
          {"preprocessing", nlohmann::json::parse(enc.PreprocessingJson())},
          {"preprocessing_text", enc.PreprocessingDescription()}}},
        {"class_names", (*source)->class_names()}};
    std::string problem = WriteFileAtomic(prefix + ".ids.txt", ids.str());
    if (problem.empty()) problem = WriteFileAtomic(prefix + ".meta.json", meta.dump(2) + "\n");
    if (problem.empty()) problem = WriteNpy(flags->out, set->matrix);
    if (!problem.empty()) {
      std::cerr << "synthlens embed: " << problem << std::endl;
      return kExitFailure;
    }
    std::cerr << "embed: " << set->ids.size() << " embeddings of dimension " << enc.dim()
              << " written to " << flags->out << ", " << set->skipped
              << " unreadable input(s) skipped" << (set->cancelled ? " (cancelled)" : "")
              << (cached->from_cache ? " (from the project cache)" : "")
              << (cached->saved ? " (cached in the project)" : "") << std::endl;
    if (set->cancelled) return kExitFailure;
    if (flags->strict && set->skipped > 0) return kExitFailure;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
