#pragma once

#include <cstdint>
#include <functional>

#include "core/io/image_source.h"

namespace synthlens {

// What a job that writes views did.
struct JobSummary {
  int64_t images = 0;         // source images processed successfully
  int64_t views_written = 0;
  int64_t skipped = 0;        // unreadable inputs (source issues + failed decodes)
  bool cancelled = false;
};

// Called once per unreadable input, in source order, with the file and the reason.
using IssueFn = std::function<void(const SourceIssue&)>;

}  // namespace synthlens
