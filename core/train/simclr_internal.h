#pragma once
// LibTorch internals of SimCLR training. Include only from core/train .cc files (and their tests):
// torch headers must not reach public headers (Qt's `slots` macro breaks them).

#include <cstdint>
#include <string>

#include <torch/script.h>
#include <torch/torch.h>

namespace synthlens::train_internal {

// Channels of the encoder's last feature map: the projection head's input (global average pool).
constexpr int64_t kSimclrFeatureChannels = 128;
// Width of the representation h (the encoder's forward output, the package's "output_dim"): the
// last feature map pooled on a 2x2 grid.
constexpr int64_t kSimclrRepDim = 4 * kSimclrFeatureChannels;
// Width of the projection head's output z, used only by the NT-Xent loss.
constexpr int64_t kSimclrProjDim = 64;

// The SimCLR encoder as a genuine TorchScript module. features(x: [B,1,28,28] normalised) ->
// [B,128,7,7]: four 3x3 convolutions (32-64-128-128, strides 1-2-2-1) with GroupNorm + ReLU.
// forward(x) -> [B,512]: that map average-pooled on a 2x2 grid (the exported representation). Parameters are initialised from torch's global generator (seed it first); they require
// grad, so forward() builds the autograd graph and torch::optim can train them in place.
torch::jit::Module BuildSimclrEncoder();

// Projection head g: Linear(128,128) - ReLU - Linear(128,64). Training only; never exported.
torch::nn::Sequential BuildProjectionHead();

// The head's input during training: features(x) averaged over all positions, [B,128].
torch::Tensor SimclrHeadInput(torch::jit::Module& encoder, const torch::Tensor& x);

// NT-Xent (SimCLR) loss of two batches of projections z1, z2 [N, D] whose rows i are positives:
// mean over the 2N anchors of -log softmax(cos_sim / temperature) at the positive, self-similarity
// excluded.
torch::Tensor NtXentLoss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature);

// Every trainable parameter of the encoder and the head, in a fixed order.
std::vector<torch::Tensor> SimclrParameters(const torch::jit::Module& encoder,
                                            const torch::nn::Sequential& head);

}  // namespace synthlens::train_internal
