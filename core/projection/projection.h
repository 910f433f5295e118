#pragma once
// 2-D (or k-D) projections of embedding matrices: PCA, t-SNE, UMAP (docs/projection.md).
// Seeded and deterministic for a fixed thread count; progress and cancellation through ProgressFn.

#include <cstdint>
#include <optional>
#include <string>

#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

enum class ProjectionMethod { kPca, kTsne, kUmap };

// "pca" | "tsne" | "umap" (case-sensitive); nullopt otherwise.
std::optional<ProjectionMethod> ParseProjectionMethod(const std::string& name);
const char* ProjectionMethodName(ProjectionMethod method);

struct ProjectionOptions {
  ProjectionMethod method = ProjectionMethod::kPca;
  int dims = 2;  // output columns; t-SNE and UMAP: 2
  uint64_t seed = 0;
  // PCA: exact (covariance eigendecomposition) when d <= pca_exact_max_dim, else randomised SVD.
  int pca_exact_max_dim = 512;
  // t-SNE and UMAP neighbours: exact up to this many rows, else HNSW (approximate, seeded).
  int64_t knn_exact_max_rows = 4096;
  // t-SNE (van der Maaten; defaults as scikit-learn's TSNE).
  double perplexity = 30.0;
  int tsne_iterations = 750;  // including the early-exaggeration phase (250)
  double early_exaggeration = 12.0;
  int early_exaggeration_iterations = 250;
  double learning_rate = 0.0;  // 0: "auto" = max(N / early_exaggeration / 4, 50)
  // UMAP (McInnes et al.; defaults as umap-learn's).
  int umap_neighbors = 15;
  double umap_min_dist = 0.1;
  int umap_epochs = 0;  // 0: 500 when N <= 10000, else 200
  // Empty when valid, else the problem naming the option.
  std::string Check() const;
};

struct ProjectionResult {
  cv::Mat points;        // N x dims, CV_32F, row i for input row i
  std::string settings;  // one JSON object: method, every parameter actually used, seconds
};

// Projects N x d embeddings (CV_32F or CV_64F, N >= 2, finite). progress(fraction) returning false
// cancels: the result is then Failure("cancelled"). Invalid options or input are failures naming
// the problem.
Result<ProjectionResult> ProjectEmbeddings(const cv::Mat& embeddings, const ProjectionOptions& options,
                                 const ProgressFn& progress = nullptr);

// Real, synthetic and extra (e.g. one image's views) embeddings in one map, as the studio's
// Embeddings tab and the embedding figure draw them. PCA is fitted on the real rows alone and the
// others are placed with its components, so adding synthetic images never moves the real points;
// t-SNE and UMAP place only the points they are fitted on, so they project the union. Empty
// synthetic/extra matrices give 0-row results.
struct ProjectedSets {
  cv::Mat real, synthetic, extra;  // CV_32F, rows in input order
  cv::Mat pca_map;                 // PCA only: the fit's affine map, for PlaceWithPcaMap
  std::string settings;            // as ProjectionResult::settings
};
Result<ProjectedSets> ProjectSets(const cv::Mat& real, const cv::Mat& synthetic, const cv::Mat& extra,
                                  const ProjectionOptions& options, const ProgressFn& progress = nullptr);
// Rows placed in a fitted PCA map (ProjectedSets::pca_map) without refitting.
cv::Mat PlaceWithPcaMap(const cv::Mat& embeddings, const cv::Mat& pca_map);

// Trustworthiness of a projection (scikit-learn's sklearn.manifold.trustworthiness, Euclidean,
// exact): 1 - 2/(N k (2N - 3k - 1)) * sum_i sum_{j in U_k(i)} (r(i, j) - k).
double Trustworthiness(const cv::Mat& high, const cv::Mat& low, int k);

}  // namespace synthlens
