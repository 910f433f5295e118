// UMAP (McInnes, Healy & Melville 2018) following umap-learn 0.5: fuzzy simplicial set from a kNN
// graph, a/b fitted to min_dist, PCA initialisation, SGD with negative sampling.
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/projection/projection_internal.h"
#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens::internal {

void FitUmapAB(double spread, double min_dist, double* a_out, double* b_out) {
  // Levenberg-Marquardt on the same 300 samples and start (a = b = 1) as scipy's curve_fit.
  constexpr int kSamples = 300;
  std::vector<double> xs(kSamples), ys(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    xs[static_cast<size_t>(i)] = 3.0 * spread * i / (kSamples - 1);
    ys[static_cast<size_t>(i)] = xs[static_cast<size_t>(i)] < min_dist
                                     ? 1.0
                                     : std::exp(-(xs[static_cast<size_t>(i)] - min_dist) / spread);
  }
  auto cost = [&](double a, double b) {
    double c = 0.0;
    for (int i = 0; i < kSamples; ++i) {
      const double x = xs[static_cast<size_t>(i)];
      const double f = 1.0 / (1.0 + a * std::pow(x, 2.0 * b));
      c += (f - ys[static_cast<size_t>(i)]) * (f - ys[static_cast<size_t>(i)]);
    }
    return c;
  };
  double a = 1.0, b = 1.0, lambda = 1e-3;
  double current = cost(a, b);
  for (int it = 0; it < 500; ++it) {
    double jtj[3] = {0, 0, 0}, jtr[2] = {0, 0};
    for (int i = 0; i < kSamples; ++i) {
      const double x = xs[static_cast<size_t>(i)];
      if (x <= 0.0) continue;  // f = 1 there whatever a, b: no gradient
      const double x2b = std::pow(x, 2.0 * b);
      const double den = 1.0 + a * x2b;
      const double f = 1.0 / den;
      const double r = f - ys[static_cast<size_t>(i)];
      const double ja = -x2b / (den * den);
      const double jb = -a * x2b * 2.0 * std::log(x) / (den * den);
      jtj[0] += ja * ja;
      jtj[1] += ja * jb;
      jtj[2] += jb * jb;
      jtr[0] += ja * r;
      jtr[1] += jb * r;
    }
    bool stepped = false;
    for (int tries = 0; tries < 30 && !stepped; ++tries) {
      const double m00 = jtj[0] * (1.0 + lambda), m11 = jtj[2] * (1.0 + lambda), m01 = jtj[1];
      const double det = m00 * m11 - m01 * m01;
      if (!(std::fabs(det) > 0)) {
        lambda *= 10;
        continue;
      }
      const double da = -(m11 * jtr[0] - m01 * jtr[1]) / det;
      const double db = -(-m01 * jtr[0] + m00 * jtr[1]) / det;
      const double trial = cost(a + da, b + db);
      if (std::isfinite(trial) && trial <= current) {
        const double gain = current - trial;
        a += da;
        b += db;
        current = trial;
        lambda = std::max(lambda / 10.0, 1e-12);
        stepped = true;
        if (gain <= 1e-15 * std::max(1.0, current) && std::fabs(da) < 1e-12 && std::fabs(db) < 1e-12) {
          it = 500;  // converged
        }
      } else {
        lambda *= 10.0;
      }
    }
    if (!stepped) break;
  }
  *a_out = a;
  *b_out = b;
}

Csr UmapFuzzyGraph(const Knn& knn) {
  const int64_t n = static_cast<int64_t>(knn.index.size()) / knn.k;
  const int k = knn.k;                   // neighbours without the point itself
  const double target = std::log2(k + 1.0);  // umap-learn counts the point as its own neighbour
  std::vector<double> dist(knn.dist2.size());
  double mean_all = 0.0;
  for (size_t e = 0; e < dist.size(); ++e) {
    dist[e] = std::sqrt(knn.dist2[e]);
    mean_all += dist[e];
  }
  mean_all /= static_cast<double>(n) * (k + 1);
  std::vector<double> member(dist.size());
  ParallelChunks(n, 1024, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double* d = &dist[static_cast<size_t>(i * k)];
      double rho = 0.0, mean_i = 0.0;
      for (int j = 0; j < k; ++j) {
        mean_i += d[j];
        if (rho == 0.0 && d[j] > 0.0) rho = d[j];  // local_connectivity 1: first non-zero distance
      }
      mean_i /= (k + 1);
      double lo = 0.0, hi = std::numeric_limits<double>::infinity(), mid = 1.0;
      for (int step = 0; step < 64; ++step) {
        double psum = 0.0;
        for (int j = 0; j < k; ++j) {
          const double t = d[j] - rho;
          psum += t > 0 ? std::exp(-(t / mid)) : 1.0;
        }
        if (std::fabs(psum - target) < 1e-5) break;
        if (psum > target) {
          hi = mid;
          mid = (lo + hi) / 2.0;
        } else {
          lo = mid;
          mid = std::isinf(hi) ? mid * 2.0 : (lo + hi) / 2.0;
        }
      }
      double sigma = mid;
      const double floor_scale = 1e-3 * (rho > 0.0 ? mean_i : mean_all);  // MIN_K_DIST_SCALE
      sigma = std::max(sigma, floor_scale);
      for (int j = 0; j < k; ++j) {
        const double t = d[j] - rho;
        member[static_cast<size_t>(i * k + j)] = (t <= 0.0 || sigma == 0.0) ? 1.0 : std::exp(-t / sigma);
      }
    }
  });
  // Rows sorted by column for the merge with the transpose.
  Csr directed;
  directed.n = n;
  directed.indptr.resize(static_cast<size_t>(n + 1));
  directed.indices.resize(knn.index.size());
  directed.values.resize(knn.index.size());
  std::vector<int> order(static_cast<size_t>(k));
  for (int64_t i = 0; i < n; ++i) {
    const size_t base = static_cast<size_t>(i * k);
    directed.indptr[static_cast<size_t>(i)] = static_cast<int64_t>(base);
    for (int r = 0; r < k; ++r) order[static_cast<size_t>(r)] = r;
    std::sort(order.begin(), order.end(),
              [&](int a, int b) { return knn.index[base + a] < knn.index[base + b]; });
    for (int r = 0; r < k; ++r) {
      directed.indices[base + r] = knn.index[base + order[static_cast<size_t>(r)]];
      directed.values[base + r] = member[base + order[static_cast<size_t>(r)]];
    }
  }
  directed.indptr[static_cast<size_t>(n)] = static_cast<int64_t>(knn.index.size());
  // Fuzzy union (probabilistic t-conorm): a + b - a b.
  return CombineWithTranspose(directed, [](double a, double b) { return a + b - a * b; });
}

Result<UmapOutput> RunUmap(const RowMatrix& x, const UmapParams& params, const ProgressFn& progress) {
  const int64_t n = x.rows();
  UmapOutput out;
  constexpr double kKnnShare = 0.2;
  ProgressFn knn_progress;
  if (progress) knn_progress = [&](double f) { return progress(kKnnShare * f); };
  auto knn = NearestNeighbors(x, params.neighbors - 1, params.knn_exact_max_rows, params.seed,
                              knn_progress);
  if (!knn.ok()) return Result<UmapOutput>::Failure(knn.error());
  out.knn_exact = knn->exact;
  const Csr graph = UmapFuzzyGraph(*knn);
  const int epochs = params.epochs > 0 ? params.epochs : (n <= 10000 ? 500 : 200);
  out.epochs = epochs;
  FitUmapAB(params.spread, params.min_dist, &out.a, &out.b);
  const double a = out.a, b = out.b;

  // Edges as umap-learn keeps them: both directions, weights below max / epochs dropped; each edge
  // is sampled every max_w / w epochs, its negatives 5 times as often.
  double max_w = 0.0;
  for (double v : graph.values) max_w = std::max(max_w, v);
  std::vector<int32_t> head, tail;
  std::vector<double> eps;
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t q = graph.indptr[static_cast<size_t>(i)]; q < graph.indptr[static_cast<size_t>(i + 1)]; ++q) {
      const double w = graph.values[static_cast<size_t>(q)];
      if (w < max_w / epochs) continue;
      head.push_back(static_cast<int32_t>(i));
      tail.push_back(graph.indices[static_cast<size_t>(q)]);
      eps.push_back(max_w / w);
    }
  }
  out.edges = static_cast<int64_t>(head.size());
  const size_t edges = head.size();
  std::vector<double> next_sample(eps), eps_neg(edges), next_neg(edges);
  for (size_t e = 0; e < edges; ++e) {
    eps_neg[e] = eps[e] / params.negative_sample_rate;
    next_neg[e] = eps_neg[e];
  }

  // PCA initialisation, each column scaled to [0, 10] (umap-learn's init="pca" then its rescale).
  // Spectral initialisation would need a sparse eigensolver that copes with disconnected graphs.
  RowMatrix emb = PcaScores(x, 2, params.pca_exact_max_dim, params.seed);
  Rng init_rng(MixSeed(params.seed, 0x0a11ce));
  for (int c = 0; c < 2; ++c) {
    const double lo = emb.col(c).minCoeff(), hi = emb.col(c).maxCoeff();
    for (int64_t i = 0; i < n; ++i)
      emb(i, c) = hi > lo ? 10.0 * (emb(i, c) - lo) / (hi - lo) : init_rng.Uniform(0.0, 10.0);
  }

  // Serial SGD: umap-learn's parallel epochs are lock-free and order-dependent; one thread with one
  // seeded stream gives the same bytes on every run.
  Rng rng(MixSeed(params.seed, 0x5eed0fa11ULL));
  auto clip = [](double v) { return std::max(-4.0, std::min(4.0, v)); };
  for (int epoch = 0; epoch < epochs; ++epoch) {
    const double alpha = 1.0 - static_cast<double>(epoch) / epochs;
    const double nf = static_cast<double>(epoch);
    for (size_t e = 0; e < edges; ++e) {
      if (next_sample[e] > nf) continue;
      const int32_t j = head[e];
      double* cur = emb.row(j).data();
      double* oth = emb.row(tail[e]).data();
      double dx = cur[0] - oth[0], dy = cur[1] - oth[1];
      double d2 = dx * dx + dy * dy;
      if (d2 > 0.0) {
        const double pb = std::pow(d2, b);
        const double coeff = -2.0 * a * b * (pb / d2) / (a * pb + 1.0);
        const double gx = clip(coeff * dx) * alpha, gy = clip(coeff * dy) * alpha;
        cur[0] += gx;
        cur[1] += gy;
        oth[0] -= gx;
        oth[1] -= gy;
      }
      next_sample[e] += eps[e];
      const int negatives = static_cast<int>((nf - next_neg[e]) / eps_neg[e]);
      for (int s = 0; s < negatives; ++s) {
        const int64_t kk = rng.UniformInt(0, n - 1);
        if (kk == j) continue;
        const double* o = emb.row(kk).data();
        dx = cur[0] - o[0];
        dy = cur[1] - o[1];
        d2 = dx * dx + dy * dy;
        if (d2 <= 0.0) continue;
        const double coeff = 2.0 * b / ((0.001 + d2) * (a * std::pow(d2, b) + 1.0));
        cur[0] += clip(coeff * dx) * alpha;
        cur[1] += clip(coeff * dy) * alpha;
      }
      next_neg[e] += negatives * eps_neg[e];
    }
    if (progress && !progress(kKnnShare + (1.0 - kKnnShare) * (epoch + 1.0) / epochs))
      return Result<UmapOutput>::Failure("cancelled");
  }
  out.points = std::move(emb);
  return out;
}

}  // namespace synthlens::internal
