#include "core/infer/device.h"

#include <cstdlib>
#include <sstream>

#include "core/util/parallel.h"

#include <ATen/Parallel.h>
#include <torch/cuda.h>
#include <torch/version.h>

namespace synthlens {

Result<Device> Device::Parse(const std::string& text) {
  Device device;
  if (text == "cpu") return device;
  if (text == "cuda") {
    device.type = Type::kCuda;
    return device;
  }
  if (text.rfind("cuda:", 0) == 0) {
    const std::string index = text.substr(5);
    char* end = nullptr;
    const long value = std::strtol(index.c_str(), &end, 10);
    if (!index.empty() && end && *end == '\0' && value >= 0 && value < 1024) {
      device.type = Type::kCuda;
      device.index = static_cast<int>(value);
      return device;
    }
  }
  return Result<Device>::Failure("unknown device '" + text +
                                 "' (expected cpu, cuda or cuda:N)");
}

std::string Device::ToString() const {
  return type == Type::kCpu ? "cpu" : "cuda:" + std::to_string(index);
}

BackendInfo QueryBackend() {
  BackendInfo info;
  info.devices.push_back(Device{});
  info.torch_version = TORCH_VERSION;
  info.intra_op_threads = at::get_num_threads();
  info.inter_op_threads = at::get_num_interop_threads();
  info.cuda_available = torch::cuda::is_available();
  info.cuda_device_count = info.cuda_available ? static_cast<int>(torch::cuda::device_count()) : 0;
  for (int i = 0; i < info.cuda_device_count; ++i) {
    info.devices.push_back(Device{Device::Type::kCuda, i});
  }
  return info;
}

void SetBackendThreads(int n) {
  at::set_num_threads(n <= 0 ? HardwareThreads() : n);
}

std::string ValidateDevice(const Device& device) {
  if (device.type == Device::Type::kCpu) return {};
  const BackendInfo info = QueryBackend();
  if (device.index < info.cuda_device_count) return {};
  std::ostringstream out;
  out << "device " << device.ToString() << " is not available: ";
  if (!info.cuda_available) {
    out << "LibTorch " << info.torch_version << " reports no CUDA device (CPU-only build or no GPU)";
  } else {
    out << "only " << info.cuda_device_count << " CUDA device(s) present";
  }
  return out.str();
}

}  // namespace synthlens
