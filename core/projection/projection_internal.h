#pragma once
// Building blocks of Project(), exposed for the unit tests (not part of the public API).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens::internal {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Runs body(begin, end) over [0, n) in fixed chunks of `chunk` items on the worker pool. The
// chunking does not depend on the thread count, so per-chunk partial sums reduced in chunk order
// give the same bytes with any number of threads.
void ParallelChunks(int64_t n, int64_t chunk, const std::function<void(int64_t, int64_t)>& body);

// PCA of the rows of x (N x d): the N x dims scores of the centred data on the leading principal
// axes, each axis signed so that its largest-|loading| entry is positive. Exact (covariance
// eigendecomposition) when d <= exact_max_dim, else randomised SVD (Halko et al. 2011, 10
// oversamples, 4 power iterations, Gaussian test matrix from `seed`). `variances` receives the
// variance (ddof 1) along each axis.
RowMatrix PcaScores(const RowMatrix& x, int dims, int exact_max_dim, uint64_t seed,
                    std::vector<double>* variances = nullptr, bool* exact = nullptr);

// The k nearest neighbours of every row (itself excluded), closest first, with squared Euclidean
// distances. Exact when n <= exact_max_n, else HNSW (hnswlib: M 12, ef_construction 64, built
// serially with `seed` so the graph is reproducible; queries in parallel with ef = max(3k/2, 64);
// recall@91 0.999+ on Fashion-MNIST PCA-50).
struct Knn {
  int k = 0;
  std::vector<int32_t> index;  // n * k
  std::vector<double> dist2;   // n * k, recomputed exactly in double for the found pairs
  bool exact = true;
};
Result<Knn> NearestNeighbors(const RowMatrix& x, int k, int64_t exact_max_n, uint64_t seed,
                             const ProgressFn& progress);

// Symmetric sparse matrix in CSR form, columns sorted within each row.
struct Csr {
  int64_t n = 0;
  std::vector<int64_t> indptr;
  std::vector<int32_t> indices;
  std::vector<double> values;
};

// t-SNE input similarities: per-point Gaussian bandwidths found by binary search to the
// perplexity (scikit-learn's _binary_search_perplexity on squared distances), then
// P = (P_cond + P_cond^T) / sum, summing to 1.
Csr TsneAffinities(const Knn& knn, double perplexity);

// Repulsive part of the t-SNE gradient by FFT-accelerated interpolation (FIt-SNE, Linderman et
// al. 2019): rep[i] = sum_j w_ij^2 (y_i - y_j), returned with Z = sum_{i != j} w_ij,
// w_ij = 1 / (1 + |y_i - y_j|^2). y and rep are n x 2 row-major. The layout's bounding box is
// covered by square boxes of width <= max_box_width (at least min_boxes along its longer side),
// `nodes` Lagrange nodes per box and axis; the convolution runs on a zero-padded grid of
// FFT-friendly size per axis with single-precision FFTW (r2c/c2r, rows pruned to the occupied
// ones). Plans and the kernel's spectrum are kept between calls while the grid's size and
// spacing stay put. Results do not depend on the thread count.
class FftRepulsion {
 public:
  explicit FftRepulsion(double max_box_width = 1.0, int min_boxes = 20, int nodes = 3);
  ~FftRepulsion();
  FftRepulsion(const FftRepulsion&) = delete;
  FftRepulsion& operator=(const FftRepulsion&) = delete;
  double Compute(const std::vector<double>& y, std::vector<double>* rep);
  // FFT size per axis of the last call (columns = first coordinate, rows = second).
  int grid_cols() const { return mx_; }
  int grid_rows() const { return my_; }

 private:
  double max_box_width_;
  int min_boxes_;
  int nodes_;
  int mx_ = 0, my_ = 0;
  double spacing_ = 0.0;
  struct State;
  std::unique_ptr<State> state_;
};
// Smallest even n >= min_size whose prime factors are 2, 3, 5 and 7 (fast FFTW sizes).
int FftFriendlySize(int min_size);
inline double TsneRepulsionFft(const std::vector<double>& y, std::vector<double>* rep) {
  FftRepulsion repulsion;
  return repulsion.Compute(y, rep);
}
// The same sums computed exactly in O(n^2) (tests, and tiny n).
double TsneRepulsionExact(const std::vector<double>& y, std::vector<double>* rep);

// UMAP's output-space curve 1 / (1 + a d^(2b)) fitted by least squares to the offset exponential
// of (spread, min_dist), as umap-learn's find_ab_params (scipy curve_fit) does.
void FitUmapAB(double spread, double min_dist, double* a, double* b);

// UMAP fuzzy simplicial set from a kNN graph (self excluded in knn): smooth_knn_dist (rho and
// sigma by binary search to log2(k_with_self)) and the fuzzy union A + A^T - A o A^T.
Csr UmapFuzzyGraph(const Knn& knn);

}  // namespace synthlens::internal

namespace synthlens::internal {

// Merges a sparse matrix with its transpose entry by entry: combine(a_ij, a_ji), zeros dropped.
Csr CombineWithTranspose(const Csr& a, double (*combine)(double, double));

struct TsneParams {
  double perplexity = 30.0;
  int iterations = 750;  // 250 exaggerated + 500, FIt-SNE's and openTSNE's default
  double early_exaggeration = 12.0;
  int early_exaggeration_iterations = 250;
  double learning_rate = 0.0;  // 0: auto
  uint64_t seed = 0;
  int pca_exact_max_dim = 512;
  int64_t knn_exact_max_rows = 4096;
  int64_t exact_repulsion_max_rows = 500;  // below this O(n^2) repulsion is cheap and exact
};
struct TsneOutput {
  RowMatrix points;
  int neighbors = 0;
  bool knn_exact = true;
  double learning_rate = 0.0;
  double kl_divergence = 0.0;
};
// x must be finite with n > perplexity and d >= 2 (checked by Project).
Result<TsneOutput> RunTsne(const RowMatrix& x, const TsneParams& params, const ProgressFn& progress);

struct UmapParams {
  int neighbors = 15;  // including the point itself, as umap-learn counts
  double min_dist = 0.1;
  double spread = 1.0;
  int epochs = 0;  // 0: 500 when n <= 10000, else 200
  int negative_sample_rate = 5;
  uint64_t seed = 0;
  int pca_exact_max_dim = 512;
  int64_t knn_exact_max_rows = 4096;
};
struct UmapOutput {
  RowMatrix points;
  double a = 0.0, b = 0.0;
  int epochs = 0;
  bool knn_exact = true;
  int64_t edges = 0;
};
Result<UmapOutput> RunUmap(const RowMatrix& x, const UmapParams& params, const ProgressFn& progress);

}  // namespace synthlens::internal
