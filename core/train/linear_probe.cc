#include "core/train/linear_probe.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <numeric>
#include <sstream>

#include <torch/torch.h>

#include "core/util/random.h"

namespace synthlens {
namespace {

torch::Tensor ToTensor(const cv::Mat& m) {
  cv::Mat d;
  m.convertTo(d, CV_64F);
  if (!d.isContinuous()) d = d.clone();
  return torch::from_blob(d.data, {d.rows, d.cols}, torch::kFloat64).clone();
}

struct Fit {
  torch::Tensor w, b;  // [D, C], [C]
};

// L-BFGS on mean CE + wd/2 ||W||^2, starting from `start` (warm start along the weight-decay
// path) or zeros. x is float32 (the N x D products, the bulk of the work, run in float32 BLAS);
// W, b, the logits' softmax, the loss and the optimiser run in float64. Returns false if cancelled.
bool FitLogistic(const torch::Tensor& x, const torch::Tensor& y, int num_classes, double wd,
                 const LinearProbeOptions& o, const std::function<bool(double)>& tick,
                 const Fit* start, Fit* fit) {
  auto w = start ? start->w.clone() : torch::zeros({x.size(1), num_classes}, torch::kFloat64);
  auto b = start ? start->b.clone() : torch::zeros({num_classes}, torch::kFloat64);
  w.requires_grad_(true);
  b.requires_grad_(true);
  torch::optim::LBFGS lbfgs(std::vector<torch::Tensor>{w, b},
                            torch::optim::LBFGSOptions(1.0)
                                .max_iter(20)
                                .history_size(20)
                                .tolerance_grad(o.gradient_tolerance)
                                .tolerance_change(1e-12)
                                .line_search_fn("strong_wolfe"));
  auto closure = [&]() {
    lbfgs.zero_grad();
    auto logits = torch::matmul(x, w.to(torch::kFloat32)).to(torch::kFloat64) + b;
    auto loss = torch::nn::functional::cross_entropy(logits, y) + 0.5 * wd * w.pow(2).sum();
    loss.backward();
    return loss;
  };
  const int chunks = std::max(1, (o.max_iterations + 19) / 20);
  for (int c = 0; c < chunks; ++c) {
    lbfgs.step(closure);
    const double gmax = std::max(w.grad().abs().max().item<double>(),
                                 b.grad().abs().max().item<double>());
    if (tick && !tick(static_cast<double>(c + 1) / chunks)) return false;
    if (gmax < o.gradient_tolerance) break;
  }
  fit->w = w.detach();
  fit->b = b.detach();
  return true;
}

torch::Tensor Predict(const Fit& fit, const torch::Tensor& x) {
  return (torch::matmul(x, fit.w.to(torch::kFloat32)).to(torch::kFloat64) + fit.b).argmax(1);
}

double Accuracy(const torch::Tensor& pred, const torch::Tensor& y) {
  return pred.eq(y).to(torch::kFloat64).mean().item<double>();
}

}  // namespace

std::string LinearProbeOptions::Validate() const {
  if (weight_decays.empty()) return "no weight decay candidates";
  for (double wd : weight_decays) {
    if (!(wd >= 0) || !std::isfinite(wd)) return "weight decays must be finite and >= 0";
  }
  if (weight_decays.size() > 1 && !(validation_fraction > 0 && validation_fraction < 1)) {
    return "validation_fraction must be in (0, 1)";
  }
  if (max_iterations < 1) return "max_iterations must be at least 1";
  return "";
}

Result<LinearProbeResult> RunLinearProbe(const cv::Mat& train_x, const std::vector<int>& train_y,
                                         const cv::Mat& test_x, const std::vector<int>& test_y,
                                         const LinearProbeOptions& options,
                                         const ProgressFn& progress) {
  using R = Result<LinearProbeResult>;
  if (std::string p = options.Validate(); !p.empty()) return R::Failure("linear probe: " + p);
  if (train_x.empty() || test_x.empty()) return R::Failure("linear probe: empty train or test set");
  if (train_x.channels() != 1 || test_x.channels() != 1) {
    return R::Failure("linear probe: features must be single-channel N x D matrices");
  }
  if (train_x.cols != test_x.cols) {
    std::ostringstream m;
    m << "linear probe: train has " << train_x.cols << " features, test " << test_x.cols;
    return R::Failure(m.str());
  }
  if (static_cast<size_t>(train_x.rows) != train_y.size() ||
      static_cast<size_t>(test_x.rows) != test_y.size()) {
    return R::Failure("linear probe: one label per row is needed");
  }
  int num_classes = 0;
  for (const auto* labels : {&train_y, &test_y}) {
    for (int l : *labels) {
      if (l < 0) return R::Failure("linear probe: every image needs a label (found unlabelled)");
      num_classes = std::max(num_classes, l + 1);
    }
  }
  if (num_classes < 2) return R::Failure("linear probe: needs at least two classes");

  torch::Tensor xtr = ToTensor(train_x), xte = ToTensor(test_x);
  if (!torch::isfinite(xtr).all().item<bool>() || !torch::isfinite(xte).all().item<bool>()) {
    return R::Failure("linear probe: features contain NaN or infinity");
  }
  // Standardise with train statistics; constant features stay 0.
  auto mean = xtr.mean(0);
  auto std = xtr.std(0, /*unbiased=*/false);
  std = torch::where(std > 1e-12, std, torch::ones_like(std));
  xtr = ((xtr - mean) / std).to(torch::kFloat32);
  xte = ((xte - mean) / std).to(torch::kFloat32);
  auto ytr = torch::tensor(std::vector<int64_t>(train_y.begin(), train_y.end()), torch::kInt64);
  auto yte = torch::tensor(std::vector<int64_t>(test_y.begin(), test_y.end()), torch::kInt64);

  LinearProbeResult result;
  result.train_size = train_x.rows;
  result.test_size = test_x.rows;
  result.num_classes = num_classes;
  const size_t fits = options.weight_decays.size() > 1 ? options.weight_decays.size() + 1 : 1;
  size_t fit_index = 0;
  bool cancelled = false;
  auto tick_for = [&](size_t index) {
    return [&, index](double f) {
      if (!progress) return true;
      const bool go = progress((static_cast<double>(index) + f) / static_cast<double>(fits));
      cancelled = cancelled || !go;
      return go;
    };
  };

  double chosen = options.weight_decays[0];
  Fit chosen_fit;  // the validation fit of the chosen weight decay: the final fit's start
  bool have_chosen_fit = false;
  if (options.weight_decays.size() > 1) {
    const int64_t n = xtr.size(0);
    const int64_t n_val = std::max<int64_t>(1, static_cast<int64_t>(std::llround(
                                                    options.validation_fraction * n)));
    if (n - n_val < 2) return R::Failure("linear probe: too few training images for a split");
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), 0);
    Rng rng(MixSeed(options.seed, 0x70726f6265ULL));
    for (int64_t i = n - 1; i > 0; --i) {
      std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng.UniformInt(0, i))]);
    }
    auto idx = torch::tensor(order, torch::kInt64);
    auto fit_idx = idx.narrow(0, 0, n - n_val), val_idx = idx.narrow(0, n - n_val, n_val);
    auto xf = xtr.index_select(0, fit_idx), yf = ytr.index_select(0, fit_idx);
    auto xv = xtr.index_select(0, val_idx), yv = ytr.index_select(0, val_idx);
    // Strongest penalty first, each fit warm-started from the previous one (the solution path).
    std::vector<double> grid = options.weight_decays;
    std::sort(grid.begin(), grid.end(), std::greater<double>());
    double best = -1;
    Fit previous;
    bool have_previous = false;
    for (double wd : grid) {
      Fit fit;
      if (!FitLogistic(xf, yf, num_classes, wd, options, tick_for(fit_index++),
                       have_previous ? &previous : nullptr, &fit)) {
        return R::Failure("linear probe: cancelled");
      }
      previous = fit;
      have_previous = true;
      const double acc = Accuracy(Predict(fit, xv), yv);
      result.validation.emplace_back(wd, acc);
      if (acc > best) {  // ties keep the earlier (larger) weight decay
        best = acc;
        chosen = wd;
        chosen_fit = fit;
        have_chosen_fit = true;
      }
    }
    result.validation_top1 = best;
  }
  Fit fit;
  if (!FitLogistic(xtr, ytr, num_classes, chosen, options, tick_for(fit_index++),
                   have_chosen_fit ? &chosen_fit : nullptr, &fit) ||
      cancelled) {
    return R::Failure("linear probe: cancelled");
  }
  result.weight_decay = chosen;
  auto pred = Predict(fit, xte);
  result.top1 = Accuracy(pred, yte);
  result.test_predictions.assign(pred.data_ptr<int64_t>(), pred.data_ptr<int64_t>() + pred.numel());
  if (progress) progress(1.0);
  return result;
}

}  // namespace synthlens
