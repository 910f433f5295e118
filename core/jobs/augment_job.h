#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/io/image_source.h"
#include "core/jobs/job.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// `synthlens augment`: classic SSL views of every image of a source, written as PNGs with a
// manifest.jsonl line each, optionally recorded in a project. Shared by the CLI and the studio.
struct AugmentJobOptions {
  std::string input;             // SRC (see CLI.md)
  std::string recipe = "simclr"; // built-in name or a recipe .json file
  int views = 2;                 // K views per source image
  uint64_t seed = 0;
  std::string out_dir;
  int size = 0;                  // output side in pixels; 0 keeps the source size
  int64_t limit = -1;
  std::string project_path;      // optional: also record provenance in this project
  int batch_size = 64;           // images per batch (progress and cancellation granularity)
  SourceOptions source;

  // Empty when valid, else the problem, naming the option as the CLI spells it.
  std::string Validate() const;
};


// Fails (Result error) only when the job cannot run at all: missing source, bad recipe, unwritable
// output folder. Per-image problems go to on_issue and the job continues.
Result<JobSummary> RunAugmentJob(const AugmentJobOptions& options, const ProgressFn& progress,
                                        const IssueFn& on_issue);

// The output file of a view, relative to the output folder: the source id with ':' replaced and
// its extension kept in the name, e.g. "test:17" -> "test_17_v0.png", "cat/a.jpg" -> "cat/a_jpg_v0.png".
std::string ViewFileName(const std::string& source_id, int64_t view_index);

}  // namespace synthlens
