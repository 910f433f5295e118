#include "core/projection/projection.h"

#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/projection/projection_internal.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

using internal::RowMatrix;

// The closed-form matrices of tests/data/projection/make_golden.py.
cv::Mat Formula(int n, int d, double salt) {
  cv::Mat m(n, d, CV_64F);
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < d; ++j)
      m.at<double>(i, j) = std::sin(0.37 * i * (j + 1) + salt) +
                           0.25 * (j + 1) * std::cos(0.11 * i + 0.7 * j) + 0.01 * i;
  return m;
}

nlohmann::json Golden() {
  const char* data = std::getenv("SYNTHLENS_TEST_DATA");  // <source>/tests/data, set by ctest
  std::ifstream in(std::string(data ? data : "tests/data") + "/projection/golden.json");
  EXPECT_TRUE(in) << "golden.json not found";
  std::stringstream s;
  s << in.rdbuf();
  return nlohmann::json::parse(s.str());
}

// Well-separated Gaussian clusters: `clusters` centres 10 apart per axis in d dims, unit noise.
cv::Mat Clusters(int clusters, int per_cluster, int d, uint64_t seed, std::vector<int>* labels) {
  Rng rng(seed);
  std::vector<std::vector<double>> centres(static_cast<size_t>(clusters), std::vector<double>(d));
  for (auto& c : centres)
    for (double& v : c) v = rng.Uniform(-20.0, 20.0);
  cv::Mat x(clusters * per_cluster, d, CV_32F);
  labels->clear();
  for (int i = 0; i < x.rows; ++i) {
    const int c = i % clusters;  // interleaved so labels are not sorted by row
    labels->push_back(c);
    for (int j = 0; j < d; ++j)
      x.at<float>(i, j) = static_cast<float>(centres[static_cast<size_t>(c)][static_cast<size_t>(j)] + rng.Normal());
  }
  return x;
}

// Leave-one-out 10-NN majority-vote accuracy of the labels in the projection.
double KnnAccuracy(const cv::Mat& y, const std::vector<int>& labels, int k = 10) {
  int correct = 0;
  for (int i = 0; i < y.rows; ++i) {
    std::vector<std::pair<double, int>> d;
    for (int j = 0; j < y.rows; ++j) {
      if (j == i) continue;
      double s = 0;
      for (int c = 0; c < y.cols; ++c) s += std::pow(y.at<float>(i, c) - y.at<float>(j, c), 2);
      d.emplace_back(s, j);
    }
    std::partial_sort(d.begin(), d.begin() + k, d.end());
    std::map<int, int> votes;
    for (int r = 0; r < k; ++r) ++votes[labels[static_cast<size_t>(d[static_cast<size_t>(r)].second)]];
    int best = -1, count = -1;
    for (auto [label, v] : votes)
      if (v > count) best = label, count = v;
    correct += best == labels[static_cast<size_t>(i)];
  }
  return static_cast<double>(correct) / y.rows;
}

std::string Bytes(const cv::Mat& m) {
  return std::string(reinterpret_cast<const char*>(m.data), m.total() * m.elemSize());
}

TEST(ProjectionTest, MethodNamesRoundTrip) {
  for (auto m : {ProjectionMethod::kPca, ProjectionMethod::kTsne, ProjectionMethod::kUmap})
    EXPECT_EQ(ParseProjectionMethod(ProjectionMethodName(m)), m);
  EXPECT_FALSE(ParseProjectionMethod("PCA").has_value());
  EXPECT_FALSE(ParseProjectionMethod("mds").has_value());
}

void ExpectPcaMatchesGolden(const nlohmann::json& g, double tol, const char* solver) {
  const int n = g["n"], d = g["d"], dims = g["dims"];
  ProjectionOptions options;
  options.dims = dims;
  auto result = ProjectEmbeddings(Formula(n, d, g["salt"]), options);
  ASSERT_TRUE(result.ok()) << result.error();
  ASSERT_EQ(result->points.rows, n);
  ASSERT_EQ(result->points.cols, dims);
  const auto expected = g["scores"].get<std::vector<double>>();
  double scale = 0;
  for (double v : expected) scale = std::max(scale, std::fabs(v));
  for (int i = 0; i < n; ++i)
    for (int c = 0; c < dims; ++c)
      EXPECT_NEAR(result->points.at<float>(i, c), expected[static_cast<size_t>(i * dims + c)], tol * scale)
          << "row " << i << " col " << c;
  const auto settings = nlohmann::json::parse(result->settings);
  EXPECT_EQ(settings["solver"], solver);
  const auto var = g["variances"].get<std::vector<double>>();
  for (int c = 0; c < dims; ++c)
    EXPECT_NEAR(settings["explained_variance"][c].get<double>(), var[static_cast<size_t>(c)], 1e-6 * var[0]);
}

TEST(ProjectionTest, ExactPcaMatchesNumpySvd) {
  ExpectPcaMatchesGolden(Golden()["pca_small"], 1e-6, "covariance-eigen");
}

TEST(ProjectionTest, RandomizedPcaMatchesNumpySvdForWideInput) {
  ExpectPcaMatchesGolden(Golden()["pca_wide"], 1e-5, "randomized-svd");
}

TEST(ProjectionTest, PcaAcceptsFloatInputAndRejectsTooManyDims) {
  cv::Mat x;
  Formula(20, 4, 0.1).convertTo(x, CV_32F);
  ProjectionOptions options;
  options.dims = 4;
  auto ok = ProjectEmbeddings(x, options);
  ASSERT_TRUE(ok.ok()) << ok.error();
  options.dims = 5;
  auto bad = ProjectEmbeddings(x, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("exceeds the 4 input columns"), std::string::npos) << bad.error();
}

TEST(ProjectionTest, TrustworthinessMatchesScikitLearn) {
  const auto g = Golden()["trustworthiness"];
  const cv::Mat hi = Formula(g["n"], g["high_d"], g["high_salt"]);
  const cv::Mat lo = Formula(g["n"], g["low_d"], g["low_salt"]);
  EXPECT_NEAR(Trustworthiness(hi, lo, 5), g["k5"].get<double>(), 1e-12);
  EXPECT_NEAR(Trustworthiness(hi, lo, 12), g["k12"].get<double>(), 1e-12);
  ProjectionOptions options;
  auto pca = ProjectEmbeddings(hi, options);
  ASSERT_TRUE(pca.ok());
  EXPECT_NEAR(Trustworthiness(hi, pca->points, 5), g["k5_pca"].get<double>(), 1e-12);
  EXPECT_DOUBLE_EQ(Trustworthiness(hi, hi, 5), 1.0);
  EXPECT_THROW(Trustworthiness(hi, lo, 30), Error);  // k must be < n / 2
  EXPECT_THROW(Trustworthiness(hi, lo.rowRange(0, 10), 3), Error);
}

TEST(ProjectionTest, UmapCurveMatchesScipyCurveFit) {
  for (const auto& g : Golden()["umap_ab"]) {
    double a = 0, b = 0;
    internal::FitUmapAB(1.0, g["min_dist"], &a, &b);
    EXPECT_NEAR(a, g["a"].get<double>(), 1e-4 * g["a"].get<double>()) << g.dump();
    EXPECT_NEAR(b, g["b"].get<double>(), 1e-4 * g["b"].get<double>()) << g.dump();
  }
}

// Relative errors (Z, forces) of the FFT-interpolated repulsion against the exact O(n^2) sums.
std::pair<double, double> FftError(double spread, double box_width) {
  Rng rng(7);
  std::vector<double> y(2 * 1500);
  for (size_t i = 0; i < y.size(); i += 2) {
    const double cx = (i / 2) % 3 * spread, cy = (i / 2) % 5 * spread * 0.5;
    y[i] = cx + spread * 0.3 * rng.Normal();
    y[i + 1] = cy + spread * 0.3 * rng.Normal();
  }
  std::vector<double> fft, exact;
  internal::FftRepulsion repulsion(box_width);
  const double z_fft = repulsion.Compute(y, &fft);
  const double z_exact = internal::TsneRepulsionExact(y, &exact);
  double err = 0, norm = 0;
  for (size_t i = 0; i < y.size(); ++i) {
    err += (fft[i] - exact[i]) * (fft[i] - exact[i]);
    norm += exact[i] * exact[i];
  }
  return {std::fabs(z_fft - z_exact) / z_exact, std::sqrt(err / norm)};
}

TEST(ProjectionTest, FftRepulsionMatchesExactSums) {
  // Compact layouts (early iterations) fit in 20 boxes narrower than 1: accurate.
  for (double spread : {1e-3, 3.0}) {
    const auto [z_err, f_err] = FftError(spread, 1.0);
    EXPECT_LT(z_err, 1e-4) << spread;
    EXPECT_LT(f_err, 5e-3) << spread;
  }
  // A wide, sparse layout with FIt-SNE's box width 1: a few per cent in the forces, and the error
  // falls as the boxes shrink (third-order interpolation), which a wrong grid would not do.
  // (Z's error here is mostly the interpolated self terms, large next to the small Z of 1,500
  // sparse points; 0.4 % with 10,000.)
  const auto [z1, f1] = FftError(40.0, 1.0);
  EXPECT_LT(z1, 3e-2);
  EXPECT_LT(f1, 8e-2);
  const auto [z2, f2] = FftError(40.0, 0.5);
  EXPECT_LT(z2, z1 / 4);
  EXPECT_LT(f2, f1 / 4);
}

TEST(ProjectionTest, FftSizesHaveOnlySmallPrimeFactors) {
  EXPECT_EQ(internal::FftFriendlySize(1), 2);
  EXPECT_EQ(internal::FftFriendlySize(119), 120);
  EXPECT_EQ(internal::FftFriendlySize(701), 720);  // 702 = 2 * 3^3 * 13, 704 = 2^6 * 11
  EXPECT_EQ(internal::FftFriendlySize(1073), 1080);
  for (int m = 1; m < 3000; m += 37) {
    const int f = internal::FftFriendlySize(m);
    EXPECT_GE(f, m);
    EXPECT_EQ(f % 2, 0);
    int r = f;
    for (int p : {2, 3, 5, 7})
      while (r % p == 0) r /= p;
    EXPECT_EQ(r, 1) << m;
  }
}

TEST(ProjectionTest, FftRepulsionHandlesElongatedLayoutsAndReusesItsPlans) {
  // A layout four times wider than tall gets a grid with fewer rows than columns, with the
  // accuracy of a square one: a few per cent on this sparse layout with unit boxes, falling with
  // the third power of the box width (a wrong axis would not).
  Rng rng(3);
  std::vector<double> wide(2 * 2000);
  for (size_t i = 0; i < wide.size(); i += 2) {
    wide[i] = 80.0 * rng.Uniform() + 0.3 * rng.Normal();
    wide[i + 1] = 20.0 * rng.Uniform() + 0.3 * rng.Normal();
  }
  std::vector<double> exact;
  const double z_exact = internal::TsneRepulsionExact(wide, &exact);
  auto errors = [&](internal::FftRepulsion& r) {
    std::vector<double> fft;
    const double z_fft = r.Compute(wide, &fft);
    double err = 0, norm = 0;
    for (size_t i = 0; i < wide.size(); ++i) {
      err += (fft[i] - exact[i]) * (fft[i] - exact[i]);
      norm += exact[i] * exact[i];
    }
    return std::make_pair(std::fabs(z_fft - z_exact) / z_exact, std::sqrt(err / norm));
  };
  internal::FftRepulsion repulsion, fine(0.5);
  const auto [z1, f1] = errors(repulsion);
  EXPECT_GT(repulsion.grid_cols(), 3 * repulsion.grid_rows());
  EXPECT_LT(z1, 1e-2);
  EXPECT_LT(f1, 8e-2);
  const auto [z2, f2] = errors(fine);
  EXPECT_LT(z2, z1 / 4);
  EXPECT_LT(f2, f1 / 4);
  // Plans and kernel spectra kept from earlier calls (another shape, then a slightly larger
  // layout on the same FFT size) give the bytes of a fresh object.
  std::vector<double> moved = wide;
  for (size_t i = 0; i < moved.size(); ++i) moved[i] *= 1.01;
  std::vector<double> again, fresh;
  std::vector<double> compact(wide.size());
  for (size_t i = 0; i < compact.size(); ++i) compact[i] = wide[i] * 0.05;
  repulsion.Compute(compact, &again);
  repulsion.Compute(wide, &again);
  const double z_again = repulsion.Compute(moved, &again);
  internal::FftRepulsion fresh_repulsion;
  const double z_fresh = fresh_repulsion.Compute(moved, &fresh);
  EXPECT_EQ(z_again, z_fresh);
  EXPECT_EQ(again, fresh);
}

TEST(ProjectionTest, HnswNeighboursAgreeWithExactOnes) {
  std::vector<int> labels;
  const cv::Mat xf = Clusters(4, 500, 16, 3, &labels);
  RowMatrix x(xf.rows, xf.cols);
  for (int i = 0; i < xf.rows; ++i)
    for (int j = 0; j < xf.cols; ++j) x(i, j) = xf.at<float>(i, j);
  auto exact = internal::NearestNeighbors(x, 20, 1 << 30, 0, nullptr);
  auto approx = internal::NearestNeighbors(x, 20, 0, 0, nullptr);
  ASSERT_TRUE(exact.ok() && approx.ok());
  EXPECT_TRUE(exact->exact);
  EXPECT_FALSE(approx->exact);
  int64_t hits = 0;
  for (int64_t i = 0; i < x.rows(); ++i) {
    for (int r = 0; r < 20; ++r) {
      const int32_t j = approx->index[static_cast<size_t>(i * 20 + r)];
      EXPECT_NE(j, i);
      for (int s = 0; s < 20; ++s) hits += exact->index[static_cast<size_t>(i * 20 + s)] == j;
    }
    // Closest first, distances exact.
    EXPECT_LE(exact->dist2[static_cast<size_t>(i * 20)], exact->dist2[static_cast<size_t>(i * 20 + 19)]);
  }
  EXPECT_GE(static_cast<double>(hits) / (x.rows() * 20.0), 0.97);
}

TEST(ProjectionTest, TsneAffinitiesAreSymmetricAndNormalised) {
  std::vector<int> labels;
  const cv::Mat xf = Clusters(3, 100, 5, 11, &labels);
  RowMatrix x(xf.rows, xf.cols);
  for (int i = 0; i < xf.rows; ++i)
    for (int j = 0; j < xf.cols; ++j) x(i, j) = xf.at<float>(i, j);
  auto knn = internal::NearestNeighbors(x, 31, 1 << 30, 0, nullptr);
  ASSERT_TRUE(knn.ok());
  const internal::Csr p = internal::TsneAffinities(*knn, 10.0);
  double total = 0;
  std::map<std::pair<int, int>, double> entries;
  for (int64_t i = 0; i < p.n; ++i)
    for (int64_t q = p.indptr[i]; q < p.indptr[i + 1]; ++q) {
      total += p.values[q];
      entries[{static_cast<int>(i), p.indices[q]}] = p.values[q];
    }
  EXPECT_NEAR(total, 1.0, 1e-12);
  for (const auto& [key, v] : entries) {
    auto it = entries.find({key.second, key.first});
    ASSERT_NE(it, entries.end());
    EXPECT_DOUBLE_EQ(it->second, v);
  }
}

ProjectionOptions TsneOptions() {
  ProjectionOptions o;
  o.method = ProjectionMethod::kTsne;
  o.seed = 3;
  return o;
}

ProjectionOptions UmapOptions() {
  ProjectionOptions o;
  o.method = ProjectionMethod::kUmap;
  o.seed = 3;
  return o;
}

TEST(ProjectionTest, TsneSeparatesClustersWithExactAndApproximateNeighbours) {
  std::vector<int> labels;
  const cv::Mat x = Clusters(5, 160, 20, 1, &labels);
  for (int64_t exact_max : {int64_t{1} << 30, int64_t{0}}) {
    auto options = TsneOptions();
    options.knn_exact_max_rows = exact_max;
    auto result = ProjectEmbeddings(x, options);
    ASSERT_TRUE(result.ok()) << result.error();
    EXPECT_GE(KnnAccuracy(result->points, labels), 0.95);
    EXPECT_GE(Trustworthiness(x, result->points, 10), 0.9);
    const auto s = nlohmann::json::parse(result->settings);
    EXPECT_EQ(s["knn"], exact_max == 0 ? "hnsw" : "exact");
    EXPECT_EQ(s["neighbors"], 91);
    EXPECT_EQ(s["repulsion"], "fft-interpolation");
    EXPECT_DOUBLE_EQ(s["learning_rate"].get<double>(), 800.0 / 12.0 / 4.0 < 50 ? 50.0 : 800.0 / 48.0);
  }
}

TEST(ProjectionTest, UmapSeparatesClusters) {
  std::vector<int> labels;
  const cv::Mat x = Clusters(5, 160, 20, 2, &labels);
  auto result = ProjectEmbeddings(x, UmapOptions());
  ASSERT_TRUE(result.ok()) << result.error();
  EXPECT_GE(KnnAccuracy(result->points, labels), 0.95);
  EXPECT_GE(Trustworthiness(x, result->points, 10), 0.9);
  const auto s = nlohmann::json::parse(result->settings);
  EXPECT_EQ(s["epochs"], 500);
  EXPECT_NEAR(s["a"].get<double>(), 1.577, 1e-3);
}

TEST(ProjectionTest, SameSeedGivesSameBytesWhateverTheThreadCount) {
  std::vector<int> labels;
  const cv::Mat x = Clusters(3, 250, 12, 5, &labels);
  for (auto options : {TsneOptions(), UmapOptions()}) {
    options.knn_exact_max_rows = 0;  // the HNSW path, whose parallel queries must not matter
    options.tsne_iterations = 300;
    options.umap_epochs = 100;
    SetNumThreads(1);
    auto one = ProjectEmbeddings(x, options);
    SetNumThreads(0);
    auto all = ProjectEmbeddings(x, options);
    auto again = ProjectEmbeddings(x, options);
    ASSERT_TRUE(one.ok() && all.ok() && again.ok());
    EXPECT_EQ(Bytes(one->points), Bytes(all->points)) << ProjectionMethodName(options.method);
    EXPECT_EQ(Bytes(all->points), Bytes(again->points)) << ProjectionMethodName(options.method);
    options.seed += 1;
    auto other = ProjectEmbeddings(x, options);
    ASSERT_TRUE(other.ok());
    if (options.method == ProjectionMethod::kUmap) {
      EXPECT_NE(Bytes(all->points), Bytes(other->points));  // the seed drives negative sampling
    }
  }
}

TEST(ProjectionTest, ProgressReachesOneAndFalseCancels) {
  std::vector<int> labels;
  const cv::Mat x = Clusters(2, 300, 8, 9, &labels);
  ProjectionOptions pca;
  for (auto options : {pca, TsneOptions(), UmapOptions()}) {
    double last = -1;
    bool monotone = true;
    auto done = ProjectEmbeddings(x, options, [&](double f) {
      monotone = monotone && f >= last;
      last = f;
      return true;
    });
    ASSERT_TRUE(done.ok()) << done.error();
    EXPECT_TRUE(monotone);
    EXPECT_DOUBLE_EQ(last, 1.0);
    int calls = 0;
    const int stop = options.method == ProjectionMethod::kPca ? 1 : 3;  // PCA reports once
    auto cancelled = ProjectEmbeddings(x, options, [&](double) { return ++calls < stop; });
    ASSERT_FALSE(cancelled.ok());
    EXPECT_EQ(cancelled.error(), "cancelled");
    EXPECT_EQ(calls, stop);  // stops at the first false
  }
}

TEST(ProjectionTest, BadInputIsAFailureNamingTheProblem) {
  std::vector<int> labels;
  cv::Mat x = Clusters(2, 10, 4, 9, &labels);
  auto error = [](const cv::Mat& m, const ProjectionOptions& o) {
    auto r = ProjectEmbeddings(m, o);
    EXPECT_FALSE(r.ok());
    return r.ok() ? std::string() : r.error();
  };
  EXPECT_NE(error(x.rowRange(0, 1), ProjectionOptions{}).find("at least 2 rows"), std::string::npos);
  cv::Mat nan = x.clone();
  nan.at<float>(7, 2) = std::nanf("");
  EXPECT_NE(error(nan, TsneOptions()).find("row 7 is not finite"), std::string::npos);
  EXPECT_NE(error(x, TsneOptions()).find("perplexity 30 must be less than the number of rows (20)"),
            std::string::npos);
  auto tsne3 = TsneOptions();
  tsne3.dims = 3;
  EXPECT_NE(error(x, tsne3).find("tsne projects to 2 dims only"), std::string::npos);
  auto umap3 = UmapOptions();
  umap3.dims = 3;
  EXPECT_NE(error(x, umap3).find("umap projects to 2 dims only"), std::string::npos);
  auto umap_k = UmapOptions();
  umap_k.umap_neighbors = 50;
  EXPECT_NE(error(x, umap_k).find("neighbors 50 exceeds"), std::string::npos);
  auto bad_dist = UmapOptions();
  bad_dist.umap_min_dist = 2;
  EXPECT_NE(error(x, bad_dist).find("min_dist"), std::string::npos);
  // A wrong matrix type is a caller bug, not data: it throws.
  EXPECT_THROW(ProjectEmbeddings(cv::Mat(5, 3, CV_8U, cv::Scalar(1)), ProjectionOptions{}), Error);
}

TEST(ProjectionTest, ProjectSetsPlacesOtherRowsWithTheRealPcaFit) {
  std::vector<int> labels;
  const cv::Mat real = Clusters(3, 30, 12, 21, &labels);
  cv::Mat synthetic = Clusters(3, 10, 12, 22, &labels);
  ProjectionOptions o;  // PCA
  auto sets = ProjectSets(real, synthetic, real.rowRange(5, 9), o);
  ASSERT_TRUE(sets.ok()) << sets.error();
  // The real points are exactly the PCA of the real rows: the synthetic rows do not move them.
  auto alone = ProjectEmbeddings(real, o);
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(cv::norm(sets->real, alone->points, cv::NORM_INF), 0.0);
  // Rows placed with the fit land where the fit put them: real rows 5..8 given again as extras.
  ASSERT_EQ(sets->extra.rows, 4);
  EXPECT_LT(cv::norm(sets->extra, alone->points.rowRange(5, 9), cv::NORM_INF), 1e-3);
  // Synthetic rows: (x - mean) W with W from an independent eigendecomposition of the real rows.
  cv::Mat r64, s64;
  real.convertTo(r64, CV_64F);
  synthetic.convertTo(s64, CV_64F);
  cv::Mat mean;
  cv::reduce(r64, mean, 0, cv::REDUCE_AVG);
  cv::Mat centred = r64 - cv::repeat(mean, r64.rows, 1);
  cv::Mat values, vectors;
  cv::eigen(centred.t() * centred, values, vectors);
  for (int c = 0; c < 2; ++c) {
    cv::Mat w = vectors.row(c).t();
    cv::Mat expected = (s64 - cv::repeat(mean, s64.rows, 1)) * w;
    cv::Mat got;
    sets->synthetic.col(c).convertTo(got, CV_64F);
    // The component's sign is arbitrary: compare up to sign.
    const double same = cv::norm(got, expected, cv::NORM_INF), flipped = cv::norm(got, -expected, cv::NORM_INF);
    EXPECT_LT(std::min(same, flipped), 1e-3 * (1 + cv::norm(expected, cv::NORM_INF))) << "component " << c;
  }
  // PlaceWithPcaMap is the same placement.
  EXPECT_EQ(cv::norm(PlaceWithPcaMap(synthetic, sets->pca_map), sets->synthetic, cv::NORM_INF), 0.0);
  // t-SNE projects the union: every row gets a place, in input order.
  auto tsne = ProjectSets(real, synthetic, cv::Mat(), TsneOptions());
  ASSERT_TRUE(tsne.ok()) << tsne.error();
  EXPECT_EQ(tsne->real.rows, 90);
  EXPECT_EQ(tsne->synthetic.rows, 30);
  EXPECT_EQ(tsne->extra.rows, 0);
  EXPECT_TRUE(tsne->pca_map.empty());
  // Mismatched dimensions name the problem.
  auto bad = ProjectSets(real, synthetic.colRange(0, 5).clone(), cv::Mat(), o);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("5 dimensions, the real set's 12"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace synthlens
