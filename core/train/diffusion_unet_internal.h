#pragma once
// Torch-facing part of the diffusion UNet; include only from core/train .cc files and tests.

#include <torch/script.h>
#include <torch/torch.h>

#include "core/train/diffusion_unet.h"

namespace synthlens::internal {

// Builds the UNet as a genuine TorchScript module (every weight a registered parameter, forward
// defined from TorchScript source) so that training runs on the module itself and module.save()
// writes the package's denoiser with the documented signature
//   forward(x[B,C,H,W] f32, t[B] i64, class_id[B] i64, emb[B,E] f32, emb_mask[B] f32) -> eps.
// Weights are drawn from a CPU generator seeded with `seed`. Without `embedding_input` forward
// ignores emb/emb_mask (any shape; a package without embedding conditioning) but the projection's
// weights stay registered, so checkpoints are interchangeable.
torch::jit::Module BuildDiffusionUNet(const DiffusionUNetConfig& config, uint64_t seed,
                                      bool embedding_input = true);

// The TorchScript source of forward() for `config` (exposed for tests and debugging).
std::string DiffusionUNetSource(const DiffusionUNetConfig& config, bool embedding_input = true);

// Number of scalar weights.
int64_t CountParameters(const torch::jit::Module& module);

}  // namespace synthlens::internal
