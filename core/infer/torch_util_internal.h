#pragma once
// LibTorch helpers shared by core/infer and core/train .cc files. Internal: includes torch, so
// never include it from a public header or from Qt code.

#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/device.h"
#include "core/infer/model_package.h"
#include "core/util/result.h"

namespace synthlens::internal {

// Our Device -> torch's (no availability check; see ValidateDevice).
c10::Device ToTorchDevice(const Device& device);

// "fp32" | "fp16" | "bf16" -> scalar type; fails for anything else or fp16 on CPU.
Result<c10::ScalarType> ParsePrecision(const std::string& precision, const Device& device);

// A torch error message without the C++ backtrace torch appends (first line(s) only).
std::string TorchErrorMessage(const std::exception& error);

// Loads a TorchScript file onto a device, in eval mode. Errors name the file:
// "PATH: missing", "PATH: not a TorchScript file (...)", "PATH: has no forward method".
Result<torch::jit::Module> LoadTorchScript(const std::string& path, const Device& device);

// "[2, 64]" for error messages.
std::string ShapeString(const torch::Tensor& tensor);

// Images that PreprocessImage made (CV_32FC(C), all the same size) -> one contiguous float32
// [N, C, H, W] CPU tensor, pinned when `pin` (for non_blocking host-to-CUDA copies).
torch::Tensor ImagesToTensor(const std::vector<cv::Mat>& images, bool pin = false);

// A 2-D tensor -> N x D CV_32F Mat (copies; converts dtype and device as needed; syncs).
cv::Mat TensorToMat(const torch::Tensor& tensor);

// A [N, C, H, W] float tensor in value range [lo, hi] -> N CV_8UC3 RGB images (grey replicated),
// rounded and clamped. For decoding generated images.
std::vector<cv::Mat> TensorToImages(const torch::Tensor& tensor, double lo, double hi);

// Runs a denoiser on a zero probe shaped by the manifest (x [2, C, R, R], t, class_id, emb,
// emb_mask) and checks the output shape and finiteness. Empty string when fine, else the error
// naming `file`. For latent models the probe uses the latent shape.
std::string ProbeDenoiser(torch::jit::Module& module, const ModelManifest& manifest,
                          const Device& device, const std::string& file);

}  // namespace synthlens::internal
