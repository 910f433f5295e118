#include "core/metrics/set_metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <sstream>

#include <ATen/ATen.h>
#include <Eigen/Dense>
#include <nlohmann/json.hpp>

#include "core/metrics/metrics_internal.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

using metrics_internal::CheckPair;
using metrics_internal::CheckSet;
using metrics_internal::GatherRows;
using metrics_internal::SubProgress;

constexpr int64_t kChunkRows = 4096;

// Rows [r0, r1) of x as a float64 tensor (a copy).
at::Tensor RowsToDouble(const cv::Mat& x, int64_t r0, int64_t r1) {
  at::Tensor t = at::empty({r1 - r0, x.cols}, at::kDouble);
  double* p = t.data_ptr<double>();
  for (int64_t r = r0; r < r1; ++r) metrics_internal::RowToDouble(x, r, p + (r - r0) * x.cols);
  return t;
}

// Mean and covariance (ddof 1), both in float64; two passes (mean, then centred products).
void MeanCov(const cv::Mat& x, at::Tensor* mean, at::Tensor* cov) {
  const int64_t n = x.rows;
  at::Tensor sum = at::zeros({x.cols}, at::kDouble);
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows) {
    sum += RowsToDouble(x, r0, std::min(n, r0 + kChunkRows)).sum(0);
  }
  *mean = sum / double(n);
  *cov = at::zeros({x.cols, x.cols}, at::kDouble);
  for (int64_t r0 = 0; r0 < n; r0 += kChunkRows) {
    at::Tensor c = RowsToDouble(x, r0, std::min(n, r0 + kChunkRows)) - *mean;
    cov->addmm_(c.t(), c);
  }
  *cov /= double(n - 1);
}

// tr sqrt(S1 S2) = sum sqrt(eig(S1^1/2 S2 S1^1/2)): symmetric eigenproblems only, so singular
// covariances (N < d) are fine; eigenvalues pushed below 0 by round-off are clamped.
double TraceSqrtProduct(const at::Tensor& s1, const at::Tensor& s2) {
  auto [l, v] = at::linalg_eigh(s1);
  at::Tensor root = at::mm(v * l.clamp_min(0).sqrt().unsqueeze(0), v.t());
  at::Tensor m = at::mm(at::mm(root, s2), root);
  m = (m + m.t()) * 0.5;
  return at::linalg_eigvalsh(m).clamp_min(0).sqrt().sum().item<double>();
}

// Sample standard deviation (ddof 1); 0 for fewer than 2 values.
double StandardDeviation(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  double ss = 0.0;
  for (double x : v) ss += (x - mean) * (x - mean);
  return std::sqrt(ss / double(v.size() - 1));
}

// Seeded draw of m distinct indices from [0, n) (partial Fisher-Yates).
std::vector<int64_t> DrawWithoutReplacement(int64_t n, int64_t m, Rng& rng) {
  std::vector<int64_t> idx(n);
  std::iota(idx.begin(), idx.end(), 0);
  for (int64_t t = 0; t < m; ++t) std::swap(idx[t], idx[rng.UniformInt(t, n - 1)]);
  idx.resize(m);
  return idx;
}

Eigen::MatrixXd ToEigen(const cv::Mat& x) {
  Eigen::MatrixXd m(x.rows, x.cols);
  std::vector<double> row(x.cols);
  for (int r = 0; r < x.rows; ++r) {
    metrics_internal::RowToDouble(x, r, row.data());
    for (int c = 0; c < x.cols; ++c) m(r, c) = row[c];
  }
  return m;
}

// log(1 + exp(-t)) without overflow.
inline double LogLoss(double t) { return t > 0 ? std::log1p(std::exp(-t)) : -t + std::log1p(std::exp(t)); }
inline double Sigmoid(double t) {
  if (t >= 0) return 1.0 / (1.0 + std::exp(-t));
  const double e = std::exp(t);
  return e / (1.0 + e);
}

LogisticModel FitLogisticEigen(const Eigen::MatrixXd& x, const std::vector<int>& y, double c,
                               int max_iterations, double tolerance) {
  const int64_t n = x.rows(), d = x.cols();
  Eigen::VectorXd yv(n);
  for (int64_t i = 0; i < n; ++i) yv[i] = y[i] ? 1.0 : 0.0;
  // theta = [w; b]; f = C * sum logloss + |w|^2 / 2 (scikit-learn's objective).
  auto eval = [&](const Eigen::VectorXd& theta, Eigen::VectorXd* grad) {
    const Eigen::VectorXd z = (x * theta.head(d)).array() + theta[d];
    double f = 0.0;
    Eigen::VectorXd r(n);
    for (int64_t i = 0; i < n; ++i) {
      f += LogLoss(yv[i] > 0.5 ? z[i] : -z[i]);
      r[i] = Sigmoid(z[i]) - yv[i];
    }
    grad->resize(d + 1);
    grad->head(d) = c * (x.transpose() * r) + theta.head(d);
    (*grad)[d] = c * r.sum();
    return c * f + 0.5 * theta.head(d).squaredNorm();
  };
  const int history = 10;
  std::vector<Eigen::VectorXd> ss, ys;
  std::vector<double> rho;
  Eigen::VectorXd theta = Eigen::VectorXd::Zero(d + 1), g, g_new;
  double f = eval(theta, &g);
  const double gtol = tolerance * c * double(n);
  LogisticModel model;
  int it = 0;
  for (; it < max_iterations && g.cwiseAbs().maxCoeff() > gtol; ++it) {
    // Two-loop recursion for the quasi-Newton direction.
    Eigen::VectorXd q = g;
    std::vector<double> alpha(ss.size());
    for (int k = static_cast<int>(ss.size()) - 1; k >= 0; --k) {
      alpha[k] = rho[k] * ss[k].dot(q);
      q -= alpha[k] * ys[k];
    }
    if (!ss.empty()) {
      q *= ss.back().dot(ys.back()) / ys.back().squaredNorm();
    } else {
      q /= std::max(1.0, g.norm());
    }
    for (size_t k = 0; k < ss.size(); ++k) {
      const double beta = rho[k] * ys[k].dot(q);
      q += (alpha[k] - beta) * ss[k];
    }
    Eigen::VectorXd dir = -q;
    double slope = g.dot(dir);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      ss.clear(), ys.clear(), rho.clear();
      dir = -g / std::max(1.0, g.norm());
      slope = g.dot(dir);
    }
    // Backtracking (Armijo) line search.
    double step = 1.0, f_new = 0.0;
    Eigen::VectorXd theta_new;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls, step *= 0.5) {
      theta_new = theta + step * dir;
      f_new = eval(theta_new, &g_new);
      if (f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
    }
    if (!accepted) break;  // no further decrease is representable
    Eigen::VectorXd s = theta_new - theta, yk = g_new - g;
    const double sy = s.dot(yk);
    if (sy > 1e-300) {
      if (static_cast<int>(ss.size()) == history) {
        ss.erase(ss.begin()), ys.erase(ys.begin()), rho.erase(rho.begin());
      }
      ss.push_back(s), ys.push_back(yk), rho.push_back(1.0 / sy);
    }
    theta = theta_new, g = g_new, f = f_new;
  }
  model.coef.assign(theta.data(), theta.data() + d);
  model.intercept = theta[d];
  model.iterations = it;
  return model;
}

struct AllMetrics {
  double fid = 0.0;
  bool fid_offset = false;
  KidResult kid;
  NeighbourhoodResult nb;
  double vendi_real = 0.0, vendi_synthetic = 0.0;
  double c2st = 0.0;
  int c2st_rows = 0;
};

// Every metric of one (real, synthetic) pair; C2ST only when with_c2st.
Result<AllMetrics> ComputeAll(const cv::Mat& real, const cv::Mat& synthetic,
                              const SetMetricsOptions& o, uint64_t kid_seed, bool with_c2st,
                              const ProgressFn& progress) {
  using R = Result<AllMetrics>;
  AllMetrics m;
  auto report = [&](double f) { return !progress || progress(f); };
  auto fid = Fid(real, synthetic, &m.fid_offset);
  if (!fid.ok()) return R::Failure(fid.error());
  m.fid = *fid;
  if (!report(0.05)) return R::Failure("cancelled");
  auto kid = Kid(real, synthetic, o.kid_subsets, o.kid_subset_size, kid_seed);
  if (!kid.ok()) return R::Failure(kid.error());
  m.kid = *kid;
  if (!report(0.12)) return R::Failure("cancelled");
  SubProgress sub(progress, 0.12, 0.85);
  auto nb = NeighbourhoodMetrics(real, synthetic, o.pr_k, o.dc_k, progress ? sub.Fn() : nullptr);
  if (!nb.ok()) return R::Failure(nb.error());
  m.nb = *nb;
  auto vr = Vendi(real);
  auto vs = Vendi(synthetic);
  if (!vr.ok()) return R::Failure(vr.error());
  if (!vs.ok()) return R::Failure(vs.error());
  m.vendi_real = *vr, m.vendi_synthetic = *vs;
  if (!report(0.9)) return R::Failure("cancelled");
  if (with_c2st) {
    auto c = C2st(real, synthetic, o.c2st_folds, o.seed, o.c2st_max_rows);
    if (!c.ok()) return R::Failure(c.error());
    m.c2st = *c;
    m.c2st_rows = std::min(real.rows, synthetic.rows);
    if (o.c2st_max_rows > 0) m.c2st_rows = std::min(m.c2st_rows, o.c2st_max_rows);
  }
  if (!report(1.0)) return R::Failure("cancelled");
  return m;
}

// A size problem found before any work: k vs set sizes, FID's two rows, C2ST's folds.
std::string CheckSizes(int64_t n, int64_t m, const SetMetricsOptions& o) {
  const int kreal = std::max(o.pr_k, o.dc_k);
  std::ostringstream s;
  if (kreal >= n) {
    s << "k=" << kreal << " needs at least " << kreal + 1 << " real rows, the real set has " << n;
  } else if (o.pr_k >= m) {
    s << "k=" << o.pr_k << " needs at least " << o.pr_k + 1
      << " synthetic rows, the synthetic set has " << m;
  } else if (std::min(n, m) < o.c2st_folds) {
    s << "C2ST with " << o.c2st_folds << " folds needs at least " << o.c2st_folds
      << " rows in each set, got " << n << " real and " << m << " synthetic";
  }
  return s.str();
}

void PutMetrics(nlohmann::ordered_json& j, const AllMetrics& m, bool with_c2st) {
  j["fid"] = m.fid;
  j["kid_mean"] = m.kid.mean;
  j["kid_std"] = m.kid.std;
  j["precision"] = m.nb.precision;
  j["recall"] = m.nb.recall;
  j["density"] = m.nb.density;
  j["coverage"] = m.nb.coverage;
  j["vendi_real"] = m.vendi_real;
  j["vendi_synthetic"] = m.vendi_synthetic;
  j["authpct"] = m.nb.authpct;
  j["copy_fraction_cos0.5"] = m.nb.copy_fraction;
  if (with_c2st) j["c2st_accuracy"] = m.c2st;
}

}  // namespace

double StudentTQuantile(double dof, double p) {
  SL_CHECK(dof > 0 && p > 0 && p < 1, "StudentTQuantile needs dof > 0 and p in (0, 1): dof=" << dof << " p=" << p);
  if (p < 0.5) return -StudentTQuantile(dof, 1.0 - p);
  // CDF(x) - 1/2 is the integral of the density from 0 to x: composite Simpson in the variable
  // u = atan(x / sqrt(dof)), where the integrand cos(u)^(dof-1) is smooth and bounded on [0, pi/2).
  const double c = std::exp(std::lgamma((dof + 1) / 2) - std::lgamma(dof / 2)) / std::sqrt(M_PI);
  auto half_cdf = [&](double x) {
    const double top = std::atan(x / std::sqrt(dof));
    const int n = 2000;
    const double h = top / n;
    double sum = 0.0;
    for (int i = 0; i <= n; ++i) {
      const double w = i == 0 || i == n ? 1 : (i % 2 ? 4 : 2);
      sum += w * std::pow(std::cos(i * h), dof - 1);
    }
    return c * sum * h / 3.0;
  };
  double lo = 0.0, hi = 1.0;
  while (half_cdf(hi) < p - 0.5 && hi < 1e12) hi *= 2;
  for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; ++i) {
    const double mid = 0.5 * (lo + hi);
    (half_cdf(mid) < p - 0.5 ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

std::string SetMetricsOptions::Check() const {
  std::ostringstream s;
  if (kid_subsets < 1) s << "kid_subsets must be at least 1, got " << kid_subsets;
  else if (kid_subset_size < 2) s << "kid_subset_size must be at least 2, got " << kid_subset_size;
  else if (pr_k < 1) s << "pr_k must be at least 1, got " << pr_k;
  else if (dc_k < 1) s << "dc_k must be at least 1, got " << dc_k;
  else if (c2st_folds < 2) s << "c2st_folds must be at least 2, got " << c2st_folds;
  else if (bootstrap < 0) s << "bootstrap must be >= 0, got " << bootstrap;
  else if (!(confidence > 0.0 && confidence < 1.0))
    s << "confidence must be in (0, 1), got " << confidence;
  return s.str();
}

Result<double> Fid(const cv::Mat& real, const cv::Mat& synthetic, bool* offset_used) {
  if (std::string e = CheckPair(real, synthetic); !e.empty()) return Result<double>::Failure(e);
  if (real.rows < 2 || synthetic.rows < 2) {
    return Result<double>::Failure("FID needs at least 2 rows in each set (covariance, ddof 1)");
  }
  at::Tensor mu1, s1, mu2, s2;
  MeanCov(real, &mu1, &s1);
  MeanCov(synthetic, &mu2, &s2);
  const double mean_term = (mu1 - mu2).pow(2).sum().item<double>();
  const double trace = (s1.trace() + s2.trace()).item<double>();
  double tr_sqrt = TraceSqrtProduct(s1, s2);
  bool offset = false;
  if (!std::isfinite(tr_sqrt)) {
    // pytorch-fid's rule when the square root is not finite: add 1e-6 I to both covariances.
    offset = true;
    const at::Tensor eye = at::eye(real.cols, at::kDouble) * 1e-6;
    tr_sqrt = TraceSqrtProduct(s1 + eye, s2 + eye);
  }
  if (offset_used) *offset_used = offset;
  if (!std::isfinite(tr_sqrt)) return Result<double>::Failure("FID: covariance square root is not finite");
  return mean_term + trace - 2.0 * tr_sqrt;
}

double PolynomialMmd2(const cv::Mat& a, const cv::Mat& b) {
  SL_CHECK(a.rows == b.rows && a.rows >= 2 && a.cols == b.cols,
           "PolynomialMmd2 needs equal sizes >= 2: " << a.rows << "x" << a.cols << " vs " << b.rows
                                                     << "x" << b.cols);
  const int64_t m = a.rows;
  const double gamma = 1.0 / a.cols;
  const at::Tensor x = RowsToDouble(a, 0, m), y = RowsToDouble(b, 0, m);
  auto kernel = [&](const at::Tensor& p, const at::Tensor& q) {
    return (at::mm(p, q.t()) * gamma + 1.0).pow(3);
  };
  const at::Tensor kxx = kernel(x, x), kyy = kernel(y, y), kxy = kernel(x, y);
  const double sxx = (kxx.sum() - kxx.diagonal().sum()).item<double>();
  const double syy = (kyy.sum() - kyy.diagonal().sum()).item<double>();
  const double sxy = kxy.sum().item<double>();
  return (sxx + syy) / double(m * (m - 1)) - 2.0 * sxy / double(m * m);
}

Result<KidResult> Kid(const cv::Mat& real, const cv::Mat& synthetic, int subsets, int subset_size,
                      uint64_t seed) {
  using R = Result<KidResult>;
  if (std::string e = CheckPair(real, synthetic); !e.empty()) return R::Failure(e);
  SL_CHECK(subsets >= 1 && subset_size >= 2,
           "KID needs subsets >= 1 and subset_size >= 2: " << subsets << ", " << subset_size);
  const int size = std::min({subset_size, real.rows, synthetic.rows});
  if (size < 2) return R::Failure("KID needs at least 2 rows in each set");
  // Draws are made up front on this thread so that they do not depend on scheduling.
  Rng rng(MixSeed(seed, 0x4B4944));  // "KID"
  std::vector<std::vector<int64_t>> ia(subsets), ib(subsets);
  for (int s = 0; s < subsets; ++s) {
    ia[s] = DrawWithoutReplacement(real.rows, size, rng);
    ib[s] = DrawWithoutReplacement(synthetic.rows, size, rng);
  }
  std::vector<double> mmd(subsets);
  ParallelFor(subsets, [&](int64_t s) {
    mmd[s] = PolynomialMmd2(GatherRows(real, ia[s]), GatherRows(synthetic, ib[s]));
  });
  KidResult r;
  r.subsets = subsets;
  r.subset_size = size;
  r.mean = std::accumulate(mmd.begin(), mmd.end(), 0.0) / subsets;
  double var = 0.0;
  for (double v : mmd) var += (v - r.mean) * (v - r.mean);
  r.std = std::sqrt(var / subsets);
  return r;
}

Result<double> Vendi(const cv::Mat& x) {
  if (std::string e = CheckSet(x, "input"); !e.empty()) return Result<double>::Failure(e);
  const int64_t n = x.rows, d = x.cols;
  auto normalised = [&](int64_t r0, int64_t r1) {
    at::Tensor t = RowsToDouble(x, r0, r1);
    at::Tensor norm = t.pow(2).sum(1, true).sqrt();
    return t / at::where(norm > 0, norm, at::ones_like(norm));  // all-zero rows stay zero
  };
  at::Tensor k;
  if (n >= d) {
    // X^T X / n has the same non-zero eigenvalues as X X^T / n and is only d x d.
    k = at::zeros({d, d}, at::kDouble);
    for (int64_t r0 = 0; r0 < n; r0 += kChunkRows) {
      const at::Tensor c = normalised(r0, std::min(n, r0 + kChunkRows));
      k.addmm_(c.t(), c);
    }
  } else {
    const at::Tensor c = normalised(0, n);
    k = at::mm(c, c.t());
  }
  k /= double(n);
  const at::Tensor w = at::linalg_eigvalsh(k);
  const at::Tensor p = w.masked_select(w > 0);
  const double entropy = -(p * p.log()).sum().item<double>();
  return std::exp(entropy);
}

LogisticModel FitLogisticRegression(const cv::Mat& x, const std::vector<int>& y, double c,
                                    int max_iterations, double tolerance) {
  SL_CHECK(!x.empty() && static_cast<size_t>(x.rows) == y.size(),
           "FitLogisticRegression: " << x.rows << " rows, " << y.size() << " labels");
  SL_CHECK(c > 0, "FitLogisticRegression: C must be positive, got " << c);
  return FitLogisticEigen(ToEigen(x), y, c, max_iterations, tolerance);
}

Result<double> C2st(const cv::Mat& real, const cv::Mat& synthetic, int folds, uint64_t seed,
                    int max_rows) {
  using R = Result<double>;
  if (std::string e = CheckPair(real, synthetic); !e.empty()) return R::Failure(e);
  SL_CHECK(folds >= 2, "C2ST needs at least 2 folds, got " << folds);
  int64_t m = std::min(real.rows, synthetic.rows);
  if (max_rows > 0) m = std::min<int64_t>(m, max_rows);
  if (m < folds) {
    return R::Failure("C2ST with " + std::to_string(folds) + " folds needs at least " +
                      std::to_string(folds) + " rows in each set");
  }
  Rng rng(MixSeed(seed, 0xC257));
  // Equal class sizes (so 0.5 is chance) and a seeded stratified fold per row.
  const std::vector<int64_t> ir = DrawWithoutReplacement(real.rows, m, rng);
  const std::vector<int64_t> is = DrawWithoutReplacement(synthetic.rows, m, rng);
  Eigen::MatrixXd all(2 * m, real.cols);
  std::vector<int> label(2 * m), fold(2 * m);
  {
    const Eigen::MatrixXd a = ToEigen(GatherRows(real, ir)), b = ToEigen(GatherRows(synthetic, is));
    all.topRows(m) = a;
    all.bottomRows(m) = b;
  }
  for (int cls = 0; cls < 2; ++cls) {
    const std::vector<int64_t> order = DrawWithoutReplacement(m, m, rng);
    for (int64_t t = 0; t < m; ++t) {
      label[cls * m + order[t]] = cls;
      fold[cls * m + order[t]] = static_cast<int>(t % folds);
    }
  }
  std::vector<int64_t> correct(folds, 0);
  ParallelFor(folds, [&](int64_t f) {
    std::vector<int64_t> train, test;
    for (int64_t r = 0; r < 2 * m; ++r) (fold[r] == f ? test : train).push_back(r);
    Eigen::MatrixXd xt(train.size(), all.cols());
    std::vector<int> yt(train.size());
    for (size_t r = 0; r < train.size(); ++r) {
      xt.row(r) = all.row(train[r]);
      yt[r] = label[train[r]];
    }
    // Standardise on the training fold only (StandardScaler: ddof 0, zero variance -> scale 1).
    const Eigen::RowVectorXd mean = xt.colwise().mean();
    xt.rowwise() -= mean;
    Eigen::RowVectorXd scale = (xt.array().square().colwise().sum() / double(xt.rows())).sqrt();
    for (int c = 0; c < scale.size(); ++c) if (!(scale[c] > 1e-12)) scale[c] = 1.0;
    xt.array().rowwise() /= scale.array();
    const LogisticModel model = FitLogisticEigen(xt, yt, 1.0, 500, 1e-6);
    const Eigen::Map<const Eigen::VectorXd> w(model.coef.data(), all.cols());
    for (int64_t r : test) {
      const Eigen::RowVectorXd z = (all.row(r) - mean).array() / scale.array();
      const int predicted = z.dot(w) + model.intercept > 0 ? 1 : 0;
      correct[f] += predicted == label[r];
    }
  });
  return double(std::accumulate(correct.begin(), correct.end(), int64_t{0})) / double(2 * m);
}

Result<std::string> CompareSetsJson(const cv::Mat& real, const cv::Mat& synthetic,
                                    const SetMetricsOptions& options,
                                    const std::vector<int>& real_labels,
                                    const std::vector<int>& synthetic_labels,
                                    const ProgressFn& progress) {
  using R = Result<std::string>;
  if (std::string e = options.Check(); !e.empty()) return R::Failure("options: " + e);
  if (std::string e = CheckPair(real, synthetic); !e.empty()) return R::Failure(e);
  if (!real_labels.empty() && real_labels.size() != static_cast<size_t>(real.rows)) {
    return R::Failure("real labels: " + std::to_string(real_labels.size()) + " labels for " +
                      std::to_string(real.rows) + " rows");
  }
  if (!synthetic_labels.empty() && synthetic_labels.size() != static_cast<size_t>(synthetic.rows)) {
    return R::Failure("synthetic labels: " + std::to_string(synthetic_labels.size()) +
                      " labels for " + std::to_string(synthetic.rows) + " rows");
  }
  if (std::string e = CheckSizes(real.rows, synthetic.rows, options); !e.empty()) return R::Failure(e);

  // Classes present in both sets (label >= 0), when per-class metrics are asked for.
  std::map<int, std::pair<std::vector<int64_t>, std::vector<int64_t>>> classes;
  const bool per_class = options.per_class && !real_labels.empty() && !synthetic_labels.empty();
  if (per_class) {
    for (int r = 0; r < real.rows; ++r) if (real_labels[r] >= 0) classes[real_labels[r]].first.push_back(r);
    for (int r = 0; r < synthetic.rows; ++r) {
      if (synthetic_labels[r] >= 0) classes[synthetic_labels[r]].second.push_back(r);
    }
    for (auto it = classes.begin(); it != classes.end();) {
      it = (it->second.first.empty() || it->second.second.empty()) ? classes.erase(it) : std::next(it);
    }
  }
  // Progress units: the main run, each bootstrap round, all classes together.
  const double units = 1.0 + options.bootstrap + (per_class ? 1.0 : 0.0);
  double done = 0.0;
  SubProgress main_progress(progress, 0.0, 1.0 / units);
  auto main = ComputeAll(real, synthetic, options, options.seed, true,
                         progress ? main_progress.Fn() : nullptr);
  if (!main.ok()) return R::Failure(main.error());
  done += 1.0;

  nlohmann::ordered_json j;
  PutMetrics(j, *main, true);

  if (options.bootstrap > 0) {
    // Half-sampling (the delete-n/2 jackknife): each round draws half of each set without
    // replacement and recomputes every metric but C2ST. For a statistic whose variance goes as 1/n,
    // the spread of half-sample values around their mean is the spread of the full-size estimate
    // (finite-population correction: 1/(n/2) - 1/n = 1/n), with no duplicated rows to shrink the
    // k-NN radii. The interval is the estimate +- t(rounds-1) * that spread, so it is centred on the
    // number shown and describes its sampling variability (docs/metrics.md).
    const int64_t half_real = real.rows / 2, half_synthetic = synthetic.rows / 2;
    if (std::string e = CheckSizes(half_real, half_synthetic, options); !e.empty()) {
      return R::Failure("intervals need each set twice as large as one metric run does (half-sampling): " + e);
    }
    std::vector<std::vector<double>> values(11);
    const char* names[] = {"fid", "kid_mean", "precision", "recall", "density", "coverage",
                           "vendi_real", "vendi_synthetic", "authpct", "copy_fraction_cos0.5",
                           "kid_std"};
    for (int b = 0; b < options.bootstrap; ++b) {
      Rng rng(MixSeed(options.seed, 0xB0000 + static_cast<uint64_t>(b)));
      std::vector<int64_t> ir = DrawWithoutReplacement(real.rows, half_real, rng);
      std::vector<int64_t> is = DrawWithoutReplacement(synthetic.rows, half_synthetic, rng);
      std::sort(ir.begin(), ir.end());
      std::sort(is.begin(), is.end());
      SubProgress sub(progress, done / units, (done + 1.0) / units);
      auto m = ComputeAll(GatherRows(real, ir), GatherRows(synthetic, is), options,
                          MixSeed(options.seed, b + 1), false, progress ? sub.Fn() : nullptr);
      if (!m.ok()) return R::Failure("interval round " + std::to_string(b) + ": " + m.error());
      done += 1.0;
      const double v[] = {m->fid, m->kid.mean, m->nb.precision, m->nb.recall, m->nb.density,
                          m->nb.coverage, m->vendi_real, m->vendi_synthetic, m->nb.authpct,
                          m->nb.copy_fraction, m->kid.std};
      for (int k = 0; k < 11; ++k) values[k].push_back(v[k]);
    }
    const double estimate[] = {main->fid, main->kid.mean, main->nb.precision, main->nb.recall,
                               main->nb.density, main->nb.coverage, main->vendi_real,
                               main->vendi_synthetic, main->nb.authpct, main->nb.copy_fraction};
    // The metrics' ranges: an interval never leaves them.
    const double lower[] = {0, -HUGE_VAL, 0, 0, 0, 0, 1, 1, 0, 0};
    const double upper[] = {HUGE_VAL, HUGE_VAL, 1, 1, HUGE_VAL, 1, HUGE_VAL, HUGE_VAL, 100, 1};
    const double t = options.bootstrap > 1 ? StudentTQuantile(options.bootstrap - 1, 0.5 + options.confidence / 2.0) : 0.0;
    nlohmann::ordered_json intervals;
    for (int k = 0; k < 10; ++k) {  // kid_std's spread is not reported
      const double spread = StandardDeviation(values[k]);
      intervals[names[k]] = {std::max(lower[k], estimate[k] - t * spread), std::min(upper[k], estimate[k] + t * spread)};
    }
    j["intervals"] = intervals;
  }

  if (per_class) {
    nlohmann::ordered_json pc = nlohmann::ordered_json::object();
    size_t index = 0;
    for (const auto& [cls, rows] : classes) {
      const cv::Mat a = GatherRows(real, rows.first), b = GatherRows(synthetic, rows.second);
      nlohmann::ordered_json e;
      e["n_real"] = a.rows;
      e["n_synthetic"] = b.rows;
      std::string problem = CheckSizes(a.rows, b.rows, options);
      if (problem.empty()) {
        SubProgress sub(progress, (done + double(index) / classes.size()) / units,
                        (done + double(index + 1) / classes.size()) / units);
        auto m = ComputeAll(a, b, options, options.seed, true, progress ? sub.Fn() : nullptr);
        if (!m.ok() && m.error() == "cancelled") return R::Failure("cancelled");
        if (m.ok()) PutMetrics(e, *m, true);
        else problem = m.error();
      }
      if (!problem.empty()) e["error"] = problem;
      pc[std::to_string(cls)] = e;
      ++index;
    }
    j["per_class"] = pc;
  }

  nlohmann::ordered_json s;
  s["n_real"] = real.rows;
  s["n_synthetic"] = synthetic.rows;
  s["dim"] = real.cols;
  s["kid_subsets"] = main->kid.subsets;
  s["kid_subset_size"] = main->kid.subset_size;
  s["kid_subset_size_requested"] = options.kid_subset_size;
  s["kid_kernel"] = "(x.y/d + 1)^3";
  s["pr_k"] = options.pr_k;
  s["dc_k"] = options.dc_k;
  s["c2st_folds"] = options.c2st_folds;
  s["c2st_rows_per_set"] = main->c2st_rows;
  s["c2st_max_rows"] = options.c2st_max_rows;
  s["c2st_model"] = "L2 logistic regression, C=1, standardised features";
  s["bootstrap"] = options.bootstrap;
  if (options.bootstrap > 0) s["interval_method"] = "half-sampling without replacement, estimate +- t(rounds-1) * sd";
  s["confidence"] = options.confidence;
  s["per_class"] = per_class;
  s["seed"] = options.seed;
  s["fid_offset_used"] = main->fid_offset;
  s["distance"] = "euclidean; k-NN and ball decisions exact in float64";
  j["settings"] = s;
  if (progress && !progress(1.0)) return R::Failure("cancelled");
  return j.dump();
}

}  // namespace synthlens
