#pragma once

#include <string>
#include <vector>

#include "core/util/result.h"

namespace synthlens {

// A diffusion noise schedule (DDPM, Ho et al. 2020; improved DDPM cosine, Nichol & Dhariwal
// 2021), shared by training and sampling so both see the same alphas. Values in float64.
struct NoiseScheduleSpec {
  std::string beta_schedule = "linear";  // linear | scaled_linear | cosine
  double beta_start = 1e-4;
  double beta_end = 0.02;
  int num_train_timesteps = 1000;
  std::string prediction_type = "eps";   // eps | v | x0

  // Empty when valid, else the problem naming the field.
  std::string Validate() const;
};

struct NoiseSchedule {
  NoiseScheduleSpec spec;
  std::vector<double> betas;           // size T
  std::vector<double> alphas_cumprod;  // size T: prod_{s<=t} (1 - beta_s)

  static Result<NoiseSchedule> Make(const NoiseScheduleSpec& spec);
  int T() const { return static_cast<int>(betas.size()); }
};

// Timesteps (descending) for an N-step sampler, as diffusers' "leading" and "trailing" spacing.
// `max_t` limits the start (img2img: int(strength * T) in diffusers' convention, see .cc).
std::vector<int> SamplingTimesteps(int num_train_timesteps, int num_steps,
                                   const std::string& spacing, int max_t = -1);

}  // namespace synthlens
