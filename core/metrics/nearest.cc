#include "core/metrics/nearest.h"

#include <algorithm>
#include <limits>

#include <ATen/ATen.h>

#include "core/util/check.h"

namespace synthlens {

NearestRowsResult NearestRows(const cv::Mat& queries, const cv::Mat& base, bool exclude_self,
                              const ProgressFn& progress) {
  SL_CHECK(queries.type() == CV_32F && base.type() == CV_32F, "NearestRows needs CV_32F rows");
  SL_CHECK(queries.empty() || base.empty() || queries.cols == base.cols,
           "NearestRows: " << queries.cols << " vs " << base.cols << " columns");
  SL_CHECK(!exclude_self || queries.rows == base.rows, "NearestRows: leave-one-out needs one set");
  const int64_t n = queries.rows, m = base.rows;
  NearestRowsResult out;
  out.max_cosine.assign(n, -1.0);
  out.nn.assign(n, -1);
  out.nn_distance.assign(n, std::numeric_limits<double>::infinity());
  if (n == 0 || m == 0 || (exclude_self && m < 2)) return out;
  const cv::Mat q = queries.isContinuous() ? queries : queries.clone();
  const cv::Mat b = base.isContinuous() ? base : base.clone();
  const int64_t d = q.cols;
  at::Tensor bt = at::from_blob(const_cast<float*>(b.ptr<float>()), {m, d}, at::kFloat);
  at::Tensor qt = at::from_blob(const_cast<float*>(q.ptr<float>()), {n, d}, at::kFloat);
  // Per query row, the nearest base row maximises x.y - |y|^2 / 2 (|x|^2 is constant) and the
  // most similar one maximises x.y / |y|: both come from one GEMM into reused buffers.
  const at::Tensor half_b_sq = bt.mul(bt).sum(1).mul_(0.5f).unsqueeze(0);
  const at::Tensor inv_b_norm =
      bt.mul(bt).sum(1).sqrt_().clamp_min_(1e-30f).reciprocal_().unsqueeze(0);  // zero rows: 0
  const at::Tensor bt_t = bt.t();
  // Rows per block: the two block x M buffers stay near 64 MB each.
  const int64_t block =
      std::max<int64_t>(16, std::min<int64_t>(1024, (16 << 20) / std::max<int64_t>(1, m)));
  at::Tensor dots_buffer = at::empty({std::min(block, n), m}, at::kFloat);
  at::Tensor near_buffer = at::empty({std::min(block, n), m}, at::kFloat);
  const float kNegInf = -std::numeric_limits<float>::infinity();
  for (int64_t r0 = 0; r0 < n; r0 += block) {
    const int64_t r1 = std::min(n, r0 + block);
    at::Tensor dots = dots_buffer.slice(0, 0, r1 - r0);
    at::Tensor near = near_buffer.slice(0, 0, r1 - r0);
    at::mm_out(dots, qt.slice(0, r0, r1), bt_t);
    at::sub_out(near, dots, half_b_sq);
    dots.mul_(inv_b_norm);
    if (exclude_self) {
      const at::Tensor local = at::arange(0, r1 - r0, at::kLong);
      const at::Tensor rows = local + r0;
      dots.index_put_({local, rows}, kNegInf);
      near.index_put_({local, rows}, kNegInf);
    }
    const at::Tensor best_cos_j = std::get<1>(dots.max(1));
    const at::Tensor best_j = std::get<1>(near.max(1));
    const int64_t* cj = best_cos_j.contiguous().data_ptr<int64_t>();
    const int64_t* j = best_j.contiguous().data_ptr<int64_t>();
    // The GEMM picks the rows; their values are recomputed exactly in float64, so an exact copy
    // has distance 0 and cosine 1 despite float32 cancellation in |x|^2 + |y|^2 - 2 x.y.
    for (int64_t i = r0; i < r1; ++i) {
      const float* x = q.ptr<float>(static_cast<int>(i));
      const float* yc = b.ptr<float>(static_cast<int>(cj[i - r0]));
      const float* yd = b.ptr<float>(static_cast<int>(j[i - r0]));
      double dot = 0, xx = 0, yy = 0, d2_exact = 0;
      for (int64_t k = 0; k < d; ++k) {
        dot += static_cast<double>(x[k]) * yc[k];
        xx += static_cast<double>(x[k]) * x[k];
        yy += static_cast<double>(yc[k]) * yc[k];
        const double diff = static_cast<double>(x[k]) - yd[k];
        d2_exact += diff * diff;
      }
      out.max_cosine[i] = xx > 0 && yy > 0 ? std::clamp(dot / std::sqrt(xx * yy), -1.0, 1.0) : 0.0;
      out.nn[i] = j[i - r0];
      out.nn_distance[i] = std::sqrt(d2_exact);
    }
    if (progress && !progress(static_cast<double>(r1) / static_cast<double>(n))) break;
  }
  return out;
}

}  // namespace synthlens
