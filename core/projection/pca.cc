#include <algorithm>
#include <cmath>

#include <Eigen/Dense>

#include "core/projection/projection_internal.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens::internal {

void ParallelChunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& body) {
  SL_CHECK(chunk > 0, "chunk " << chunk);
  if (n <= 0) return;
  const int64_t chunks = (n + chunk - 1) / chunk;
  ParallelFor(chunks, [&](int64_t c) { body(c * chunk, std::min(n, (c + 1) * chunk)); });
}

namespace {

// Orthonormal basis of the columns of m (thin Q of a Householder QR).
Eigen::MatrixXd Orthonormalize(const Eigen::MatrixXd& m) {
  Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
  return qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols());
}

}  // namespace

RowMatrix PcaScores(const RowMatrix& x, int dims, int exact_max_dim, uint64_t seed,
                    std::vector<double>* variances, bool* exact_out) {
  const int64_t n = x.rows();
  const int64_t d = x.cols();
  SL_CHECK(n >= 1 && dims >= 1 && dims <= d, "PCA of " << n << " x " << d << " to " << dims);
  const Eigen::RowVectorXd mean = x.colwise().mean();
  const RowMatrix xc = x.rowwise() - mean;
  const double denom = static_cast<double>(std::max<int64_t>(n - 1, 1));
  Eigen::MatrixXd axes(d, dims);
  std::vector<double> var(static_cast<size_t>(dims));
  // Randomised SVD needs a sketch of dims + oversampling columns; when that is no smaller than the
  // problem itself the exact path is both cheaper and exact.
  const int64_t sketch = std::min<int64_t>(dims + 10, std::min(n, d));
  const bool exact = d <= exact_max_dim || sketch <= dims;
  if (exact) {
    const Eigen::MatrixXd cov = (xc.transpose() * xc) / denom;
    Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
    for (int c = 0; c < dims; ++c) {
      axes.col(c) = solver.eigenvectors().col(d - 1 - c);
      var[static_cast<size_t>(c)] = std::max(0.0, solver.eigenvalues()(d - 1 - c));
    }
  } else {
    // Halko, Martinsson & Tropp 2011, algorithm 4.4 (subspace iteration with re-orthonormalisation
    // after every product, so the power iterations do not lose the small singular directions).
    Rng rng(MixSeed(seed, 0x9ca0f00dULL));
    Eigen::MatrixXd omega(d, sketch);
    for (int64_t c = 0; c < sketch; ++c)
      for (int64_t r = 0; r < d; ++r) omega(r, c) = rng.Normal();
    Eigen::MatrixXd q = Orthonormalize(xc * omega);
    for (int it = 0; it < 4; ++it) {
      const Eigen::MatrixXd z = Orthonormalize(xc.transpose() * q);
      q = Orthonormalize(xc * z);
    }
    const Eigen::MatrixXd b = q.transpose() * xc;  // sketch x d
    Eigen::BDCSVD<Eigen::MatrixXd> svd(b, Eigen::ComputeThinV);
    for (int c = 0; c < dims; ++c) {
      axes.col(c) = svd.matrixV().col(c);
      const double s = svd.singularValues()(c);
      var[static_cast<size_t>(c)] = s * s / denom;
    }
  }
  // Eigenvectors are defined up to sign; fixing the largest-|loading| entry positive makes the
  // output independent of the solver's choice (first index wins ties).
  for (int c = 0; c < dims; ++c) {
    Eigen::Index best = 0;
    axes.col(c).cwiseAbs().maxCoeff(&best);
    if (axes(best, c) < 0) axes.col(c) = -axes.col(c);
  }
  if (variances) *variances = var;
  if (exact_out) *exact_out = exact;
  return xc * axes;
}

}  // namespace synthlens::internal
