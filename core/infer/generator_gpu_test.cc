// CUDA checks of the generator (label gpu): parameterised over the CUDA devices present, each
// test skips when there are none. The same seeds give the same noise on every device (noise is
// drawn on the CPU), so CUDA fp32 must match the CPU; fp16/bf16 must run and stay close.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/infer/device.h"
#include "core/infer/generator.h"
#include "core/infer/generator_test_util.h"

namespace synthlens {
namespace {

using namespace generator_test;  // NOLINT

std::vector<int> CudaDevices() {
  std::vector<int> ids;
  for (const Device& d : QueryBackend().devices) {
    if (d.type == Device::Type::kCuda) ids.push_back(d.index);
  }
  if (ids.empty()) ids.push_back(-1);  // one instance that skips
  return ids;
}

double MeanAbsDiff(const cv::Mat& a, const cv::Mat& b) {
  return cv::norm(a, b, cv::NORM_L1) / static_cast<double>(a.total() * a.channels());
}

class GeneratorGpuTest : public ::testing::TestWithParam<int> {};

TEST_P(GeneratorGpuTest, CudaMatchesCpuAndHalfPrecisionRuns) {
  if (GetParam() < 0) GTEST_SKIP() << "no CUDA device";
  testing::TempDir dir;
  const std::string package = MakePackages(dir.Join("pk"), FullConditioning());
  auto cpu = Generator::Open(package, Device{});
  auto gpu = Generator::Open(package, Device{Device::Type::kCuda, GetParam()});
  ASSERT_TRUE(cpu.ok()) << cpu.error();
  ASSERT_TRUE(gpu.ok()) << gpu.error();
  const std::vector<cv::Mat> src = {GreySource(1), GreySource(2), GreySource(3)};
  const std::vector<std::string> ids = {"a", "b", "c"};
  for (const char* mode : {"img2img", "instance", "multipositive"}) {
    GenerateOptions o;
    o.mode = mode;
    o.views = 5;
    o.batch = 7;
    o.steps = 25;
    o.eta = 0.3;
    o.guidance = 2.0;
    o.guidance_rescale = 0.5;
    auto ref = (*cpu)->Generate(src, ids, {0, 1, 2}, o, nullptr);
    auto fp32 = (*gpu)->Generate(src, ids, {0, 1, 2}, o, nullptr);
    ASSERT_TRUE(ref.ok()) << ref.error();
    ASSERT_TRUE(fp32.ok()) << fp32.error();
    for (const char* precision : {"fp16", "bf16"}) {
      o.precision = precision;
      auto half = (*gpu)->Generate(src, ids, {0, 1, 2}, o, nullptr);
      ASSERT_TRUE(half.ok()) << half.error();
      for (size_t i = 0; i < src.size(); ++i) {
        for (size_t k = 0; k < 5; ++k) {
          // fp32: at most a rounding step apart; half precision: a few grey levels on average.
          EXPECT_LE(cv::norm((*ref)[i][k].image, (*fp32)[i][k].image, cv::NORM_INF), 1.0)
              << mode << " " << i << "/" << k;
          EXPECT_LT(MeanAbsDiff((*ref)[i][k].image, (*half)[i][k].image), 6.0)
              << mode << " " << precision << " " << i << "/" << k;
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Devices, GeneratorGpuTest, ::testing::ValuesIn(CudaDevices()),
                         [](const ::testing::TestParamInfo<int>& info) {
                           return info.param < 0 ? std::string("none")
                                                 : "cuda" + std::to_string(info.param);
                         });

}  // namespace
}  // namespace synthlens
