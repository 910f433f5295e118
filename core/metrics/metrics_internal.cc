#include "core/metrics/metrics_internal.h"

#include <cmath>
#include <sstream>

#include "core/util/check.h"

namespace synthlens::metrics_internal {

std::string CheckSet(const cv::Mat& x, const std::string& name) {
  if (x.empty() || x.rows == 0 || x.cols == 0) return name + " set is empty";
  SL_CHECK(x.dims == 2 && x.channels() == 1 && (x.depth() == CV_32F || x.depth() == CV_64F),
           name << " set must be a 2-D one-channel CV_32F or CV_64F matrix, got type " << x.type());
  for (int r = 0; r < x.rows; ++r) {
    for (int c = 0; c < x.cols; ++c) {
      const double v = x.depth() == CV_32F ? x.ptr<float>(r)[c] : x.ptr<double>(r)[c];
      if (!std::isfinite(v)) {
        std::ostringstream s;
        s << name << " set: row " << r << " column " << c << " is not finite (" << v << ")";
        return s.str();
      }
    }
  }
  return "";
}

std::string CheckPair(const cv::Mat& real, const cv::Mat& synthetic) {
  if (std::string e = CheckSet(real, "real"); !e.empty()) return e;
  if (std::string e = CheckSet(synthetic, "synthetic"); !e.empty()) return e;
  if (real.cols != synthetic.cols) {
    return "dimension mismatch: real rows have d=" + std::to_string(real.cols) +
           ", synthetic rows have d=" + std::to_string(synthetic.cols);
  }
  return "";
}

void RowToDouble(const cv::Mat& x, int64_t r, double* out) {
  if (x.depth() == CV_32F) {
    const float* p = x.ptr<float>(static_cast<int>(r));
    for (int c = 0; c < x.cols; ++c) out[c] = p[c];
  } else {
    const double* p = x.ptr<double>(static_cast<int>(r));
    for (int c = 0; c < x.cols; ++c) out[c] = p[c];
  }
}

namespace {
template <typename A, typename B>
double SquaredDistance(const A* a, const B* b, int d) {
  double s = 0.0;
  for (int k = 0; k < d; ++k) {
    const double t = static_cast<double>(a[k]) - static_cast<double>(b[k]);
    s += t * t;
  }
  return s;
}
template <typename A, typename B>
double Dot(const A* a, const B* b, int d) {
  double s = 0.0;
  for (int k = 0; k < d; ++k) s += static_cast<double>(a[k]) * static_cast<double>(b[k]);
  return s;
}
}  // namespace

double ExactSquaredDistance(const cv::Mat& a, int64_t i, const cv::Mat& b, int64_t j) {
  const int ii = static_cast<int>(i), jj = static_cast<int>(j), d = a.cols;
  const bool af = a.depth() == CV_32F, bf = b.depth() == CV_32F;
  if (af && bf) return SquaredDistance(a.ptr<float>(ii), b.ptr<float>(jj), d);
  if (af) return SquaredDistance(a.ptr<float>(ii), b.ptr<double>(jj), d);
  if (bf) return SquaredDistance(a.ptr<double>(ii), b.ptr<float>(jj), d);
  return SquaredDistance(a.ptr<double>(ii), b.ptr<double>(jj), d);
}

double ExactDot(const cv::Mat& a, int64_t i, const cv::Mat& b, int64_t j) {
  const int ii = static_cast<int>(i), jj = static_cast<int>(j), d = a.cols;
  const bool af = a.depth() == CV_32F, bf = b.depth() == CV_32F;
  if (af && bf) return Dot(a.ptr<float>(ii), b.ptr<float>(jj), d);
  if (af) return Dot(a.ptr<float>(ii), b.ptr<double>(jj), d);
  if (bf) return Dot(a.ptr<double>(ii), b.ptr<float>(jj), d);
  return Dot(a.ptr<double>(ii), b.ptr<double>(jj), d);
}

cv::Mat GatherRows(const cv::Mat& x, const std::vector<int64_t>& index) {
  cv::Mat out(static_cast<int>(index.size()), x.cols, x.type());
  for (size_t r = 0; r < index.size(); ++r) x.row(static_cast<int>(index[r])).copyTo(out.row(static_cast<int>(r)));
  return out;
}

ProgressFn SubProgress::Fn() {
  return [this](double f) { return Report(f); };
}

bool SubProgress::Report(double fraction) {
  if (!outer_) return true;
  return outer_(begin_ + (end_ - begin_) * std::min(1.0, std::max(0.0, fraction)));
}

}  // namespace synthlens::metrics_internal
