// synthlens_detect_planted: the planted-artifact benchmark of the pixel detectors
// (docs/detectors.md). Prints one JSON object (and writes it to --out when given).
#include <CLI/CLI.hpp>

#include <fstream>
#include <iostream>

#include "core/detect/planted.h"
#include "core/util/parallel.h"

int main(int argc, char** argv) {
  synthlens::PlantedBenchmarkOptions o;
  std::string out;
  int threads = 0;
  CLI::App app{"Planted-artifact benchmark of the pixel detectors"};
  app.add_option("--source", o.source, "clean real images (an ImageSource spec)");
  app.add_option("--reference", o.reference_count, "reference (calibration) images");
  app.add_option("--clean", o.clean_count, "held-out clean images (planting bases)");
  app.add_option("--size", o.size, "resize to SIZE x SIZE (bicubic) first; 0: native");
  app.add_option("--seed", o.seed, "seed of the planted noise");
  app.add_option("--dup-distance", o.duplicates.max_distance,
                 "pHash Hamming distance that counts as a near duplicate");
  app.add_option("--threads", threads, "worker threads (0: all)");
  app.add_option("--out", out, "also write the JSON here");
  CLI11_PARSE(app, argc, argv);
  try {
    synthlens::SetNumThreads(threads);
    auto r = synthlens::RunPlantedBenchmark(o);
    if (!r) {
      std::cerr << "error: " << r.error() << "\n";
      return 1;
    }
    const std::string json = synthlens::PlantedBenchmarkJson(*r);
    std::cout << json << "\n";
    if (!out.empty()) std::ofstream(out) << json << "\n";
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
