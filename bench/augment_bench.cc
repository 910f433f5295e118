// Per-op timings of core/augment on one thread at 224 px, plus whole SimCLR views.
//   build/bench/synthlens_bench_augment [--benchmark_filter=Hue]
#include <string>

#include <benchmark/benchmark.h>
#include <opencv2/imgproc.hpp>

#include "core/augment/augment.h"
#include "core/augment/augment_bench.h"
#include "core/augment/ops.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

constexpr int kSize = 224;

cv::Mat Source(int size) {
  Rng rng(1);
  cv::Mat img(size, size, CV_8UC3);
  for (size_t i = 0; i < img.total() * 3; ++i) img.data[i] = static_cast<uint8_t>(rng.NextU64() >> 56);
  return img;
}

// Times fn on a fresh copy of the image each iteration (the copy is excluded).
template <typename Fn>
void RunOnCopy(benchmark::State& state, Fn fn) {
  SetNumThreads(1);
  const cv::Mat src = Source(kSize);
  cv::Mat img;
  for (auto _ : state) {
    state.PauseTiming();
    src.copyTo(img);
    state.ResumeTiming();
    fn(img);
    benchmark::DoNotOptimize(img.data);
  }
  state.SetItemsProcessed(state.iterations());
}

void BM_ResizedCrop(benchmark::State& state) {
  SetNumThreads(1);
  const cv::Mat src = Source(256);
  CropRect rect;
  rect.x = 30;
  rect.y = 20;
  rect.w = 150;
  rect.h = 170;
  for (auto _ : state) benchmark::DoNotOptimize(ResizedCrop(src, rect, kSize, kSize, Interpolation::kBilinear).data);
}
void BM_HorizontalFlip(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { cv::flip(m, m, 1); }); }
void BM_Brightness(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { AdjustBrightness(m, 1.2); }); }
void BM_Contrast(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { AdjustContrast(m, 0.8); }); }
void BM_Saturation(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { AdjustSaturation(m, 1.3); }); }
void BM_Hue(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { AdjustHue(m, 0.07); }); }
void BM_Grayscale(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { ToGrayscale(m); }); }
void BM_Solarize(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { Solarize(m, 128); }); }
void BM_Blur23Sigma1(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { GaussianBlurInPlace(m, 23, 1.0); }); }
void BM_Blur23Sigma2(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { GaussianBlurInPlace(m, 23, 2.0); }); }
void BM_Rotate(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { RotateImage(m, 17.0); }); }
void BM_Jpeg(benchmark::State& s) { RunOnCopy(s, [](cv::Mat& m) { JpegReencode(m, 75); }); }

void BM_SimclrView(benchmark::State& state) {
  SetNumThreads(1);
  const Recipe recipe = LoadRecipe("simclr").value();
  const cv::Mat src = Source(256);
  int64_t v = 0;
  for (auto _ : state) benchmark::DoNotOptimize(MakeView(recipe, src, "bench", v++, 0, kSize).image.data);
  state.SetItemsProcessed(state.iterations());
}

// The number `synthlens bench augment` reports, as a benchmark counter.
void BM_ViewsPerSecond(benchmark::State& state) {
  const Recipe recipe = LoadRecipe("simclr").value();
  for (auto _ : state)
    state.counters["views_per_s"] = BenchAugmentViewsPerSecond(recipe, kSize, static_cast<int>(state.range(0)), 1000);
}

BENCHMARK(BM_ResizedCrop);
BENCHMARK(BM_HorizontalFlip);
BENCHMARK(BM_Brightness);
BENCHMARK(BM_Contrast);
BENCHMARK(BM_Saturation);
BENCHMARK(BM_Hue);
BENCHMARK(BM_Grayscale);
BENCHMARK(BM_Solarize);
BENCHMARK(BM_Blur23Sigma1);
BENCHMARK(BM_Blur23Sigma2);
BENCHMARK(BM_Rotate);
BENCHMARK(BM_Jpeg);
BENCHMARK(BM_SimclrView);
BENCHMARK(BM_ViewsPerSecond)->Arg(1)->Arg(2)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace synthlens

BENCHMARK_MAIN();
