#pragma once

#include <string>
#include <vector>

#include "core/util/result.h"

namespace synthlens {

// A compute device, parsed from "cpu", "cuda" or "cuda:N" (Open3D's core::Device). Our own value
// type at the API so no public header needs torch.
struct Device {
  enum class Type { kCpu, kCuda };
  Type type = Type::kCpu;
  int index = 0;

  static Result<Device> Parse(const std::string& text);
  std::string ToString() const;
  bool operator==(const Device& other) const {
    return type == other.type && (type == Type::kCpu || index == other.index);
  }
};

// What the linked inference backend (LibTorch) offers on this machine.
struct BackendInfo {
  std::string torch_version;     // e.g. "1.13.1"
  int intra_op_threads = 0;
  int inter_op_threads = 0;
  bool cuda_available = false;
  int cuda_device_count = 0;
  std::vector<Device> devices;   // cpu first, then cuda:0..N-1
};

BackendInfo QueryBackend();

// Sets LibTorch's intra-op thread count (n <= 0: the machine's cores).
void SetBackendThreads(int n);

// Checks that a device exists here; returns an error naming the device and what is available.
std::string ValidateDevice(const Device& device);

}  // namespace synthlens
