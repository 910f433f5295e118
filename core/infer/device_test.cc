#include "core/infer/device.h"

#include <gtest/gtest.h>

namespace synthlens {
namespace {

TEST(DeviceTest, ParsesValidDevices) {
  auto cpu = Device::Parse("cpu");
  ASSERT_TRUE(cpu.ok());
  EXPECT_EQ(cpu->type, Device::Type::kCpu);
  EXPECT_EQ(cpu->ToString(), "cpu");
  auto cuda = Device::Parse("cuda");
  ASSERT_TRUE(cuda.ok());
  EXPECT_EQ(cuda->ToString(), "cuda:0");
  auto cuda3 = Device::Parse("cuda:3");
  ASSERT_TRUE(cuda3.ok());
  EXPECT_EQ(cuda3->index, 3);
  EXPECT_EQ(cuda3->ToString(), "cuda:3");
}

TEST(DeviceTest, RejectsInvalidDevices) {
  for (const char* text : {"", "gpu", "cuda:", "cuda:-1", "cuda:x", "cuda:1x", "CPU"}) {
    auto device = Device::Parse(text);
    EXPECT_FALSE(device.ok()) << text;
    if (!device.ok()) {
      EXPECT_NE(device.error().find("unknown device"), std::string::npos);
    }
  }
}

TEST(DeviceTest, BackendListsCpuFirstAndMatchesCudaCount) {
  const BackendInfo info = QueryBackend();
  ASSERT_FALSE(info.devices.empty());
  EXPECT_EQ(info.devices.front().ToString(), "cpu");
  EXPECT_EQ(static_cast<int>(info.devices.size()), 1 + info.cuda_device_count);
  EXPECT_EQ(ValidateDevice(Device{}), "");
  const std::string error = ValidateDevice(Device{Device::Type::kCuda, info.cuda_device_count});
  EXPECT_NE(error.find("is not available"), std::string::npos);
}

TEST(DeviceTest, SetBackendThreadsTakesEffect) {
  EXPECT_FALSE(QueryBackend().torch_version.empty());
  SetBackendThreads(1);
  EXPECT_EQ(QueryBackend().intra_op_threads, 1);
  SetBackendThreads(2);
  EXPECT_EQ(QueryBackend().intra_op_threads, 2);
  SetBackendThreads(0);
}

}  // namespace
}  // namespace synthlens
