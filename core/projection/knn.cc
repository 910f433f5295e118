// k-nearest-neighbour graphs for t-SNE and UMAP: exact for small inputs, HNSW otherwise.
// hnswlib.h defines non-inline functions, so it is included in this one translation unit only.
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <memory>
#include <numeric>
#include <utility>

#include "core/projection/projection_internal.h"
#include "core/util/check.h"

namespace synthlens::internal {
namespace {

double ExactDist2(const RowMatrix& x, int64_t i, int64_t j) {
  return (x.row(i) - x.row(j)).squaredNorm();
}

// Sorts one row's neighbours by (exact distance, index) so ties never depend on the search.
void FinishRow(const RowMatrix& x, int64_t i, int k, std::vector<std::pair<double, int32_t>>* cand,
               Knn* out) {
  for (auto& c : *cand) c.first = ExactDist2(x, i, c.second);
  std::sort(cand->begin(), cand->end());
  for (int r = 0; r < k; ++r) {
    out->index[static_cast<size_t>(i * k + r)] = (*cand)[static_cast<size_t>(r)].second;
    out->dist2[static_cast<size_t>(i * k + r)] = (*cand)[static_cast<size_t>(r)].first;
  }
}

Result<Knn> ExactKnn(const RowMatrix& x, int k, const ProgressFn& progress) {
  const int64_t n = x.rows();
  Knn out;
  out.k = k;
  out.exact = true;
  out.index.resize(static_cast<size_t>(n * k));
  out.dist2.resize(static_cast<size_t>(n * k));
  const Eigen::VectorXd norms = x.rowwise().squaredNorm();
  constexpr int64_t kBlock = 128;
  constexpr int64_t kBatch = kBlock * 32;  // rows between progress calls
  for (int64_t start = 0; start < n; start += kBatch) {
    const int64_t stop = std::min(n, start + kBatch);
    ParallelChunks(stop - start, kBlock, [&](int64_t b, int64_t e) {
      const int64_t r0 = start + b;
      const int64_t rows = e - b;
      // Gram trick for ranking only; the chosen pairs get exact distances in FinishRow.
      const RowMatrix g = x.middleRows(r0, rows) * x.transpose();
      std::vector<std::pair<double, int32_t>> keys(static_cast<size_t>(n - 1));
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = r0 + r;
        size_t m = 0;
        for (int64_t j = 0; j < n; ++j) {
          if (j == i) continue;
          keys[m++] = {norms(j) - 2.0 * g(r, j), static_cast<int32_t>(j)};
        }
        // A margin of extra candidates absorbs the Gram trick's rounding before the exact re-sort.
        const size_t take = std::min<size_t>(keys.size(), static_cast<size_t>(k) + 8);
        std::partial_sort(keys.begin(), keys.begin() + static_cast<std::ptrdiff_t>(take), keys.end());
        std::vector<std::pair<double, int32_t>> cand(keys.begin(),
                                                     keys.begin() + static_cast<std::ptrdiff_t>(take));
        FinishRow(x, i, k, &cand, &out);
      }
    });
    if (progress && !progress(static_cast<double>(stop) / static_cast<double>(n)))
      return Result<Knn>::Failure("cancelled");
  }
  return out;
}

Result<Knn> HnswKnn(const RowMatrix& x, int k, uint64_t seed, const ProgressFn& progress) {
  const int64_t n = x.rows();
  const int64_t d = x.cols();
  std::vector<float> data(static_cast<size_t>(n * d));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t c = 0; c < d; ++c) data[static_cast<size_t>(i * d + c)] = static_cast<float>(x(i, c));
  Knn out;
  out.k = k;
  out.exact = false;
  out.index.resize(static_cast<size_t>(n * k));
  out.dist2.resize(static_cast<size_t>(n * k));
  try {
    hnswlib::L2Space space(static_cast<size_t>(d));
    // Built serially: a parallel build's graph depends on thread timing, and the neighbours (hence
    // the projection) would change from run to run.
    auto index = std::make_unique<hnswlib::HierarchicalNSW<float>>(
        &space, static_cast<size_t>(n), 12, 64, static_cast<size_t>(seed % 1000003ULL + 100));
    for (int64_t i = 0; i < n; ++i) {
      index->addPoint(&data[static_cast<size_t>(i * d)], static_cast<hnswlib::labeltype>(i));
      if ((i & 1023) == 1023 && progress &&
          !progress(0.6 * static_cast<double>(i + 1) / static_cast<double>(n)))
        return Result<Knn>::Failure("cancelled");
    }
    index->setEf(static_cast<size_t>(std::max(3 * k / 2, 64)));
    constexpr int64_t kBatch = 8192;
    for (int64_t start = 0; start < n; start += kBatch) {
      const int64_t stop = std::min(n, start + kBatch);
      ParallelChunks(stop - start, 256, [&](int64_t b, int64_t e) {
        std::vector<std::pair<double, int32_t>> cand;
        for (int64_t i = start + b; i < start + e; ++i) {
          auto heap = index->searchKnn(&data[static_cast<size_t>(i * d)], static_cast<size_t>(k + 1));
          cand.clear();
          while (!heap.empty()) {
            const auto label = static_cast<int64_t>(heap.top().second);
            if (label != i) cand.emplace_back(0.0, static_cast<int32_t>(label));
            heap.pop();
          }
          // The search may miss the point itself (exact duplicates): keep the k closest.
          SL_CHECK(cand.size() >= static_cast<size_t>(k), "HNSW returned " << cand.size() << " < " << k);
          FinishRow(x, i, k, &cand, &out);
        }
      });
      if (progress && !progress(0.6 + 0.4 * static_cast<double>(stop) / static_cast<double>(n)))
        return Result<Knn>::Failure("cancelled");
    }
  } catch (const std::runtime_error& e) {
    return Result<Knn>::Failure(std::string("approximate nearest neighbours failed: ") + e.what());
  }
  return out;
}

}  // namespace

Result<Knn> NearestNeighbors(const RowMatrix& x, int k, int64_t exact_max_n, uint64_t seed,
                             const ProgressFn& progress) {
  SL_CHECK(k >= 1 && k < x.rows(), "k " << k << " for " << x.rows() << " rows");
  if (x.rows() <= exact_max_n) return ExactKnn(x, k, progress);
  return HnswKnn(x, k, seed, progress);
}

}  // namespace synthlens::internal
