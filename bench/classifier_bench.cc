// Retraining time of the learned artifact detector (ArtifactClassifier: standardise, stratified
// k-fold CV, final fit) on N labelled rows x F features with a planted signal, the studio's
// "retrain as labels arrive" workload. Peer: bench/classifier_peer.py (scikit-learn, same data).
//   build/bench/synthlens_bench_classifier --n 5000 --f 530 --folds 5 --out-x X.npy --out-y Y.txt
// Prints one JSON object; --out-x/--out-y save the data so the peer fits the same rows.
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/metrics/artifact_classifier.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

int main(int argc, char** argv) {
  int n = 5000, f = 530, folds = 5, threads = 0;
  double c = 0.1;
  std::string out_x, out_y;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
    if (a == "--n") n = std::atoi(next().c_str());
    else if (a == "--f") f = std::atoi(next().c_str());
    else if (a == "--folds") folds = std::atoi(next().c_str());
    else if (a == "--c") c = std::atof(next().c_str());
    else if (a == "--threads") threads = std::atoi(next().c_str());
    else if (a == "--out-x") out_x = next();
    else if (a == "--out-y") out_y = next();
    else {
      std::cerr << "usage: synthlens_bench_classifier [--n N] [--f F] [--folds K] [--c C] "
                   "[--threads T] [--out-x X.npy --out-y Y.txt]" << std::endl;
      return 2;
    }
  }
  synthlens::SetNumThreads(threads);
  // A third of the rows are artifacts, shifted along 20 of the features.
  synthlens::Rng rng(11);
  cv::Mat x(n, f, CV_32F);
  std::vector<int> y(n);
  for (int r = 0; r < n; ++r) {
    y[r] = r % 3 == 0;
    float* p = x.ptr<float>(r);
    for (int k = 0; k < f; ++k) p[k] = static_cast<float>(rng.Normal() + (y[r] && k < 20 ? 0.3 : 0));
  }
  if (!out_x.empty()) {
    if (std::string e = synthlens::WriteNpy(out_x, x); !e.empty()) {
      std::cerr << e << std::endl;
      return 1;
    }
    std::ofstream ys(out_y);
    for (int v : y) ys << v << '\n';
  }
  synthlens::ArtifactClassifierOptions options;
  options.c = c;
  options.folds = folds;
  const auto t0 = std::chrono::steady_clock::now();
  auto model = synthlens::ArtifactClassifier::Train(x, y, options);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!model.ok()) {
    std::cerr << model.error() << std::endl;
    return 1;
  }
  nlohmann::json j = {{"n", n},          {"f", f},
                      {"folds", folds},  {"c", c},
                      {"threads", synthlens::NumThreads()},
                      {"seconds", seconds},
                      {"cv_auroc", model->report().cv_auroc}};
  std::cout << j.dump() << std::endl;
  return 0;
}
