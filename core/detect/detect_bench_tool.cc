// synthlens_detect_bench: images/s of AnalyzeImage (all pixel detectors, hashes and spectra
// together, one decoded image in) at a fixed size, over 1..N threads. Prints one JSON line per
// thread count. Images are decoded and resized before timing (as the peer does).
#include <CLI/CLI.hpp>
#include <opencv2/imgproc.hpp>

#include <chrono>
#include <iostream>

#include "core/detect/detectors.h"
#include "core/io/image_source.h"
#include "core/util/parallel.h"

int main(int argc, char** argv) {
  std::string source = "fashion-mnist:test";
  int64_t count = 500;
  int size = 224;
  std::vector<int> threads = {1, 2};
  int repeats = 2;
  CLI::App app{"Speed of the pixel detectors"};
  app.add_option("--source", source);
  app.add_option("--count", count);
  app.add_option("--size", size, "bicubic resize to SIZE x SIZE; 0: native");
  app.add_option("--threads", threads);
  app.add_option("--repeats", repeats, "best of this many passes");
  CLI11_PARSE(app, argc, argv);
  try {
    synthlens::SourceOptions so;
    so.limit = count;
    auto src = synthlens::OpenImageSource(source, so);
    if (!src) {
      std::cerr << "error: " << src.error() << "\n";
      return 1;
    }
    std::vector<cv::Mat> images;
    for (int64_t i = 0; i < (*src)->size(); ++i) {
      auto m = (*src)->Load(i);
      if (!m) continue;
      cv::Mat r = *m;
      if (size > 0) cv::resize(*m, r, cv::Size(size, size), 0, 0, cv::INTER_CUBIC);
      images.push_back(r);
    }
    for (int t : threads) {
      synthlens::SetNumThreads(t);
      double best = 1e30;
      for (int rep = 0; rep < repeats; ++rep) {
        const auto t0 = std::chrono::steady_clock::now();
        auto res = synthlens::AnalyzeImages(images);
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
        for (const auto& r : res)
          if (!r) {
            std::cerr << "error: " << r.error() << "\n";
            return 1;
          }
      }
      std::cout << "{\"impl\": \"synthlens\", \"threads\": " << t << ", \"images\": " << images.size()
                << ", \"size\": " << size << ", \"seconds\": " << best
                << ", \"images_per_s\": " << images.size() / best << "}\n";
    }
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
