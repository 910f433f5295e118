#include "core/augment/augment_bench.h"

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "core/augment/augment.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {

double BenchAugmentViewsPerSecond(const Recipe& recipe, int size, int threads, int num_views) {
  SL_CHECK(num_views > 0, "num_views " << num_views << " must be positive");
  constexpr int kSources = 16;
  constexpr int kSourceSize = 256;
  Rng rng(20240601);
  std::vector<cv::Mat> sources;
  std::vector<std::string> ids;
  for (int s = 0; s < kSources; ++s) {
    cv::Mat img(kSourceSize, kSourceSize, CV_8UC3);
    uint8_t* p = img.ptr<uint8_t>(0);
    const size_t n = img.total() * 3;
    for (size_t i = 0; i < n; i += 8) {
      uint64_t bits = rng.NextU64();
      for (size_t j = i; j < std::min(n, i + 8); ++j, bits >>= 8) p[j] = static_cast<uint8_t>(bits);
    }
    sources.push_back(img);
    ids.push_back("bench/" + std::to_string(s));
  }
  const int previous_threads = NumThreads();
  SetNumThreads(threads);
  auto run = [&](int count, int64_t offset) {
    ParallelFor(count, [&](int64_t i) {
      const int64_t v = offset + i;
      AugmentedView view = MakeView(recipe, sources[v % kSources], ids[v % kSources], v, 0, size);
      SL_CHECK(!view.image.empty(), "empty view");
    });
  };
  try {
    run(std::max(8, std::min(num_views / 4, 64)), 1000000);  // warm-up: caches, pools, allocator
    const auto start = std::chrono::steady_clock::now();
    run(num_views, 0);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    SetNumThreads(previous_threads);
    return num_views / std::max(seconds, 1e-9);
  } catch (...) {
    SetNumThreads(previous_threads);
    throw;
  }
}

}  // namespace synthlens
