// Encoder on every CUDA device present (label: gpu); skipped on machines without CUDA.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/encoder.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

std::vector<Device> CudaDevices() {
  std::vector<Device> out;
  for (const Device& d : QueryBackend().devices) {
    if (d.type == Device::Type::kCuda) out.push_back(d);
  }
  return out;
}

std::string MakeConvPackage(const std::string& dir) {
  torch::jit::Module m("Enc");
  m.register_parameter("k", torch::randn({8, 3, 3, 3}) * 0.2, false);
  m.register_parameter("w", torch::randn({8 * 16 * 16, 32}) * 0.05, false);
  m.define(R"(def forward(self, x):
  h = torch.relu(torch.conv2d(x, self.k, padding=1))
  return torch.flatten(h, 1) @ self.w
)");
  std::filesystem::create_directories(dir);
  m.save(dir + "/encoder.pt");
  nlohmann::json manifest = {
      {"format", "synthlens-model-package"}, {"format_version", 1}, {"kind", "encoder"},
      {"name", "gpu-test"}, {"files", {{"encoder", "encoder.pt"}}},
      {"input", {{"resolution", 16}, {"channels", 3}, {"mean", {0.5, 0.5, 0.5}}, {"std", {0.25, 0.25, 0.25}}}},
      {"encoder", {{"output_dim", 32}}}};
  testing::WriteFile(dir + "/model.json", manifest.dump());
  return dir;
}

std::vector<cv::Mat> Images(int n) {
  std::vector<cv::Mat> images;
  cv::theRNG().state = 7;
  for (int i = 0; i < n; ++i) {
    cv::Mat img(20 + i % 3, 18, CV_8UC3);
    cv::randu(img, 0, 256);
    images.push_back(img);
  }
  return images;
}

TEST(EncoderGpuTest, MatchesCpuOnEveryCudaDevice) {
  const auto devices = CudaDevices();
  if (devices.empty()) GTEST_SKIP() << "no CUDA device";
  testing::TempDir dir;
  const std::string pkg = MakeConvPackage(dir.Join("enc"));
  const auto images = Images(37);
  auto cpu = Encoder::Open(pkg, Device{}, 8);
  ASSERT_TRUE(cpu.ok()) << cpu.error();
  const cv::Mat reference = *(*cpu)->Embed(images);
  const double scale = cv::norm(reference, cv::NORM_INF);
  for (const Device& device : devices) {
    SCOPED_TRACE(device.ToString());
    for (const std::string precision : {"fp32", "fp16", "bf16"}) {
      SCOPED_TRACE(precision);
      EncoderOptions options;
      options.batch_size = 16;
      options.precision = precision;
      auto gpu = Encoder::Open(pkg, device, options);
      ASSERT_TRUE(gpu.ok()) << gpu.error();
      EXPECT_EQ((*gpu)->device(), device);
      auto emb = (*gpu)->Embed(images);
      ASSERT_TRUE(emb.ok()) << emb.error();
      const double tolerance = precision == "fp32" ? 1e-3 : (precision == "fp16" ? 2e-2 : 6e-2);
      EXPECT_LT(cv::norm(*emb, reference, cv::NORM_INF) / scale, tolerance);
    }
  }
}

TEST(EncoderGpuTest, MissingDeviceIndexIsAClearError) {
  const auto devices = CudaDevices();
  if (devices.empty()) GTEST_SKIP() << "no CUDA device";
  testing::TempDir dir;
  const Device beyond{Device::Type::kCuda, static_cast<int>(devices.size())};
  auto enc = Encoder::Open(MakeConvPackage(dir.Join("enc")), beyond);
  ASSERT_FALSE(enc.ok());
  EXPECT_NE(enc.error().find("is not available"), std::string::npos) << enc.error();
}

}  // namespace
}  // namespace synthlens
