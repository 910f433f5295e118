#include "core/projection/projection.h"

#include <chrono>
#include <cmath>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/projection/projection_internal.h"
#include "core/util/check.h"
#include "core/util/parallel.h"

namespace synthlens {

std::optional<ProjectionMethod> ParseProjectionMethod(const std::string& name) {
  if (name == "pca") return ProjectionMethod::kPca;
  if (name == "tsne") return ProjectionMethod::kTsne;
  if (name == "umap") return ProjectionMethod::kUmap;
  return std::nullopt;
}

const char* ProjectionMethodName(ProjectionMethod method) {
  switch (method) {
    case ProjectionMethod::kPca:
      return "pca";
    case ProjectionMethod::kTsne:
      return "tsne";
    case ProjectionMethod::kUmap:
      return "umap";
  }
  return "unknown";
}

std::string ProjectionOptions::Check() const {
  std::ostringstream e;
  if (dims < 1) {
    e << "dims must be at least 1 (got " << dims << ")";
  } else if (method != ProjectionMethod::kPca && dims != 2) {
    e << ProjectionMethodName(method) << " projects to 2 dims only (got dims " << dims << ")";
  } else if (pca_exact_max_dim < 1) {
    e << "pca_exact_max_dim must be at least 1";
  } else if (knn_exact_max_rows < 0) {
    e << "knn_exact_max_rows must not be negative";
  } else if (!(perplexity > 0) || !std::isfinite(perplexity)) {
    e << "perplexity must be positive (got " << perplexity << ")";
  } else if (tsne_iterations < 1) {
    e << "iterations must be at least 1 (got " << tsne_iterations << ")";
  } else if (!(early_exaggeration > 0) || !std::isfinite(early_exaggeration)) {
    e << "early_exaggeration must be positive";
  } else if (early_exaggeration_iterations < 0) {
    e << "early_exaggeration_iterations must not be negative";
  } else if (!(learning_rate >= 0) || !std::isfinite(learning_rate)) {
    e << "learning_rate must be 0 (auto) or positive";
  } else if (umap_neighbors < 2) {
    e << "neighbors must be at least 2 (got " << umap_neighbors << ")";
  } else if (!(umap_min_dist >= 0.0 && umap_min_dist <= 1.0)) {
    // umap-learn requires min_dist <= spread, and the spread here is 1.
    e << "min_dist must be in [0, 1] (got " << umap_min_dist << ")";
  } else if (umap_epochs < 0) {
    e << "epochs must be 0 (auto) or positive (got " << umap_epochs << ")";
  }
  return e.str();
}

Result<ProjectionResult> ProjectEmbeddings(const cv::Mat& embeddings, const ProjectionOptions& options,
                                 const ProgressFn& progress) {
  using R = Result<ProjectionResult>;
  SL_CHECK(embeddings.empty() || (embeddings.dims == 2 && embeddings.channels() == 1 &&
                                  (embeddings.depth() == CV_32F || embeddings.depth() == CV_64F)),
           "Project needs a 2-D single-channel CV_32F or CV_64F matrix, got type "
               << embeddings.type());
  const auto start = std::chrono::steady_clock::now();
  if (const std::string problem = options.Check(); !problem.empty()) return R::Failure(problem);
  const int64_t n = embeddings.rows;
  const int64_t d = embeddings.cols;
  if (n < 2) return R::Failure("needs at least 2 rows, got " + std::to_string(n));
  internal::RowMatrix x(n, d);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t c = 0; c < d; ++c) {
      const double v = embeddings.depth() == CV_32F ? embeddings.at<float>(static_cast<int>(i), static_cast<int>(c))
                                                    : embeddings.at<double>(static_cast<int>(i), static_cast<int>(c));
      if (!std::isfinite(v)) {
        return R::Failure("row " + std::to_string(i) + " is not finite (column " + std::to_string(c) + ")");
      }
      x(i, c) = v;
    }
  }
  nlohmann::ordered_json s;
  s["method"] = ProjectionMethodName(options.method);
  s["rows"] = n;
  s["columns"] = d;
  s["dims"] = options.dims;
  s["seed"] = options.seed;
  s["threads"] = NumThreads();
  internal::RowMatrix points;
  if (options.method == ProjectionMethod::kPca) {
    if (options.dims > d) {
      return R::Failure("dims " + std::to_string(options.dims) + " exceeds the " + std::to_string(d) +
                        " input columns");
    }
    std::vector<double> variances;
    bool exact = true;
    points = internal::PcaScores(x, options.dims, options.pca_exact_max_dim, options.seed, &variances, &exact);
    s["solver"] = exact ? "covariance-eigen" : "randomized-svd";
    s["explained_variance"] = variances;
    if (progress && !progress(1.0)) return R::Failure("cancelled");
  } else if (options.method == ProjectionMethod::kTsne) {
    if (options.perplexity >= static_cast<double>(n)) {
      std::ostringstream e;
      e << "perplexity " << options.perplexity << " must be less than the number of rows (" << n << ")";
      return R::Failure(e.str());
    }
    if (d < 2) return R::Failure("t-SNE needs at least 2 input columns for its PCA initialisation");
    internal::TsneParams p;
    p.perplexity = options.perplexity;
    p.iterations = options.tsne_iterations;
    p.early_exaggeration = options.early_exaggeration;
    p.early_exaggeration_iterations = options.early_exaggeration_iterations;
    p.learning_rate = options.learning_rate;
    p.seed = options.seed;
    p.pca_exact_max_dim = options.pca_exact_max_dim;
    p.knn_exact_max_rows = options.knn_exact_max_rows;
    auto out = internal::RunTsne(x, p, progress);
    if (!out.ok()) return R::Failure(out.error());
    points = std::move(out->points);
    s["perplexity"] = p.perplexity;
    s["neighbors"] = out->neighbors;
    s["knn"] = out->knn_exact ? "exact" : "hnsw";
    s["iterations"] = p.iterations;
    s["early_exaggeration"] = p.early_exaggeration;
    s["early_exaggeration_iterations"] = p.early_exaggeration_iterations;
    s["learning_rate"] = out->learning_rate;
    s["init"] = "pca";
    s["repulsion"] = n <= p.exact_repulsion_max_rows ? "exact" : "fft-interpolation";
    s["kl_divergence"] = out->kl_divergence;
  } else {
    if (options.umap_neighbors > n) {
      return R::Failure("neighbors " + std::to_string(options.umap_neighbors) +
                        " exceeds the number of rows (" + std::to_string(n) + ")");
    }
    if (d < 2) return R::Failure("UMAP needs at least 2 input columns for its PCA initialisation");
    internal::UmapParams p;
    p.neighbors = options.umap_neighbors;
    p.min_dist = options.umap_min_dist;
    p.epochs = options.umap_epochs;
    p.seed = options.seed;
    p.pca_exact_max_dim = options.pca_exact_max_dim;
    p.knn_exact_max_rows = options.knn_exact_max_rows;
    auto out = internal::RunUmap(x, p, progress);
    if (!out.ok()) return R::Failure(out.error());
    points = std::move(out->points);
    s["neighbors"] = p.neighbors;
    s["knn"] = out->knn_exact ? "exact" : "hnsw";
    s["min_dist"] = p.min_dist;
    s["spread"] = p.spread;
    s["a"] = out->a;
    s["b"] = out->b;
    s["epochs"] = out->epochs;
    s["negative_sample_rate"] = p.negative_sample_rate;
    s["edges"] = out->edges;
    s["init"] = "pca";
  }
  ProjectionResult result;
  result.points.create(static_cast<int>(n), options.dims, CV_32F);
  for (int64_t i = 0; i < n; ++i)
    for (int c = 0; c < options.dims; ++c)
      result.points.at<float>(static_cast<int>(i), c) = static_cast<float>(points(i, c));
  s["seconds"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  result.settings = s.dump();
  return result;
}

}  // namespace synthlens
