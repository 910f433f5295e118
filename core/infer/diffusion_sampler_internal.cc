#include "core/infer/diffusion_sampler_internal.h"

#include <algorithm>
#include <cmath>

#include <c10/core/InferenceMode.h>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

// Fills row i of `out` (float32, contiguous [B, ...]) with standard normals from the sample's own
// generator. synthlens::Rng, not torch's generator: its seed is a full 64 bits (torch's CPU
// mt19937 keeps only 32, so views would collide by the birthday bound), and its draws are defined
// by our code, not by the torch version or the CPU's vector extensions.
void DrawInto(torch::Tensor& out, int64_t i, Rng& rng) {
  const int64_t n = out.numel() / out.size(0);
  float* p = out.data_ptr<float>() + i * n;
  for (int64_t j = 0; j < n; ++j) p[j] = static_cast<float>(rng.Normal());
}

std::vector<Rng> MakeGenerators(const std::vector<uint64_t>& seeds) {
  std::vector<Rng> gens;
  gens.reserve(seeds.size());
  for (uint64_t seed : seeds) gens.emplace_back(seed);
  return gens;
}

void CheckCondition(const DenoiserCondition& c, int64_t batch, const char* what) {
  SL_CHECK(c.class_id.defined() && c.emb.defined() && c.emb_mask.defined(),
           what << ": class_id, emb and emb_mask must all be set");
  SL_CHECK(c.class_id.dim() == 1 && c.class_id.size(0) == batch,
           what << ".class_id must be [" << batch << "], got " << c.class_id.sizes());
  SL_CHECK(c.emb.dim() == 2 && c.emb.size(0) == batch,
           what << ".emb must be [" << batch << ", E], got " << c.emb.sizes());
  SL_CHECK(c.emb_mask.dim() == 1 && c.emb_mask.size(0) == batch,
           what << ".emb_mask must be [" << batch << "], got " << c.emb_mask.sizes());
}

}  // namespace

DenoiserFn ModuleDenoiser(torch::jit::Module* module) {
  SL_CHECK(module != nullptr, "ModuleDenoiser needs a module");
  return [module](const torch::Tensor& x, const torch::Tensor& t, const torch::Tensor& class_id,
                  const torch::Tensor& emb, const torch::Tensor& emb_mask) {
    return module->forward({x, t, class_id, emb, emb_mask}).toTensor();
  };
}

std::string SamplerOptions::Validate() const {
  if (sampler != "ddim" && sampler != "ddpm") {
    return "sampler '" + sampler + "' is not one of ddim, ddpm";
  }
  if (steps < 1) return "steps must be >= 1";
  if (spacing != "leading" && spacing != "trailing") {
    return "spacing '" + spacing + "' is not one of leading, trailing";
  }
  if (!(eta >= 0.0 && eta <= 1.0)) return "eta must be in [0, 1]";
  if (!std::isfinite(guidance)) return "guidance must be finite";
  if (!(guidance_rescale >= 0.0 && guidance_rescale <= 1.0)) {
    return "guidance_rescale must be in [0, 1]";
  }
  if (!(strength >= 0.0 && strength <= 1.0)) return "strength must be in [0, 1]";
  if (clip_sample && !(clip_min < clip_max)) return "clip range must satisfy clip_min < clip_max";
  if (model_dtype != torch::kFloat32 && model_dtype != torch::kHalf &&
      model_dtype != torch::kBFloat16) {
    return "model_dtype must be float32, float16 or bfloat16";
  }
  return {};
}

std::vector<int> Img2ImgTimesteps(int num_train_timesteps, int steps, const std::string& spacing,
                                  double strength) {
  const std::vector<int> all = SamplingTimesteps(num_train_timesteps, steps, spacing);
  if (strength >= 1.0) return all;
  if (strength <= 0.0) return {};
  // t + 1 <= strength * T; the epsilon absorbs 0.58 * 1000 = 579.9999... style rounding.
  const int limit = static_cast<int>(std::floor(strength * num_train_timesteps + 1e-9));
  std::vector<int> kept;
  for (int t : all) {
    if (t + 1 <= limit) kept.push_back(t);
  }
  return kept;
}

EpsX0 PredictionToEpsX0(const torch::Tensor& prediction, const torch::Tensor& x_t, double abar,
                        const std::string& prediction_type) {
  const double sa = std::sqrt(abar), s1 = std::sqrt(1.0 - abar);
  if (prediction_type == "eps") {
    return {prediction, (x_t - s1 * prediction) / sa};
  }
  if (prediction_type == "x0") {
    return {(x_t - sa * prediction) / s1, prediction};
  }
  if (prediction_type == "v") {
    // v = sqrt(abar) eps - sqrt(1 - abar) x0 (Salimans & Ho 2022).
    return {s1 * x_t + sa * prediction, sa * x_t - s1 * prediction};
  }
  SL_THROW("unknown prediction_type '" << prediction_type << "' (expected eps, v or x0)");
}

torch::Tensor EpsX0ToPrediction(const torch::Tensor& eps, const torch::Tensor& x0, double abar,
                                const std::string& prediction_type) {
  const double sa = std::sqrt(abar), s1 = std::sqrt(1.0 - abar);
  if (prediction_type == "eps") return eps;
  if (prediction_type == "x0") return x0;
  if (prediction_type == "v") return sa * eps - s1 * x0;
  SL_THROW("unknown prediction_type '" << prediction_type << "' (expected eps, v or x0)");
}

torch::Tensor AddNoise(const torch::Tensor& x0, const torch::Tensor& noise, double abar) {
  return std::sqrt(abar) * x0 + std::sqrt(1.0 - abar) * noise;
}

torch::Tensor GuidedPrediction(const torch::Tensor& cond, const torch::Tensor& uncond, double w,
                               double phi) {
  torch::Tensor cfg = uncond + w * (cond - uncond);
  if (phi <= 0.0) return cfg;
  const std::vector<int64_t> dims = [&] {
    std::vector<int64_t> d;
    for (int64_t i = 1; i < cond.dim(); ++i) d.push_back(i);
    return d;
  }();
  const torch::Tensor std_cond = cond.std(dims, /*unbiased=*/true, /*keepdim=*/true);
  const torch::Tensor std_cfg = cfg.std(dims, /*unbiased=*/true, /*keepdim=*/true);
  const torch::Tensor rescaled = cfg * (std_cond / std_cfg.clamp_min(1e-12));
  return phi * rescaled + (1.0 - phi) * cfg;
}

torch::Tensor InitialNoise(const std::vector<uint64_t>& seeds, const std::vector<int64_t>& chw) {
  SL_CHECK(chw.size() == 3, "chw must be {C, H, W}");
  std::vector<Rng> gens = MakeGenerators(seeds);
  torch::Tensor noise =
      torch::empty({static_cast<int64_t>(seeds.size()), chw[0], chw[1], chw[2]}, torch::kFloat32);
  for (size_t i = 0; i < gens.size(); ++i) DrawInto(noise, static_cast<int64_t>(i), gens[i]);
  return noise;
}

torch::Tensor Sample(const DenoiserFn& denoiser, const NoiseSchedule& schedule,
                     const SamplerOptions& options, const SampleBatch& batch,
                     const torch::Device& device) {
  if (std::string problem = options.Validate(); !problem.empty()) {
    SL_THROW("sampler options: " << problem);
  }
  SL_CHECK(denoiser, "no denoiser");
  SL_CHECK(schedule.T() >= 2 && schedule.alphas_cumprod.size() == schedule.betas.size(),
           "invalid noise schedule");
  SL_CHECK(batch.chw.size() == 3 && batch.chw[0] > 0 && batch.chw[1] > 0 && batch.chw[2] > 0,
           "chw must be {C, H, W} > 0");
  const int64_t B = static_cast<int64_t>(batch.seeds.size());
  SL_CHECK(B > 0, "empty batch");
  const bool guided = options.guidance != 1.0;
  CheckCondition(batch.cond, B, "cond");
  if (guided) {
    CheckCondition(batch.uncond, B, "uncond");
    SL_CHECK(batch.uncond.emb.size(1) == batch.cond.emb.size(1),
             "cond and uncond embeddings differ in width");
  }
  const std::vector<int64_t> shape = {B, batch.chw[0], batch.chw[1], batch.chw[2]};
  const bool from_source = options.strength < 1.0;
  if (from_source) {
    SL_CHECK(batch.source.defined() && batch.source.sizes() == torch::IntArrayRef(shape),
             "img2img (strength " << options.strength << " < 1) needs a source of shape "
                                  << torch::IntArrayRef(shape));
  }

  c10::InferenceMode inference_guard;
  const bool cuda = device.is_cuda();
  const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  const std::vector<int> timesteps =
      from_source ? Img2ImgTimesteps(schedule.T(), options.steps, options.spacing, options.strength)
                  : SamplingTimesteps(schedule.T(), options.steps, options.spacing);

  std::vector<Rng> gens = MakeGenerators(batch.seeds);
  auto draw = [&]() {
    auto host = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(cuda);
    torch::Tensor noise = torch::empty(shape, host);
    for (int64_t i = 0; i < B; ++i) DrawInto(noise, i, gens[static_cast<size_t>(i)]);
    return cuda ? noise.to(f32, /*non_blocking=*/true) : noise;
  };
  // Every sample draws its initial noise first, whatever the strength, so the draw sequence of a
  // seed is the same in every mode.
  torch::Tensor x = draw();
  if (from_source) {
    torch::Tensor source = batch.source.to(f32);
    if (timesteps.empty()) return source.clone();  // strength ~ 0: nothing to denoise
    x = AddNoise(source, x, schedule.alphas_cumprod[static_cast<size_t>(timesteps.front())]);
  }

  // Conditions on the device in the model's dtype; the guided pass runs [cond; uncond] as one
  // forward of 2B.
  const auto mopt = torch::TensorOptions().dtype(options.model_dtype).device(device);
  const auto iopt = torch::TensorOptions().dtype(torch::kInt64).device(device);
  torch::Tensor class_id = batch.cond.class_id.to(iopt);
  torch::Tensor emb = batch.cond.emb.to(mopt);
  torch::Tensor emb_mask = batch.cond.emb_mask.to(mopt);
  if (guided) {
    class_id = torch::cat({class_id, batch.uncond.class_id.to(iopt)});
    emb = torch::cat({emb, batch.uncond.emb.to(mopt)});
    emb_mask = torch::cat({emb_mask, batch.uncond.emb_mask.to(mopt)});
  }
  const int64_t model_batch = guided ? 2 * B : B;
  const bool stochastic = options.sampler == "ddpm" || options.eta > 0.0;
  const std::string& type = schedule.spec.prediction_type;

  for (size_t i = 0; i < timesteps.size(); ++i) {
    const int t = timesteps[i];
    const bool last = i + 1 == timesteps.size();
    const double a = schedule.alphas_cumprod[static_cast<size_t>(t)];
    const double ap = last ? 1.0 : schedule.alphas_cumprod[static_cast<size_t>(timesteps[i + 1])];

    torch::Tensor model_x = x.to(options.model_dtype);
    if (guided) model_x = torch::cat({model_x, model_x});
    const torch::Tensor tt = torch::full({model_batch}, static_cast<int64_t>(t), iopt);
    torch::Tensor out = denoiser(model_x, tt, class_id, emb, emb_mask).to(torch::kFloat32);
    SL_CHECK(out.dim() == 4 && out.size(0) == model_batch && out.size(1) == shape[1] &&
                 out.size(2) == shape[2] && out.size(3) == shape[3],
             "denoiser returned " << out.sizes() << ", expected [" << model_batch << ", "
                                  << shape[1] << ", " << shape[2] << ", " << shape[3] << "]");
    torch::Tensor prediction;
    if (guided) {
      std::vector<torch::Tensor> parts = out.chunk(2, 0);
      prediction = GuidedPrediction(parts[0], parts[1], options.guidance, options.guidance_rescale);
    } else {
      prediction = out;
    }
    EpsX0 ex = PredictionToEpsX0(prediction, x, a, type);
    if (options.clip_sample) {
      ex.x0 = ex.x0.clamp(options.clip_min, options.clip_max);
      ex.eps = (x - std::sqrt(a) * ex.x0) / std::sqrt(1.0 - a);
    }
    // Step noise: one draw per sample per step except the last (whose variance is 0).
    torch::Tensor z;
    if (stochastic && !last) z = draw();

    if (options.sampler == "ddpm") {
      // Posterior q(x_prev | x_t, x0) between consecutive sampled timesteps, "fixed_small"
      // variance (Ho et al. 2020; diffusers DDPMScheduler with strided timesteps).
      const double alpha_step = a / ap, beta_step = 1.0 - alpha_step;
      const double c0 = std::sqrt(ap) * beta_step / (1.0 - a);
      const double ct = std::sqrt(alpha_step) * (1.0 - ap) / (1.0 - a);
      x = c0 * ex.x0 + ct * x;
      if (!last) {
        const double var = std::max((1.0 - ap) / (1.0 - a) * beta_step, 1e-20);
        x = x + std::sqrt(var) * z;
      }
    } else {
      // DDIM (Song et al. 2021, eq. 12); eta = 1 gives the DDPM posterior variance.
      const double sigma =
          options.eta * std::sqrt((1.0 - ap) / (1.0 - a)) * std::sqrt(1.0 - a / ap);
      const double dir = std::sqrt(std::max(1.0 - ap - sigma * sigma, 0.0));
      x = std::sqrt(ap) * ex.x0 + dir * ex.eps;
      if (stochastic && !last) x = x + sigma * z;
    }
  }
  return x;
}

}  // namespace synthlens
