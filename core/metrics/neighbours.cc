// k-NN radii and ball membership for precision/recall, density/coverage and AuthPct.
//
// Distances come from blocked float32 GEMMs (ATen -> OpenBLAS): d~2 = |x|^2 + |y|^2 - 2 x.y on rows
// centred by the pooled mean. Every decision is then made exactly: a pair whose approximate value
// lies within a rigorous rounding bound of the threshold is recomputed as a sequential float64 sum
// of squared differences of the raw rows (what scipy's cdist computes). So results equal the exact
// float64 definitions (duplicates at distance 0 included) at GEMM speed.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <utility>

#include <ATen/ATen.h>

#include "core/metrics/metrics_internal.h"
#include "core/metrics/set_metrics.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace {

using metrics_internal::ExactDot;
using metrics_internal::ExactSquaredDistance;

constexpr double kUnitRoundoff32 = 5.9604644775390625e-08;  // 2^-24
constexpr int64_t kRowBlock = 256;
constexpr int64_t kColChunk = 2048;
constexpr double kInf = std::numeric_limits<double>::infinity();

// One set prepared for the GEMM pass.
struct Side {
  const cv::Mat* raw = nullptr;
  int64_t n = 0;
  int d = 0;
  std::vector<float> x;          // rows minus the pooled mean, rounded to float32
  std::vector<double> sqnorm;    // |x^|^2 (float64 of the float32 values)
  std::vector<double> tol;       // kappa * sqnorm: this row's share of the rounding bound
  double max_tol = 0.0;
  std::vector<double> mu_dot;    // mean . x^ (recovers raw dot products for cosines)
  std::vector<double> inv_raw_norm;  // 1 / |x| of the raw row (0 for an all-zero row)
  std::vector<double> cos_scale;     // |x^| / |x|
};

// Bound on |d~2 - d2| for a pair is tol_i + tol_j with kappa = gamma_d (float32 GEMM accumulation,
// any summation order) + 4u (rounding the centred rows to float32), padded by 10% and a float64 term.
double Kappa(int d) { return 1.1 * (d + 5) * kUnitRoundoff32 + 1e-12; }

Side Prepare(const cv::Mat& raw, const std::vector<double>& mean) {
  Side s;
  s.raw = &raw;
  s.n = raw.rows;
  s.d = raw.cols;
  const int d = s.d;
  const double kappa = Kappa(d);
  s.x.resize(static_cast<size_t>(s.n) * d);
  s.sqnorm.resize(s.n);
  s.tol.resize(s.n);
  s.mu_dot.resize(s.n);
  s.inv_raw_norm.resize(s.n);
  s.cos_scale.resize(s.n);
  ParallelFor((s.n + 1023) / 1024, [&](int64_t b) {
    std::vector<double> row(d);
    for (int64_t r = b * 1024; r < std::min(s.n, (b + 1) * 1024); ++r) {
      metrics_internal::RowToDouble(raw, r, row.data());
      float* out = s.x.data() + r * d;
      double sq = 0.0, md = 0.0, rawsq = 0.0;
      for (int k = 0; k < d; ++k) {
        out[k] = static_cast<float>(row[k] - mean[k]);
        const double v = out[k];
        sq += v * v;
        md += mean[k] * v;
        rawsq += row[k] * row[k];
      }
      s.sqnorm[r] = sq;
      s.tol[r] = kappa * sq;
      s.mu_dot[r] = md;
      s.inv_raw_norm[r] = rawsq > 0.0 ? 1.0 / std::sqrt(rawsq) : 0.0;
      s.cos_scale[r] = rawsq > 0.0 ? std::sqrt(sq / rawsq) : 0.0;
    }
  });
  for (double t : s.tol) s.max_tol = std::max(s.max_tol, t);
  return s;
}

// The k smallest distances of one row: a max-heap of approximate values plus every column whose
// approximate value could still belong to the k smallest once rounding is accounted for.
struct KnnRow {
  std::vector<double> heap;
  std::vector<std::pair<double, int64_t>> cand;
};

inline void KnnPush(KnnRow& s, size_t k, double v, int64_t j, double band) {
  double top = s.heap.size() < k ? kInf : s.heap.front();
  if (v < top) {
    if (s.heap.size() == k) {
      std::pop_heap(s.heap.begin(), s.heap.end());
      s.heap.back() = v;
    } else {
      s.heap.push_back(v);
    }
    std::push_heap(s.heap.begin(), s.heap.end());
    top = s.heap.size() < k ? kInf : s.heap.front();
  }
  if (v <= top + band) {
    s.cand.emplace_back(v, j);
    if (s.cand.size() > 8 * k + 256) {
      s.cand.erase(std::remove_if(s.cand.begin(), s.cand.end(),
                                  [&](const auto& c) { return c.first > top + band; }),
                   s.cand.end());
    }
  }
}

// Exact (squared distance, column) of the k nearest columns, sorted by distance then index.
template <typename ExactFn>
std::vector<std::pair<double, int64_t>> KnnFinish(KnnRow& s, size_t k, double band,
                                                  const ExactFn& exact) {
  const double top = s.heap.size() < k ? kInf : s.heap.front();
  std::vector<std::pair<double, int64_t>> out;
  for (const auto& c : s.cand) {
    if (c.first <= top + band) out.emplace_back(exact(c.second), c.second);
  }
  std::sort(out.begin(), out.end());
  if (out.size() > k) out.resize(k);
  KnnRow().heap.swap(s.heap);
  std::vector<std::pair<double, int64_t>>().swap(s.cand);
  return out;
}

// Runs visit(r0, r1, c0, c1, dots) for every block of rows x chunk of columns, with dots the
// (r1-r0) x (c1-c0) float32 products of the centred rows; row blocks run in parallel (a block's
// rows are owned by one task). finish(r0, r1) runs after a block's last chunk. Returns false when
// progress asked to cancel (checked between waves of blocks).
template <typename Visit, typename Finish>
bool BlockedPass(const Side& rows, const Side& cols, const Visit& visit, const Finish& finish,
                 const ProgressFn& progress, double p0, double p1) {
  const int64_t blocks = (rows.n + kRowBlock - 1) / kRowBlock;
  const int64_t wave = std::max<int64_t>(4, 4 * NumThreads());
  const int d = rows.d;
  for (int64_t w0 = 0; w0 < blocks; w0 += wave) {
    const int64_t count = std::min(wave, blocks - w0);
    ParallelFor(count, [&](int64_t t) {
      const int64_t r0 = (w0 + t) * kRowBlock, r1 = std::min(rows.n, r0 + kRowBlock);
      std::vector<float> buffer(static_cast<size_t>(kRowBlock) * kColChunk);
      at::Tensor a = at::from_blob(const_cast<float*>(rows.x.data()) + r0 * d, {r1 - r0, d},
                                   at::kFloat);
      for (int64_t c0 = 0; c0 < cols.n; c0 += kColChunk) {
        const int64_t c1 = std::min(cols.n, c0 + kColChunk);
        at::Tensor b = at::from_blob(const_cast<float*>(cols.x.data()) + c0 * d, {c1 - c0, d},
                                     at::kFloat);
        at::Tensor out = at::from_blob(buffer.data(), {r1 - r0, c1 - c0}, at::kFloat);
        at::mm_out(out, a, b.t());
        visit(r0, r1, c0, c1, buffer.data());
      }
      finish(r0, r1);
    });
    if (progress && !progress(p0 + (p1 - p0) * double(w0 + count) / double(blocks))) return false;
  }
  return true;
}

// Sorted exact squared distances of each row to its kmax nearest other rows of the same set.
bool OwnNeighbours(const Side& s, int kmax, std::vector<std::vector<double>>* out,
                   const ProgressFn& progress, double p0, double p1) {
  const size_t k = static_cast<size_t>(kmax);
  std::vector<KnnRow> state(s.n);
  out->assign(s.n, {});
  auto visit = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1, const float* dots) {
    const int64_t cc = c1 - c0;
    for (int64_t i = r0; i < r1; ++i) {
      const float* drow = dots + (i - r0) * cc;
      const double si = s.sqnorm[i];
      const double band = 2.0 * (s.tol[i] + s.max_tol);
      KnnRow& st = state[i];
      for (int64_t c = 0; c < cc; ++c) {
        const int64_t j = c0 + c;
        if (j == i) continue;  // the row itself; duplicates at other indices do count
        KnnPush(st, k, si + s.sqnorm[j] - 2.0 * drow[c], j, band);
      }
    }
  };
  auto finish = [&](int64_t r0, int64_t r1) {
    for (int64_t i = r0; i < r1; ++i) {
      const double band = 2.0 * (s.tol[i] + s.max_tol);
      auto nn = KnnFinish(state[i], k, band,
                          [&](int64_t j) { return ExactSquaredDistance(*s.raw, i, *s.raw, j); });
      auto& o = (*out)[i];
      for (const auto& p : nn) o.push_back(p.first);
    }
  };
  return BlockedPass(s, s, visit, finish, progress, p0, p1);
}

std::vector<double> PooledMean(const cv::Mat& a, const cv::Mat& b) {
  std::vector<double> mean(a.cols, 0.0), row(a.cols);
  for (const cv::Mat* m : {&a, &b}) {
    for (int r = 0; r < m->rows; ++r) {
      metrics_internal::RowToDouble(*m, r, row.data());
      for (int c = 0; c < a.cols; ++c) mean[c] += row[c];
    }
  }
  for (double& v : mean) v /= double(a.rows + b.rows);
  return mean;
}

}  // namespace

Result<std::vector<double>> KnnRadii(const cv::Mat& x, int k, const ProgressFn& progress) {
  using R = Result<std::vector<double>>;
  if (std::string e = metrics_internal::CheckSet(x, "input"); !e.empty()) return R::Failure(e);
  if (k < 1 || k >= x.rows) {
    return R::Failure("k=" + std::to_string(k) + " needs at least k+1 rows, the set has " +
                      std::to_string(x.rows));
  }
  const Side s = Prepare(x, PooledMean(x, x));
  std::vector<std::vector<double>> nn;
  if (!OwnNeighbours(s, k, &nn, progress, 0.0, 1.0)) return R::Failure("cancelled");
  std::vector<double> radii(x.rows);
  for (int i = 0; i < x.rows; ++i) radii[i] = std::sqrt(nn[i][k - 1]);
  return radii;
}

Result<NeighbourhoodResult> NeighbourhoodMetrics(const cv::Mat& real, const cv::Mat& synthetic,
                                                 int pr_k, int dc_k, const ProgressFn& progress) {
  using R = Result<NeighbourhoodResult>;
  if (std::string e = metrics_internal::CheckPair(real, synthetic); !e.empty()) return R::Failure(e);
  SL_CHECK(pr_k >= 1 && dc_k >= 1, "k must be positive: pr_k=" << pr_k << " dc_k=" << dc_k);
  const int kreal = std::max(pr_k, dc_k);
  if (kreal >= real.rows) {
    return R::Failure("k=" + std::to_string(kreal) + " needs at least " + std::to_string(kreal + 1) +
                      " real rows, the real set has " + std::to_string(real.rows));
  }
  if (pr_k >= synthetic.rows) {
    return R::Failure("k=" + std::to_string(pr_k) + " needs at least " + std::to_string(pr_k + 1) +
                      " synthetic rows, the synthetic set has " + std::to_string(synthetic.rows));
  }
  const std::vector<double> mean = PooledMean(real, synthetic);
  double mean_sq = 0.0;
  for (double v : mean) mean_sq += v * v;
  const Side rs = Prepare(real, mean);
  const Side ss = Prepare(synthetic, mean);
  const int64_t n = rs.n, m = ss.n;
  // Progress shares by pair counts of the three passes.
  const double total = double(n) * n + double(m) * m + double(n) * m;
  const double q1 = double(n) * n / total, q2 = q1 + double(m) * m / total;

  std::vector<std::vector<double>> real_nn, synth_nn;
  if (!OwnNeighbours(rs, kreal, &real_nn, progress, 0.0, q1)) return R::Failure("cancelled");
  if (!OwnNeighbours(ss, pr_k, &synth_nn, progress, q1, q2)) return R::Failure("cancelled");
  // Radii as prdc compares them (distances), and squared for the approximate screens.
  std::vector<double> real_nn1(n), rpr(n), rpr_sq(n), rdc(n), rdc_sq(n), spr(m), spr_sq(m);
  for (int64_t i = 0; i < n; ++i) {
    real_nn1[i] = std::sqrt(real_nn[i][0]);
    rpr_sq[i] = real_nn[i][pr_k - 1];
    rdc_sq[i] = real_nn[i][dc_k - 1];
    rpr[i] = std::sqrt(rpr_sq[i]);
    rdc[i] = std::sqrt(rdc_sq[i]);
  }
  for (int64_t j = 0; j < m; ++j) {
    spr_sq[j] = synth_nn[j][pr_k - 1];
    spr[j] = std::sqrt(spr_sq[j]);
  }
  std::vector<std::vector<double>>().swap(real_nn);
  std::vector<std::vector<double>>().swap(synth_nn);

  // Cross pass: rows are synthetic (they own precision, density, copy flags and the nearest real
  // row); columns are real (recall and coverage flags are set from any task, hence atomics).
  std::vector<uint8_t> precise(m, 0), copied(m, 0), authentic(m, 0);
  std::vector<int64_t> density_count(m, 0);
  std::vector<std::atomic<uint8_t>> recalled(n), covered(n);
  for (int64_t i = 0; i < n; ++i) {
    recalled[i].store(0, std::memory_order_relaxed);
    covered[i].store(0, std::memory_order_relaxed);
  }
  std::vector<KnnRow> nearest(m);
  const double gamma = 1.1 * (ss.d + 5) * kUnitRoundoff32;
  auto visit = [&](int64_t r0, int64_t r1, int64_t c0, int64_t c1, const float* dots) {
    const int64_t cc = c1 - c0;
    for (int64_t j = r0; j < r1; ++j) {
      const float* drow = dots + (j - r0) * cc;
      const double sj = ss.sqnorm[j], tj = ss.tol[j];
      const double band = 2.0 * (tj + rs.max_tol);
      bool prec = precise[j], copy = copied[j];
      int64_t dens = 0;
      KnnRow& st = nearest[j];
      for (int64_t c = 0; c < cc; ++c) {
        const int64_t i = c0 + c;
        const double v = sj + rs.sqnorm[i] - 2.0 * drow[c];
        const double tol = tj + rs.tol[i];
        double exact = -1.0;  // computed at most once per pair, only inside a rounding band
        auto dist = [&]() {
          if (exact < 0.0) exact = std::sqrt(ExactSquaredDistance(synthetic, j, real, i));
          return exact;
        };
        KnnPush(st, 1, v, i, band);
        if (!prec) {
          if (v + tol <= rpr_sq[i]) prec = true;
          else if (v - tol <= rpr_sq[i]) prec = dist() <= rpr[i];
        }
        // Density counts strictly inside the balls, as prdc does (precision/recall use <=).
        if (v + tol < rdc_sq[i]) ++dens;
        else if (v - tol <= rdc_sq[i] && dist() < rdc[i]) ++dens;
        if (!covered[i].load(std::memory_order_relaxed)) {
          bool hit = false;
          if (v + tol < rdc_sq[i]) hit = true;
          else if (v - tol <= rdc_sq[i]) hit = dist() < rdc[i];  // prdc: strict <
          if (hit) covered[i].store(1, std::memory_order_relaxed);
        }
        if (!recalled[i].load(std::memory_order_relaxed)) {
          bool hit = false;
          if (v + tol <= spr_sq[j]) hit = true;
          else if (v - tol <= spr_sq[j]) hit = dist() <= spr[j];
          if (hit) recalled[i].store(1, std::memory_order_relaxed);
        }
        if (!copy && ss.inv_raw_norm[j] > 0.0 && rs.inv_raw_norm[i] > 0.0) {
          // Raw dot = centred dot + mean.x^ + mean.y^ + |mean|^2; error bound from the same terms.
          const double cs = (drow[c] + ss.mu_dot[j] + rs.mu_dot[i] + mean_sq) * ss.inv_raw_norm[j] *
                            rs.inv_raw_norm[i];
          const double cb = gamma * ss.cos_scale[j] * rs.cos_scale[i] +
                            1.01 * 4 * kUnitRoundoff32 * (ss.cos_scale[j] + rs.cos_scale[i]) + 1e-9;
          if (cs - cb >= 0.5) copy = true;
          else if (cs + cb >= 0.5)
            copy = ExactDot(synthetic, j, real, i) * ss.inv_raw_norm[j] * rs.inv_raw_norm[i] >= 0.5;
        }
      }
      precise[j] = prec;
      copied[j] = copy;
      density_count[j] += dens;
    }
  };
  auto finish = [&](int64_t r0, int64_t r1) {
    for (int64_t j = r0; j < r1; ++j) {
      const double band = 2.0 * (ss.tol[j] + rs.max_tol);
      auto nn = KnnFinish(nearest[j], 1, band, [&](int64_t i) {
        return ExactSquaredDistance(synthetic, j, real, i);
      });
      // dgm-eval: authentic when the nearest real row's own nearest real neighbour is strictly
      // closer to it than the synthetic row is (ties in the nearest row: lowest index).
      authentic[j] = real_nn1[nn[0].second] < std::sqrt(nn[0].first);
    }
  };
  if (!BlockedPass(ss, rs, visit, finish, progress, q2, 1.0)) return R::Failure("cancelled");

  NeighbourhoodResult result;
  int64_t p = 0, c = 0, a = 0, rc = 0, cov = 0, dens = 0;
  for (int64_t j = 0; j < m; ++j) {
    p += precise[j];
    c += copied[j];
    a += authentic[j];
    dens += density_count[j];
  }
  for (int64_t i = 0; i < n; ++i) {
    rc += recalled[i].load();
    cov += covered[i].load();
  }
  result.precision = double(p) / double(m);
  result.recall = double(rc) / double(n);
  // prdc: (1/k) * mean over synthetic rows of the number of real balls holding them.
  result.density = (1.0 / dc_k) * (double(dens) / double(m));
  result.coverage = double(cov) / double(n);
  result.authpct = 100.0 * double(a) / double(m);
  result.copy_fraction = double(c) / double(m);
  return result;
}

Result<PrecisionRecallResult> PrecisionRecall(const cv::Mat& real, const cv::Mat& synthetic,
                                              int k) {
  auto r = NeighbourhoodMetrics(real, synthetic, k, k);
  if (!r.ok()) return Result<PrecisionRecallResult>::Failure(r.error());
  return PrecisionRecallResult{r->precision, r->recall};
}

Result<DensityCoverageResult> DensityCoverage(const cv::Mat& real, const cv::Mat& synthetic,
                                              int k) {
  auto r = NeighbourhoodMetrics(real, synthetic, k, k);
  if (!r.ok()) return Result<DensityCoverageResult>::Failure(r.error());
  return DensityCoverageResult{r->density, r->coverage};
}

Result<AuthPctResult> AuthPct(const cv::Mat& real, const cv::Mat& synthetic) {
  auto r = NeighbourhoodMetrics(real, synthetic, 1, 1);
  if (!r.ok()) return Result<AuthPctResult>::Failure(r.error());
  return AuthPctResult{r->authpct, r->copy_fraction};
}

}  // namespace synthlens
