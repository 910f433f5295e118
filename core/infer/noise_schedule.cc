#include "core/infer/noise_schedule.h"

#include <algorithm>
#include <cmath>

namespace synthlens {

std::string NoiseScheduleSpec::Validate() const {
  if (beta_schedule != "linear" && beta_schedule != "scaled_linear" && beta_schedule != "cosine") {
    return "beta_schedule '" + beta_schedule + "' is not one of linear, scaled_linear, cosine";
  }
  if (num_train_timesteps < 2 || num_train_timesteps > 100000) {
    return "num_train_timesteps must be in [2, 100000]";
  }
  if (beta_schedule != "cosine" && !(beta_start > 0 && beta_start < beta_end && beta_end < 1)) {
    return "betas must satisfy 0 < beta_start < beta_end < 1";
  }
  if (prediction_type != "eps" && prediction_type != "v" && prediction_type != "x0") {
    return "prediction_type '" + prediction_type + "' is not one of eps, v, x0";
  }
  return {};
}

Result<NoiseSchedule> NoiseSchedule::Make(const NoiseScheduleSpec& spec) {
  if (std::string problem = spec.Validate(); !problem.empty()) {
    return Result<NoiseSchedule>::Failure("noise schedule: " + problem);
  }
  NoiseSchedule s;
  s.spec = spec;
  const int T = spec.num_train_timesteps;
  s.betas.resize(static_cast<size_t>(T));
  if (spec.beta_schedule == "linear") {
    for (int t = 0; t < T; ++t) {
      s.betas[t] = spec.beta_start + (spec.beta_end - spec.beta_start) * t / (T - 1);
    }
  } else if (spec.beta_schedule == "scaled_linear") {
    const double a = std::sqrt(spec.beta_start), b = std::sqrt(spec.beta_end);
    for (int t = 0; t < T; ++t) {
      const double r = a + (b - a) * t / (T - 1);
      s.betas[t] = r * r;
    }
  } else {  // cosine, s = 0.008, betas clipped at 0.999 (Nichol & Dhariwal)
    auto alpha_bar = [](double u) {
      const double c = std::cos((u + 0.008) / 1.008 * M_PI / 2);
      return c * c;
    };
    for (int t = 0; t < T; ++t) {
      s.betas[t] = std::min(1.0 - alpha_bar((t + 1.0) / T) / alpha_bar(static_cast<double>(t) / T),
                            0.999);
    }
  }
  s.alphas_cumprod.resize(static_cast<size_t>(T));
  double prod = 1.0;
  for (int t = 0; t < T; ++t) {
    prod *= 1.0 - s.betas[t];
    s.alphas_cumprod[t] = prod;
  }
  return s;
}

std::vector<int> SamplingTimesteps(int num_train_timesteps, int num_steps,
                                   const std::string& spacing, int max_t) {
  const int T = num_train_timesteps;
  num_steps = std::max(1, std::min(num_steps, T));
  std::vector<int> steps;
  if (spacing == "trailing") {
    // diffusers: np.round(np.arange(T, 0, -T / N)) - 1
    const double ratio = static_cast<double>(T) / num_steps;
    for (int i = 0; i < num_steps; ++i) {
      steps.push_back(static_cast<int>(std::round(T - i * ratio)) - 1);
    }
  } else {
    // "leading": (np.arange(0, N) * (T // N))[::-1]
    const int ratio = T / num_steps;
    for (int i = num_steps - 1; i >= 0; --i) steps.push_back(i * ratio);
  }
  if (max_t >= 0) {
    std::vector<int> kept;
    for (int t : steps) {
      if (t <= max_t) kept.push_back(t);
    }
    steps = std::move(kept);
  }
  return steps;
}

}  // namespace synthlens
