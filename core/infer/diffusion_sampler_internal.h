#pragma once

// Internal to core/infer (and core/train): torch-typed diffusion samplers. Never include from a
// public header or from Qt code. The public entry point is core/infer/generator.h.
//
// Conventions (docs/generation.md): timesteps are 0-based indices into the NoiseSchedule; x_t =
// sqrt(abar_t) x0 + sqrt(1 - abar_t) eps; "before t = 0" abar = 1, so the last step returns the
// x0 prediction. All arithmetic on x_t is float32 whatever the model's precision.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/types.h>

#include "core/infer/noise_schedule.h"

namespace torch::jit {
struct Module;
}  // namespace torch::jit

namespace synthlens {

// The denoiser of docs/model-packages.md: forward(x [B,C,H,W], t [B] int64, class_id [B] int64,
// emb [B,E] float, emb_mask [B] float) -> [B,C,H,W], the prediction named by prediction_type.
// A std::function so tests plug analytic denoisers and packages plug a TorchScript module.
using DenoiserFn = std::function<torch::Tensor(
    const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& class_id,
    const torch::Tensor& emb, const torch::Tensor& emb_mask)>;

// Wraps module.forward (the module must outlive the function; it is captured by pointer).
DenoiserFn ModuleDenoiser(torch::jit::Module* module);

struct SamplerOptions {
  std::string sampler = "ddim";      // ddim (Song et al. 2021, with eta) | ddpm (Ho et al. 2020)
  int steps = 25;                    // number of sampling timesteps for strength 1
  std::string spacing = "trailing";  // leading | trailing (SamplingTimesteps)
  double eta = 0.0;                  // DDIM only: 0 deterministic, 1 = DDPM posterior variance
  double guidance = 1.0;             // classifier-free guidance weight w; 1 = conditional only
  double guidance_rescale = 0.0;     // phi of Lin et al. 2023; 0 = plain CFG
  double strength = 1.0;             // SDEdit/img2img: 1 = pure noise, 0 = the source
  bool clip_sample = false;          // clamp x0 predictions to clip_range
  double clip_min = -1.0, clip_max = 1.0;
  // Dtype the denoiser runs in (inputs are cast to it, outputs back to float32); kHalf/kBFloat16
  // only make sense on CUDA with a module already cast to that dtype.
  torch::ScalarType model_dtype = torch::kFloat32;

  // Empty when valid, else the problem naming the field.
  std::string Validate() const;
};

// One condition per sample (a batch of B).
struct DenoiserCondition {
  torch::Tensor class_id;  // [B] int64; num_classes = null class
  torch::Tensor emb;       // [B, E] float32; zeros + mask 0 = null embedding
  torch::Tensor emb_mask;  // [B] float32
};

struct SampleBatch {
  // One seed per sample. Sample i's own synthlens::Rng(seeds[i]) draws on the CPU (Normal(), C-H-W
  // order, cast to float), in this order, its initial noise [C,H,W], then the noise of every
  // stochastic step but the last, so a sample's result never depends on the other samples of the
  // batch, on the device or on the torch version.
  std::vector<uint64_t> seeds;
  std::vector<int64_t> chw;  // {C, H, W}
  torch::Tensor source;      // [B,C,H,W] float32 x0 in model space; needed when strength < 1
  DenoiserCondition cond;    // always
  DenoiserCondition uncond;  // when guidance != 1 (the null condition)
};

// The timesteps an img2img/SDEdit run visits, descending. With the N-step schedule S =
// SamplingTimesteps(T, N, spacing), keeps the t in S with t + 1 <= strength * T (timestep index t
// is noise level (t+1)/T, so strength 1 keeps all of S and strength 0 none). For "trailing"
// spacing this equals diffusers' img2img (init_timestep = int(N * strength), start at
// S[N - init_timestep]); for "leading" spacing it can keep one step more (docs/generation.md).
std::vector<int> Img2ImgTimesteps(int num_train_timesteps, int steps, const std::string& spacing,
                                  double strength);

// The model output converted to (eps, x0) at timestep with cumulative alpha abar.
struct EpsX0 {
  torch::Tensor eps;
  torch::Tensor x0;
};
EpsX0 PredictionToEpsX0(const torch::Tensor& prediction, const torch::Tensor& x_t, double abar,
                        const std::string& prediction_type);
// The inverse: the prediction of `prediction_type` for a given (eps, x0) (tests, training).
torch::Tensor EpsX0ToPrediction(const torch::Tensor& eps, const torch::Tensor& x0, double abar,
                                const std::string& prediction_type);

// q(x_t | x_0): sqrt(abar_t) x0 + sqrt(1 - abar_t) noise.
torch::Tensor AddNoise(const torch::Tensor& x0, const torch::Tensor& noise, double abar);

// Classifier-free guidance with rescale: cfg = uncond + w (cond - uncond); with phi > 0,
// phi * cfg * std(cond)/std(cfg) + (1 - phi) * cfg, std per sample over C,H,W (unbiased, as
// diffusers' rescale_noise_cfg). Applied to the model's native prediction, as diffusers does.
torch::Tensor GuidedPrediction(const torch::Tensor& cond, const torch::Tensor& uncond, double w,
                               double phi);

// The initial noise of each seed ([B,C,H,W] float32 on CPU): what Sample draws first.
torch::Tensor InitialNoise(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& chw);

// Runs the sampler on `device` and returns x0 samples [B,C,H,W] float32 on that device. Inside
// the step loop there is no host synchronisation: coefficients are host doubles, step noise is
// drawn on the CPU per sample and copied asynchronously (pinned memory on CUDA).
// Throws synthlens::Error on invalid options or shapes.
torch::Tensor Sample(const DenoiserFn& denoiser, const NoiseSchedule& schedule,
                     const SamplerOptions& options, const SampleBatch& batch,
                     const torch::Device& device);

}  // namespace synthlens
