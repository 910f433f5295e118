// ProjectSets: real, synthetic and view embeddings placed in one map (projection.h).

#include <vector>

#include "core/projection/projection.h"

namespace synthlens {

// The affine map of a fitted PCA, recovered from its output: PCA is Y = (X - mean) W, and the
// minimum-norm least-squares solution of [X 1] M = Y is exactly that map (W lies in the row span
// of the centred data), so other rows are transformed with the fitted components, not refitted.
cv::Mat FitPcaMap(const cv::Mat& x, const cv::Mat& y) {
  cv::Mat a;
  x.convertTo(a, CV_64F);
  cv::hconcat(a, cv::Mat::ones(a.rows, 1, CV_64F), a);
  cv::Mat b;
  y.convertTo(b, CV_64F);
  // Normal equations keep the solve at (d + 1)^2 whatever N is; SVD gives the min-norm solution
  // when the embeddings are rank-deficient (e.g. constant pixels of the pixel encoder).
  cv::Mat m;
  cv::solve(a.t() * a, a.t() * b, m, cv::DECOMP_SVD);
  return m;
}

cv::Mat PlaceWithPcaMap(const cv::Mat& embeddings, const cv::Mat& pca_map) {
  if (embeddings.empty() || pca_map.empty()) return cv::Mat(0, pca_map.empty() ? 2 : pca_map.cols, CV_32F);
  cv::Mat a;
  embeddings.convertTo(a, CV_64F);
  cv::hconcat(a, cv::Mat::ones(a.rows, 1, CV_64F), a);
  cv::Mat y = a * pca_map;
  y.convertTo(y, CV_32F);
  return y;
}

Result<ProjectedSets> ProjectSets(const cv::Mat& real, const cv::Mat& synthetic, const cv::Mat& extra,
                                  const ProjectionOptions& options, const ProgressFn& progress) {
  using R = Result<ProjectedSets>;
  for (const cv::Mat* m : {&synthetic, &extra}) {
    if (!m->empty() && m->cols != real.cols) {
      return R::Failure("embeddings have " + std::to_string(m->cols) + " dimensions, the real set's " +
                        std::to_string(real.cols));
    }
  }
  ProjectedSets out;
  if (options.method == ProjectionMethod::kPca) {
    auto p = ProjectEmbeddings(real, options, progress);
    if (!p.ok()) return R::Failure(p.error());
    out.real = p->points;
    out.settings = p->settings;
    out.pca_map = FitPcaMap(real, out.real);
    out.synthetic = PlaceWithPcaMap(synthetic, out.pca_map);
    out.extra = PlaceWithPcaMap(extra, out.pca_map);
    return out;
  }
  std::vector<cv::Mat> parts{real};
  if (!synthetic.empty()) parts.push_back(synthetic);
  if (!extra.empty()) parts.push_back(extra);
  cv::Mat all;
  cv::vconcat(parts, all);
  auto p = ProjectEmbeddings(all, options, progress);
  if (!p.ok()) return R::Failure(p.error());
  const int a = real.rows, b = synthetic.empty() ? 0 : synthetic.rows;
  const int dims = p->points.cols;
  out.real = p->points.rowRange(0, a).clone();
  out.synthetic = b > 0 ? p->points.rowRange(a, a + b).clone() : cv::Mat(0, dims, CV_32F);
  out.extra = a + b < all.rows ? p->points.rowRange(a + b, all.rows).clone() : cv::Mat(0, dims, CV_32F);
  out.settings = p->settings;
  return out;
}

}  // namespace synthlens
