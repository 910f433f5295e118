// synthlens project: 2-D projection of an embedding matrix (CLI.md), PCA / t-SNE / UMAP.
#include <algorithm>
#include <iostream>
#include <numeric>

#include <nlohmann/json.hpp>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"
#include "core/io/npy.h"
#include "core/projection/projection.h"
#include "core/util/random.h"

namespace synthlens::cli {
namespace {

struct ProjectArgs {
  std::string in, out, method;
  uint64_t seed = 0;
  int dims = 2;
  double perplexity = 30.0;
  int iterations = 0;  // 0: the method's default (t-SNE 750; UMAP 500 / 200 epochs)
  int neighbors = 15;
  double min_dist = 0.1;
  int trustworthiness = 0;
};

// Rows of a seeded subsample without replacement (all rows when n <= count), in ascending order,
// like the peer script's 5,000-row rule for trustworthiness.
std::vector<int> Subsample(int n, int count, uint64_t seed) {
  std::vector<int> rows(static_cast<size_t>(n));
  std::iota(rows.begin(), rows.end(), 0);
  if (n <= count) return rows;
  Rng rng(seed);
  for (int i = 0; i < count; ++i) {  // partial Fisher-Yates
    const auto j = static_cast<size_t>(rng.UniformInt(i, n - 1));
    std::swap(rows[static_cast<size_t>(i)], rows[j]);
  }
  rows.resize(static_cast<size_t>(count));
  std::sort(rows.begin(), rows.end());
  return rows;
}

cv::Mat Rows(const cv::Mat& m, const std::vector<int>& rows) {
  cv::Mat out(static_cast<int>(rows.size()), m.cols, m.type());
  for (size_t r = 0; r < rows.size(); ++r) m.row(rows[r]).copyTo(out.row(static_cast<int>(r)));
  return out;
}

}  // namespace

CommandRunner RegisterProjectCommand(CLI::App& app) {
  auto* cmd = app.add_subcommand("project", "2-D projection of embeddings: PCA, t-SNE or UMAP");
  auto a = std::make_shared<ProjectArgs>();
  cmd->add_option("--in", a->in, "Embeddings, an N x d float .npy")->required();
  cmd->add_option("--method", a->method, "pca, tsne or umap")->required();
  cmd->add_option("--out", a->out, "Projection, an N x dims float32 .npy (written atomically)")
      ->required();
  cmd->add_option("--seed", a->seed, "Seed of every random choice")->capture_default_str();
  cmd->add_option("--dims", a->dims, "Output columns (t-SNE and UMAP: 2)")->capture_default_str();
  cmd->add_option("--perplexity", a->perplexity, "t-SNE perplexity")->capture_default_str();
  cmd->add_option("--iterations", a->iterations,
                  "t-SNE iterations (default 750; scikit-learn runs 1000) or UMAP epochs (default 500, 200 above 10,000 rows)");
  cmd->add_option("--neighbors", a->neighbors, "UMAP neighbours (the point itself included)")
      ->capture_default_str();
  cmd->add_option("--min-dist", a->min_dist, "UMAP min_dist")->capture_default_str();
  cmd->add_option("--trustworthiness", a->trustworthiness,
                  "Also report trustworthiness with K neighbours (on a seeded 5,000-row subsample)");
  return [cmd, a]() {
    if (!cmd->parsed()) return -1;
    const auto usage = [](const std::string& message) {
      std::cerr << "synthlens project: " << message << std::endl;
      return kExitUsage;
    };
    const auto method = ParseProjectionMethod(a->method);
    if (!method) return usage("--method must be pca, tsne or umap (got '" + a->method + "')");
    ProjectionOptions options;
    options.method = *method;
    options.seed = a->seed;
    options.dims = a->dims;
    options.perplexity = a->perplexity;
    options.umap_neighbors = a->neighbors;
    options.umap_min_dist = a->min_dist;
    if (a->iterations < 0) return usage("--iterations must be positive");
    if (a->iterations > 0) {
      options.tsne_iterations = a->iterations;
      options.umap_epochs = a->iterations;
    }
    if (a->trustworthiness < 0) return usage("--trustworthiness must be positive");
    if (const std::string problem = options.Check(); !problem.empty()) {
      // Options map one to one onto flags; name the flag rather than the field.
      std::string flag = problem.rfind("dims", 0) == 0 || problem.find("2 dims") != std::string::npos
                             ? "--dims"
                             : problem.rfind("perplexity", 0) == 0 ? "--perplexity"
                             : problem.rfind("iterations", 0) == 0 || problem.rfind("epochs", 0) == 0
                                 ? "--iterations"
                             : problem.rfind("neighbors", 0) == 0 ? "--neighbors"
                             : problem.rfind("min_dist", 0) == 0 ? "--min-dist"
                                                                 : "options";
      return usage(flag + ": " + problem);
    }
    std::vector<int64_t> shape;
    auto embeddings = ReadNpy(a->in, &shape);
    if (!embeddings.ok()) {
      std::cerr << "synthlens project: " << embeddings.error() << std::endl;
      return kExitFailure;
    }
    if (shape.size() != 2) {
      std::cerr << "synthlens project: " << a->in << ": expected a 2-D array (rows x columns), got "
                << shape.size() << "-D" << std::endl;
      return kExitFailure;
    }
    Result<ProjectionResult> result = [&] {
      ProgressBar bar(std::string("project ") + ProjectionMethodName(*method));
      auto r = ProjectEmbeddings(*embeddings, options, bar.Callback());
      bar.Finish();
      return r;
    }();
    if (!result.ok()) {
      std::cerr << "synthlens project: " << a->in << ": " << result.error() << std::endl;
      return kExitFailure;
    }
    if (const std::string error = WriteNpy(a->out, result->points); !error.empty()) {
      std::cerr << "synthlens project: " << error << std::endl;
      return kExitFailure;
    }
    auto settings = nlohmann::ordered_json::parse(result->settings);
    settings["in"] = a->in;
    settings["out"] = a->out;
    if (a->trustworthiness > 0) {
      constexpr int kSample = 5000;
      const auto rows = Subsample(embeddings->rows, kSample, 0);
      const int k = a->trustworthiness;
      if (2 * static_cast<int64_t>(k) >= static_cast<int64_t>(rows.size())) {
        std::cerr << "synthlens project: --trustworthiness " << k << " needs more than " << 2 * k
                  << " rows (have " << rows.size() << "); " << a->out << " was written" << std::endl;
        std::cout << settings.dump() << std::endl;
        return kExitFailure;
      }
      settings["trustworthiness"] =
          Trustworthiness(Rows(*embeddings, rows), Rows(result->points, rows), k);
      settings["trustworthiness_k"] = k;
      settings["trustworthiness_rows"] = rows.size();
    }
    std::cout << settings.dump() << std::endl;
    return kExitOk;
  };
}

}  // namespace synthlens::cli
