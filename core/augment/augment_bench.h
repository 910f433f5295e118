#pragma once

#include "core/augment/recipe.h"

namespace synthlens {

// Throughput of MakeView: 16 random size-256 RGB sources (fixed seed), SetNumThreads(threads),
// a warm-up, then num_views views of out_size `size` spread over ParallelFor. Restores the
// previous thread count. Used by `synthlens bench augment`.
double BenchAugmentViewsPerSecond(const Recipe& recipe, int size, int threads, int num_views);

}  // namespace synthlens
