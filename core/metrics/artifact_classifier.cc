#include "core/metrics/artifact_classifier.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "core/metrics/metrics_internal.h"
#include "core/metrics/roc.h"
#include "core/metrics/set_metrics.h"
#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

struct Standardiser {
  std::vector<double> mean, std;
};

// StandardScaler on the given rows of x (float64 row-major): ddof 0, a (near-)constant column
// gets scale 1.
Standardiser FitStandardiser(const cv::Mat& x, const std::vector<int64_t>& rows) {
  const int f = x.cols;
  Standardiser s{std::vector<double>(f, 0.0), std::vector<double>(f, 0.0)};
  for (int64_t r : rows) {
    const double* p = x.ptr<double>(static_cast<int>(r));
    for (int c = 0; c < f; ++c) s.mean[c] += p[c];
  }
  for (double& m : s.mean) m /= double(rows.size());
  for (int64_t r : rows) {
    const double* p = x.ptr<double>(static_cast<int>(r));
    for (int c = 0; c < f; ++c) s.std[c] += (p[c] - s.mean[c]) * (p[c] - s.mean[c]);
  }
  for (double& v : s.std) {
    v = std::sqrt(v / double(rows.size()));
    if (!(v > 1e-12)) v = 1.0;
  }
  return s;
}

cv::Mat Apply(const cv::Mat& x, const std::vector<int64_t>& rows, const Standardiser& s) {
  cv::Mat out(static_cast<int>(rows.size()), x.cols, CV_64F);
  for (size_t i = 0; i < rows.size(); ++i) {
    const double* p = x.ptr<double>(static_cast<int>(rows[i]));
    double* q = out.ptr<double>(static_cast<int>(i));
    for (int c = 0; c < x.cols; ++c) q[c] = (p[c] - s.mean[c]) / s.std[c];
  }
  return out;
}

double Sigmoid(double z) {
  return z >= 0 ? 1.0 / (1.0 + std::exp(-z)) : std::exp(z) / (1.0 + std::exp(z));
}

double Predict(const double* row, int f, const Standardiser& s, const std::vector<double>& w,
               double b) {
  double z = b;
  for (int c = 0; c < f; ++c) z += (row[c] - s.mean[c]) / s.std[c] * w[c];
  return Sigmoid(z);
}

}  // namespace

std::string ArtifactClassifierOptions::Check() const {
  if (model != "logistic") {
    return "model must be \"logistic\" (\"mlp\" is not implemented), got \"" + model + "\"";
  }
  if (!(c > 0) || !std::isfinite(c)) return "c must be a positive number, got " + std::to_string(c);
  if (folds < 2) return "folds must be >= 2, got " + std::to_string(folds);
  if (!(tolerance > 0)) return "tolerance must be positive, got " + std::to_string(tolerance);
  if (max_iterations < 1) return "max_iterations must be >= 1, got " + std::to_string(max_iterations);
  return "";
}

Result<ArtifactClassifier> ArtifactClassifier::Train(const cv::Mat& x_in, const std::vector<int>& y,
                                                     const ArtifactClassifierOptions& options,
                                                     const ProgressFn& progress) {
  using R = Result<ArtifactClassifier>;
  const auto start = std::chrono::steady_clock::now();
  if (std::string e = options.Check(); !e.empty()) return R::Failure("options: " + e);
  if (x_in.empty()) return R::Failure("no labelled rows");
  if (x_in.channels() != 1 || (x_in.depth() != CV_32F && x_in.depth() != CV_64F)) {
    return R::Failure("features must be a one-channel CV_32F or CV_64F matrix");
  }
  if (static_cast<size_t>(x_in.rows) != y.size()) {
    return R::Failure(std::to_string(x_in.rows) + " feature rows but " + std::to_string(y.size()) +
                      " labels");
  }
  cv::Mat x;
  x_in.convertTo(x, CV_64F);
  int pos = 0, neg = 0;
  for (int r = 0; r < x.rows; ++r) {
    if (y[r] != 0 && y[r] != 1) {
      return R::Failure("label of row " + std::to_string(r) + " is " + std::to_string(y[r]) +
                        ", not 0 or 1");
    }
    (y[r] ? pos : neg)++;
    const double* p = x.ptr<double>(r);
    for (int c = 0; c < x.cols; ++c) {
      if (!std::isfinite(p[c])) {
        return R::Failure("feature row " + std::to_string(r) + " column " + std::to_string(c) +
                          " is not finite");
      }
    }
  }
  if (pos < 2 || neg < 2) {
    return R::Failure("needs at least 2 artifact and 2 clean labels, got " + std::to_string(pos) +
                      " artifact and " + std::to_string(neg) + " clean");
  }
  auto report = [&](double f) { return !progress || progress(f); };
  if (!report(0.0)) return R::Failure("cancelled");

  ArtifactClassifier model;
  ArtifactClassifierReport& rep = model.report_;
  rep.positives = pos;
  rep.negatives = neg;
  rep.features = x.cols;
  const int folds = std::min({options.folds, pos, neg});
  rep.folds = folds;

  // Stratified seeded folds: each class shuffled, then dealt round-robin.
  std::vector<int> fold(x.rows);
  Rng rng(MixSeed(options.seed, 0xA27F));
  for (int cls = 0; cls < 2; ++cls) {
    std::vector<int> idx;
    for (int r = 0; r < x.rows; ++r) if (y[r] == cls) idx.push_back(r);
    for (int64_t t = int64_t(idx.size()) - 1; t > 0; --t) std::swap(idx[t], idx[rng.UniformInt(0, t)]);
    for (size_t t = 0; t < idx.size(); ++t) fold[idx[t]] = static_cast<int>(t % folds);
  }

  rep.out_of_fold.assign(x.rows, 0.0);
  rep.fold_aurocs.assign(folds, std::nan(""));
  const double units = folds + 1.0;
  for (int f = 0; f < folds; ++f) {
    std::vector<int64_t> train, test;
    for (int r = 0; r < x.rows; ++r) (fold[r] == f ? test : train).push_back(r);
    const Standardiser s = FitStandardiser(x, train);
    std::vector<int> yt(train.size());
    for (size_t i = 0; i < train.size(); ++i) yt[i] = y[train[i]];
    const LogisticModel m = FitLogisticRegression(Apply(x, train, s), yt, options.c,
                                                  options.max_iterations, options.tolerance);
    std::vector<double> score;
    std::vector<int> label;
    for (int64_t r : test) {
      rep.out_of_fold[r] = Predict(x.ptr<double>(static_cast<int>(r)), x.cols, s, m.coef, m.intercept);
      score.push_back(rep.out_of_fold[r]);
      label.push_back(y[r]);
    }
    if (auto a = Auroc(score, label); a.ok()) rep.fold_aurocs[f] = *a;
    if (!report((f + 1) / units)) return R::Failure("cancelled");
  }
  auto pooled = Auroc(rep.out_of_fold, y);
  if (!pooled.ok()) return R::Failure("cross-validated AUROC: " + pooled.error());
  rep.cv_auroc = *pooled;

  std::vector<int64_t> all(x.rows);
  std::iota(all.begin(), all.end(), 0);
  const Standardiser s = FitStandardiser(x, all);
  const LogisticModel m = FitLogisticRegression(Apply(x, all, s), y, options.c,
                                                options.max_iterations, options.tolerance);
  model.mean_ = s.mean;
  model.std_ = s.std;
  model.coef_ = m.coef;
  model.intercept_ = m.intercept;
  rep.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!report(1.0)) return R::Failure("cancelled");
  return model;
}

std::vector<double> ArtifactClassifier::PredictProbability(const cv::Mat& x_in) const {
  if (x_in.empty()) return {};
  SL_CHECK(x_in.cols == static_cast<int>(coef_.size()) && x_in.channels() == 1,
           "PredictProbability: " << x_in.cols << " columns, the model has " << coef_.size());
  cv::Mat x;
  x_in.convertTo(x, CV_64F);
  const Standardiser s{mean_, std_};
  std::vector<double> p(x.rows);
  for (int r = 0; r < x.rows; ++r) p[r] = Predict(x.ptr<double>(r), x.cols, s, coef_, intercept_);
  return p;
}

std::vector<int64_t> RankByProbability(const std::vector<double>& probabilities) {
  std::vector<int64_t> order(probabilities.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    const double pa = probabilities[a], pb = probabilities[b];
    if (std::isnan(pa) || std::isnan(pb)) return !std::isnan(pa) && std::isnan(pb);
    return pa > pb;
  });
  return order;
}

}  // namespace synthlens
