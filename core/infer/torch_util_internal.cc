#include "core/infer/torch_util_internal.h"

#include <filesystem>
#include <fstream>
#include <sstream>

namespace synthlens::internal {

c10::Device ToTorchDevice(const Device& device) {
  if (device.type == Device::Type::kCuda) {
    return c10::Device(c10::DeviceType::CUDA, static_cast<c10::DeviceIndex>(device.index));
  }
  return c10::Device(c10::DeviceType::CPU);
}

Result<c10::ScalarType> ParsePrecision(const std::string& precision, const Device& device) {
  using R = Result<c10::ScalarType>;
  if (precision == "fp32") return c10::ScalarType::Float;
  if (precision == "bf16") return c10::ScalarType::BFloat16;
  if (precision == "fp16") {
    if (device.type != Device::Type::kCuda) {
      return R::Failure("precision fp16 needs a CUDA device (use fp32 or bf16 on cpu)");
    }
    return c10::ScalarType::Half;
  }
  return R::Failure("unknown precision '" + precision + "' (expected fp32, fp16 or bf16)");
}

std::string TorchErrorMessage(const std::exception& error) {
  std::string text;
  if (const auto* c10_error = dynamic_cast<const c10::Error*>(&error)) {
    text = c10_error->what_without_backtrace();
  } else {
    text = error.what();
  }
  // TorchScript errors carry the offending source with carets and "Traceback" lines; keep the
  // first meaningful line, which says what went wrong.
  std::istringstream lines(text);
  std::string line, best;
  while (std::getline(lines, line)) {
    if (line.find("RuntimeError: ") != std::string::npos) {
      best = line.substr(line.find("RuntimeError: ") + 14);
      break;
    }
    if (best.empty() && !line.empty() && line.find("Traceback") == std::string::npos) best = line;
  }
  if (best.empty()) best = text;
  if (best.size() > 300) best = best.substr(0, 300) + "...";
  return best;
}

Result<torch::jit::Module> LoadTorchScript(const std::string& path, const Device& device) {
  using R = Result<torch::jit::Module>;
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) return R::Failure(path + ": missing");
  torch::jit::Module module;
  try {
    module = torch::jit::load(path, ToTorchDevice(device));
  } catch (const std::exception& e) {
    return R::Failure(path + ": not a TorchScript file (" + TorchErrorMessage(e) +
                      "); save it with torch.jit.script(model).save() or torch.jit.trace(...)");
  }
  if (!module.find_method("forward")) return R::Failure(path + ": has no forward method");
  module.eval();
  return module;
}

std::string ShapeString(const torch::Tensor& tensor) {
  std::ostringstream out;
  out << "[";
  for (int64_t i = 0; i < tensor.dim(); ++i) out << (i ? ", " : "") << tensor.size(i);
  out << "]";
  return out.str();
}

torch::Tensor ImagesToTensor(const std::vector<cv::Mat>& images, bool pin) {
  SL_CHECK(!images.empty(), "ImagesToTensor: no images");
  const int h = images[0].rows, w = images[0].cols, c = images[0].channels();
  auto options = torch::TensorOptions().dtype(torch::kFloat32).pinned_memory(pin);
  torch::Tensor batch =
      torch::empty({static_cast<int64_t>(images.size()), c, h, w}, options);
  float* base = batch.data_ptr<float>();
  const size_t plane = static_cast<size_t>(h) * w;
  for (size_t n = 0; n < images.size(); ++n) {
    const cv::Mat& img = images[n];
    SL_CHECK(img.depth() == CV_32F && img.rows == h && img.cols == w && img.channels() == c,
             "ImagesToTensor: image " << n << " differs in size or type");
    float* dst = base + n * c * plane;
    for (int y = 0; y < h; ++y) {
      const float* src = img.ptr<float>(y);
      for (int x = 0; x < w; ++x) {
        for (int k = 0; k < c; ++k) dst[k * plane + static_cast<size_t>(y) * w + x] = src[x * c + k];
      }
    }
  }
  return batch;
}

cv::Mat TensorToMat(const torch::Tensor& tensor) {
  SL_CHECK(tensor.dim() == 2, "TensorToMat needs a 2-D tensor, got " << ShapeString(tensor));
  torch::Tensor cpu = tensor.to(torch::kCPU, torch::kFloat32).contiguous();
  cv::Mat out(static_cast<int>(cpu.size(0)), static_cast<int>(cpu.size(1)), CV_32F);
  if (cpu.numel() > 0) std::memcpy(out.data, cpu.data_ptr<float>(), cpu.numel() * sizeof(float));
  return out;
}

std::vector<cv::Mat> TensorToImages(const torch::Tensor& tensor, double lo, double hi) {
  SL_CHECK(tensor.dim() == 4 && (tensor.size(1) == 1 || tensor.size(1) == 3),
           "TensorToImages needs [N, 1|3, H, W], got " << ShapeString(tensor));
  torch::Tensor u8 = ((tensor.to(torch::kFloat32) - lo) * (255.0 / (hi - lo)))
                         .round()
                         .clamp(0, 255)
                         .to(torch::kCPU, torch::kUInt8);
  if (u8.size(1) == 1) u8 = u8.expand({u8.size(0), 3, u8.size(2), u8.size(3)});
  u8 = u8.permute({0, 2, 3, 1}).contiguous();
  std::vector<cv::Mat> images;
  const int h = static_cast<int>(u8.size(1)), w = static_cast<int>(u8.size(2));
  for (int64_t n = 0; n < u8.size(0); ++n) {
    cv::Mat img(h, w, CV_8UC3);
    std::memcpy(img.data, u8[n].data_ptr<uint8_t>(), static_cast<size_t>(h) * w * 3);
    images.push_back(img);
  }
  return images;
}

std::string ProbeDenoiser(torch::jit::Module& module, const ModelManifest& manifest,
                          const Device& device, const std::string& file) {
  const DiffusionSpec& d = manifest.diffusion;
  const bool latent = d.space == "latent";
  const int64_t c = latent ? d.latent_channels : manifest.input.channels;
  const int64_t r = latent ? d.latent_resolution : manifest.input.resolution;
  const int64_t b = 2;
  const int64_t e = std::max(d.conditioning.embedding_dim, 1);
  auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(ToTorchDevice(device));
  auto i64 = torch::TensorOptions().dtype(torch::kInt64).device(ToTorchDevice(device));
  std::vector<torch::jit::IValue> inputs = {
      torch::zeros({b, c, r, r}, f32), torch::full({b}, d.schedule.num_train_timesteps / 2, i64),
      torch::full({b}, d.conditioning.num_classes, i64), torch::zeros({b, e}, f32),
      torch::zeros({b}, f32)};
  const std::string expected = "[2, " + std::to_string(c) + ", " + std::to_string(r) + ", " +
                               std::to_string(r) + "]";
  torch::jit::IValue out;
  try {
    torch::InferenceMode guard;
    out = module.forward(inputs);
  } catch (const std::exception& ex) {
    return file + ": forward(x " + expected + ", t [2], class_id [2], emb [2, " +
           std::to_string(e) + "], emb_mask [2]) failed: " + TorchErrorMessage(ex);
  }
  if (!out.isTensor()) {
    return file + ": forward returned " + out.tagKind() + ", expected a Tensor " + expected;
  }
  const torch::Tensor y = out.toTensor();
  if (ShapeString(y) != expected) {
    return file + ": forward returned " + ShapeString(y) + ", model.json declares " + expected;
  }
  if (!torch::isfinite(y).all().item<bool>()) {
    return file + ": forward returned NaN or Inf on a zero probe input";
  }
  return {};
}

}  // namespace synthlens::internal
