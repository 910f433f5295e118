#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/projection/projection.h"
#include "core/projection/projection_internal.h"
#include "core/util/check.h"

namespace synthlens {
namespace {

internal::RowMatrix ToRowMatrix(const cv::Mat& m) {
  internal::RowMatrix out(m.rows, m.cols);
  for (int r = 0; r < m.rows; ++r)
    for (int c = 0; c < m.cols; ++c)
      out(r, c) = m.depth() == CV_32F ? m.at<float>(r, c) : m.at<double>(r, c);
  return out;
}

}  // namespace

double Trustworthiness(const cv::Mat& high, const cv::Mat& low, int k) {
  SL_CHECK(high.dims == 2 && low.dims == 2 && high.channels() == 1 && low.channels() == 1 &&
               (high.depth() == CV_32F || high.depth() == CV_64F) &&
               (low.depth() == CV_32F || low.depth() == CV_64F),
           "Trustworthiness needs 2-D single-channel float matrices");
  SL_CHECK(high.rows == low.rows, "high has " << high.rows << " rows, low " << low.rows);
  const int64_t n = high.rows;
  // scikit-learn's condition: the normaliser 2n - 3k - 1 must stay positive.
  SL_CHECK(k >= 1 && 2 * static_cast<int64_t>(k) < n, "k " << k << " must be in [1, n/2) for n " << n);
  const internal::RowMatrix x = ToRowMatrix(high);
  const internal::RowMatrix y = ToRowMatrix(low);
  const Eigen::VectorXd xn = x.rowwise().squaredNorm();
  constexpr int64_t kBlock = 64;
  std::vector<int64_t> partial(static_cast<size_t>((n + kBlock - 1) / kBlock), 0);
  internal::ParallelChunks(n, kBlock, [&](int64_t b, int64_t e) {
    const internal::RowMatrix gx = x.middleRows(b, e - b) * x.transpose();
    std::vector<std::pair<double, int64_t>> low_order(static_cast<size_t>(n - 1));
    std::vector<double> high_d(static_cast<size_t>(n));
    int64_t sum = 0;
    for (int64_t i = b; i < e; ++i) {
      // The k nearest in the projection (exact, itself excluded; ties by index).
      size_t m = 0;
      for (int64_t j = 0; j < n; ++j) {
        if (j == i) continue;
        const double dx0 = y(i, 0) - y(j, 0);
        double d = dx0 * dx0;
        for (int c = 1; c < y.cols(); ++c) d += (y(i, c) - y(j, c)) * (y(i, c) - y(j, c));
        low_order[m++] = {d, j};
      }
      std::partial_sort(low_order.begin(), low_order.begin() + k, low_order.end());
      // Squared input distances up to the row constant |x_i|^2, which does not change ranks.
      for (int64_t j = 0; j < n; ++j) high_d[static_cast<size_t>(j)] = xn(j) - 2.0 * gx(i - b, j);
      for (int r = 0; r < k; ++r) {
        const int64_t j = low_order[static_cast<size_t>(r)].second;
        const double dj = high_d[static_cast<size_t>(j)];
        // Rank of j among i's input-space neighbours (1 = nearest), ties broken by index.
        int64_t rank = 1;
        for (int64_t l = 0; l < n; ++l) {
          if (l == i || l == j) continue;
          const double dl = high_d[static_cast<size_t>(l)];
          rank += (dl < dj || (dl == dj && l < j)) ? 1 : 0;
        }
        if (rank > k) sum += rank - k;
      }
    }
    partial[static_cast<size_t>(b / kBlock)] = sum;
  });
  int64_t total = 0;
  for (int64_t v : partial) total += v;
  const double nd = static_cast<double>(n), kd = static_cast<double>(k);
  return 1.0 - static_cast<double>(total) * (2.0 / (nd * kd * (2.0 * nd - 3.0 * kd - 1.0)));
}

}  // namespace synthlens
