// Wall time of the k-NN set metrics (precision/recall, density/coverage, AuthPct: all radii and
// ball memberships) on N(0, I) embedding sets, the workload of `synthlens compare` on large sets.
//   build/bench/synthlens_bench_metrics --n 10000 --d 2048 [--k-pr 3 --k-dc 5] [--all]
// --all also times CompareSetsJson (FID, KID, Vendi, C2ST on top). Prints one JSON object.
// The peer is bench/prdc_peer.py (the prdc package's code on scikit-learn distances).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "core/metrics/set_metrics.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace {

cv::Mat Gaussian(int n, int d, uint64_t seed) {
  synthlens::Rng rng(seed);
  cv::Mat m(n, d, CV_32F);
  for (int r = 0; r < n; ++r) {
    float* p = m.ptr<float>(r);
    for (int c = 0; c < d; ++c) p[c] = static_cast<float>(rng.Normal());
  }
  return m;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int n = 10000, m = -1, d = 2048, pr_k = 3, dc_k = 5, threads = 0;
  bool all = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--n") n = next();
    else if (a == "--m") m = next();
    else if (a == "--d") d = next();
    else if (a == "--k-pr") pr_k = next();
    else if (a == "--k-dc") dc_k = next();
    else if (a == "--threads") threads = next();
    else if (a == "--all") all = true;
    else {
      std::cerr << "usage: synthlens_bench_metrics [--n N] [--m M] [--d D] [--k-pr K] [--k-dc K] "
                   "[--threads T] [--all]" << std::endl;
      return 2;
    }
  }
  if (m < 0) m = n;
  synthlens::SetNumThreads(threads);
  const cv::Mat real = Gaussian(n, d, 1), synthetic = Gaussian(m, d, 2);
  auto t0 = std::chrono::steady_clock::now();
  auto r = synthlens::NeighbourhoodMetrics(real, synthetic, pr_k, dc_k);
  const double knn_s = Seconds(t0);
  if (!r.ok()) {
    std::cerr << r.error() << std::endl;
    return 1;
  }
  nlohmann::ordered_json j;
  j["n"] = n;
  j["m"] = m;
  j["d"] = d;
  j["pr_k"] = pr_k;
  j["dc_k"] = dc_k;
  j["threads"] = synthlens::NumThreads();
  j["knn_metrics_s"] = knn_s;
  j["precision"] = r->precision;
  j["recall"] = r->recall;
  j["density"] = r->density;
  j["coverage"] = r->coverage;
  j["authpct"] = r->authpct;
  if (all) {
    synthlens::SetMetricsOptions options;
    options.pr_k = pr_k;
    options.dc_k = dc_k;
    t0 = std::chrono::steady_clock::now();
    auto json = synthlens::CompareSetsJson(real, synthetic, options);
    j["compare_all_s"] = Seconds(t0);
    if (!json.ok()) {
      std::cerr << json.error() << std::endl;
      return 1;
    }
    j["compare"] = nlohmann::ordered_json::parse(*json);
  }
  std::cout << j.dump() << std::endl;
  return 0;
}
