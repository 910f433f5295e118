#pragma once

#include <string>

#include "core/infer/generator.h"
#include "core/io/image_source.h"
#include "core/jobs/job.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// `synthlens generate`: generative views of every image of a source, written as PNGs with a
// manifest.jsonl line each (kind "generative", the model's hash, every sampler parameter),
// optionally recorded in a project. Modes are the Generator's (img2img, instance,
// multipositive) plus "mixed": GenerativeSSL's pipeline, where each view of a classic recipe is
// replaced with probability `mix_probability` by a generative view that then gets the classic
// recipe without its RandomResizedCrop.
struct GenerateJobOptions {
  std::string input;
  std::string model = "builtin";
  std::string encoder;              // instance mode's encoder; empty: the model's own
  std::string device = "cpu";
  GenerateOptions generate;         // generate.mode may also be "mixed"
  std::string recipe = "simclr";    // mixed only
  double mix_probability = 0.5;     // mixed only
  std::string mixed_mode = "img2img";  // the generative mode inside "mixed"
  std::string out_dir;
  int64_t limit = -1;
  std::string project_path;
  SourceOptions source;

  // Empty when valid, else the problem naming the option as the CLI spells it.
  std::string Validate() const;
};

Result<JobSummary> RunGenerateJob(const GenerateJobOptions& options, const ProgressFn& progress,
                                  const IssueFn& on_issue);

}  // namespace synthlens
