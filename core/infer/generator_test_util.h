#pragma once
// Test helpers shared by generator_test and generator_gpu_test: a diffusion package whose
// denoiser is the exact eps of a per-pixel Gaussian (TorchScript written by the test) and its
// embedding encoder.

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/noise_schedule.h"
#include "core/util/random.h"
#include "tests/test_util.h"

namespace synthlens::generator_test {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr int kRes = 8;
constexpr int kClasses = 4;

// The exact eps of x0 ~ N(mu, 0.3^2) per pixel, mu = 0.2 (c + 1) - 0.5 for class c (-0.5 for the
// null class) plus emb[:, 0] when emb_mask is 1, written in TorchScript.
inline void SaveAnalyticDenoiser(const std::string& path) {
  NoiseScheduleSpec spec;
  const NoiseSchedule schedule = NoiseSchedule::Make(spec).value();
  torch::jit::Module m("AnalyticDenoiser");
  m.register_buffer("abar", torch::tensor(schedule.alphas_cumprod, torch::kFloat64));
  m.define(R"JIT(
    def forward(self, x, t, class_id, emb, emb_mask):
        a = self.abar.to(x.device).index_select(0, t).view(-1, 1, 1, 1)
        cls = torch.where(class_id == 4, torch.zeros_like(emb_mask), 0.2 * (class_id.float() + 1.0))
        mu = (cls - 0.5 + emb_mask * emb[:, 0].float()).double().view(-1, 1, 1, 1)
        xd = x.double()
        eps = (1.0 - a).sqrt() * (xd - a.sqrt() * mu) / (a * 0.09 + 1.0 - a)
        return eps.to(x.dtype)
  )JIT");
  m.save(path);
}

// An encoder whose embedding is (mean pixel in [0, 1], 0, 0).
inline void SaveMeanEncoder(const std::string& path) {
  torch::jit::Module m("MeanEncoder");
  m.define(R"JIT(
    def forward(self, x):
        m = x.mean(dim=[1, 2, 3]).unsqueeze(1)
        return torch.cat([m, m * 0.0, m * 0.0], 1)
  )JIT");
  m.save(path);
}

// <root>/diff (diffusion package) and <root>/enc (its embedding encoder, found as a sibling).
inline std::string MakePackages(const std::string& root, const json& conditioning) {
  fs::create_directories(root + "/diff");
  fs::create_directories(root + "/enc");
  SaveAnalyticDenoiser(root + "/diff/denoiser.pt");
  SaveMeanEncoder(root + "/enc/encoder.pt");
  const json input = {{"resolution", kRes}, {"channels", 1}, {"value_range", {-1.0, 1.0}}};
  json diff = {{"format", "synthlens-model-package"},
               {"format_version", 1},
               {"kind", "diffusion"},
               {"name", "analytic-diffusion"},
               {"files", {{"denoiser", "denoiser.pt"}}},
               {"input", input},
               {"diffusion",
                {{"space", "pixel"},
                 {"schedule",
                  {{"beta_schedule", "linear"},
                   {"num_train_timesteps", 1000},
                   {"prediction_type", "eps"}}}}}};
  if (!conditioning.is_null()) diff["diffusion"]["conditioning"] = conditioning;
  testing::WriteFile(root + "/diff/model.json", diff.dump(2));
  const json enc = {{"format", "synthlens-model-package"},
                    {"format_version", 1},
                    {"kind", "encoder"},
                    {"name", "enc"},
                    {"files", {{"encoder", "encoder.pt"}}},
                    {"input", {{"resolution", kRes}, {"channels", 1}}},
                    {"encoder", {{"output_dim", 3}}}};
  testing::WriteFile(root + "/enc/model.json", enc.dump(2));
  return root + "/diff";
}

inline json FullConditioning() {
  return {{"class", {{"num_classes", kClasses}}}, {"embedding", {{"dim", 3}, {"encoder", "enc"}}}};
}

// A grey image (R = G = B), so the 1-channel round trip is exact.
inline cv::Mat GreySource(int seed, int size = kRes, int lo = 0, int hi = 256) {
  Rng rng(static_cast<uint64_t>(seed));
  cv::Mat img(size, size, CV_8UC3);
  for (int y = 0; y < size; ++y) {
    for (int x = 0; x < size; ++x) {
      const auto v = static_cast<uint8_t>(rng.UniformInt(lo, hi - 1));
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(v, v, v);
    }
  }
  return img;
}

inline bool SameImage(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

}  // namespace synthlens::generator_test
