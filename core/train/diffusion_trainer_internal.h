#pragma once
// Torch-facing pieces of the diffusion trainer, exposed for tests. Include only from core/train.

#include <torch/script.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "core/infer/noise_schedule.h"

namespace synthlens::internal {

// alphas_cumprod of `schedule` as a float64 tensor [T] (the one source of the alphas).
torch::Tensor AlphasCumprod(const NoiseSchedule& schedule);

// Forward process q(x_t | x_0): sqrt(abar_t) * x0 + sqrt(1 - abar_t) * noise, computed in float64
// and returned as float32. `t` is int64 [B], x0 and noise [B, C, H, W].
torch::Tensor QSample(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& noise,
                      const torch::Tensor& alphas_cumprod);

// The training objective on one batch: MSE between the model's eps prediction at x_t and noise.
torch::Tensor DiffusionLoss(torch::jit::Module& model, const torch::Tensor& x0,
                            const torch::Tensor& t, const torch::Tensor& noise,
                            const torch::Tensor& class_id, const torch::Tensor& emb,
                            const torch::Tensor& emb_mask, const torch::Tensor& alphas_cumprod);

// Reads a float32 C-order 2-D .npy (N x E). Fails naming the file and the problem.
Result<torch::Tensor> ReadNpyMatrix(const std::string& path);

}  // namespace synthlens::internal
