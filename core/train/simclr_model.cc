#include <cmath>

#include "core/train/simclr_internal.h"

namespace synthlens::train_internal {
namespace {

// GroupNorm instead of BatchNorm: no running statistics, so train and eval are the same function
// and the exported TorchScript needs no mode switch.
constexpr int64_t kGroups = 8;

// features(): the last feature map [B,128,7,7]; training pools it globally for the projection head.
// forward(): the exported representation, the same map average-pooled on a 2x2 grid of overlapping
// 4x4 windows (rows/columns 0-3 and 3-6, as adaptive_avg_pool2d(7 -> 2)), flattened channel-major
// to [B,512]. The grid keeps where in the garment a feature fired, which a linear probe needs
// (docs/models.md measures both read-outs of the same weights).
const char* kEncoderSource = R"JIT(
def features(self, x: Tensor) -> Tensor:
    h = torch.conv2d(x, self.conv1_weight, None, [1, 1], [1, 1])
    h = torch.relu(torch.group_norm(h, 8, self.gn1_weight, self.gn1_bias, 1e-5))
    h = torch.conv2d(h, self.conv2_weight, None, [2, 2], [1, 1])
    h = torch.relu(torch.group_norm(h, 8, self.gn2_weight, self.gn2_bias, 1e-5))
    h = torch.conv2d(h, self.conv3_weight, None, [2, 2], [1, 1])
    h = torch.relu(torch.group_norm(h, 8, self.gn3_weight, self.gn3_bias, 1e-5))
    h = torch.conv2d(h, self.conv4_weight, None, [1, 1], [1, 1])
    h = torch.relu(torch.group_norm(h, 8, self.gn4_weight, self.gn4_bias, 1e-5))
    return h

def forward(self, x: Tensor) -> Tensor:
    h = self.features(x)
    top = h[:, :, 0:4, :]
    bottom = h[:, :, 3:7, :]
    cells = [top[:, :, :, 0:4].mean([2, 3]), top[:, :, :, 3:7].mean([2, 3]),
             bottom[:, :, :, 0:4].mean([2, 3]), bottom[:, :, :, 3:7].mean([2, 3])]
    return torch.stack(cells, 2).flatten(1)
)JIT";

}  // namespace

torch::jit::Module BuildSimclrEncoder() {
  static_assert(kGroups == 8, "the TorchScript source hard-codes 8 groups");
  torch::jit::Module module("SimclrEncoder");
  const int64_t channels[5] = {1, 32, 64, 128, kSimclrFeatureChannels};
  torch::NoGradGuard no_grad;
  for (int layer = 1; layer <= 4; ++layer) {
    const int64_t in = channels[layer - 1], out = channels[layer];
    // He initialisation (fan_out, ReLU), as torchvision's ResNets.
    auto weight = torch::randn({out, in, 3, 3}) * std::sqrt(2.0 / static_cast<double>(out * 9));
    const std::string n = std::to_string(layer);
    module.register_parameter("conv" + n + "_weight", weight.requires_grad_(true), false);
    module.register_parameter("gn" + n + "_weight", torch::ones({out}).requires_grad_(true), false);
    module.register_parameter("gn" + n + "_bias", torch::zeros({out}).requires_grad_(true), false);
  }
  module.define(kEncoderSource);
  return module;
}

torch::nn::Sequential BuildProjectionHead() {
  return torch::nn::Sequential(torch::nn::Linear(kSimclrFeatureChannels, kSimclrFeatureChannels),
                               torch::nn::ReLU(),
                               torch::nn::Linear(kSimclrFeatureChannels, kSimclrProjDim));
}

torch::Tensor SimclrHeadInput(torch::jit::Module& encoder, const torch::Tensor& x) {
  return encoder.get_method("features")({x}).toTensor().mean({2, 3});
}

torch::Tensor NtXentLoss(const torch::Tensor& z1, const torch::Tensor& z2, double temperature) {
  TORCH_CHECK(z1.dim() == 2 && z1.sizes() == z2.sizes(), "NtXentLoss: z1 and z2 must be [N, D]");
  const int64_t n = z1.size(0);
  auto z = torch::nn::functional::normalize(torch::cat({z1, z2}, 0),
                                            torch::nn::functional::NormalizeFuncOptions().dim(1));
  auto logits = torch::matmul(z, z.t()) / temperature;
  // Exclude each anchor's similarity with itself.
  auto self_mask = torch::eye(2 * n, torch::TensorOptions().dtype(torch::kBool).device(z.device()));
  logits = logits.masked_fill(self_mask, -1e9);
  auto idx = torch::arange(n, torch::TensorOptions().dtype(torch::kLong).device(z.device()));
  auto targets = torch::cat({idx + n, idx});
  return torch::nn::functional::cross_entropy(logits, targets);
}

std::vector<torch::Tensor> SimclrParameters(const torch::jit::Module& encoder,
                                            const torch::nn::Sequential& head) {
  std::vector<torch::Tensor> params;
  for (const auto& p : encoder.named_parameters(/*recurse=*/true)) params.push_back(p.value);
  for (const auto& p : head->parameters()) params.push_back(p);
  return params;
}

}  // namespace synthlens::train_internal
