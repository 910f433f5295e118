// Runs the example export scripts (scripts/export/*.py) with /usr/bin/python3 (or
// $SYNTHLENS_PYTHON) and checks that SynthLens loads what they write. Label: python. Skips when
// that Python has no torch (or torchvision, for the ResNet encoder).
#include <cstdlib>
#include <filesystem>

#include <gtest/gtest.h>
#include <opencv2/imgcodecs.hpp>

#include "core/infer/encoder.h"
#include "core/infer/torch_util_internal.h"
#include "core/io/npy.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

std::string Python() {
  const char* env = std::getenv("SYNTHLENS_PYTHON");
  return env && *env ? env : "/usr/bin/python3";
}

bool PythonHas(const std::string& modules) {
  return testing::RunCommand(Python() + " -c 'import " + modules + "'") == 0;
}

std::string Script(const std::string& name) {
  return std::string(SYNTHLENS_SOURCE_DIR) + "/scripts/export/" + name;
}

TEST(ExportScriptsTest, TorchvisionResNetEncoderPackage) {
  if (!PythonHas("torch, torchvision")) GTEST_SKIP() << Python() << " lacks torch/torchvision";
  testing::TempDir dir;
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Python() + " " + Script("export_torchvision_encoder.py") +
                                    " --out " + dir.Join("enc") + " --resolution 32 --output-dim 24",
                                &out, &err),
            0)
      << err;
  auto manifest = ReadModelPackage(dir.Join("enc"), "encoder");
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  EXPECT_EQ(manifest->input.channels, 3);
  auto encoder = Encoder::Open(dir.Join("enc"), Device{}, 4);
  ASSERT_TRUE(encoder.ok()) << encoder.error();
  EXPECT_EQ((*encoder)->dim(), 24);
  std::vector<cv::Mat> images;
  for (int i = 0; i < 5; ++i) images.emplace_back(40, 30, CV_8UC3, cv::Scalar(40 * i, 90, 200));
  auto emb = (*encoder)->Embed(images);
  ASSERT_TRUE(emb.ok()) << emb.error();
  EXPECT_EQ(emb->rows, 5);
  EXPECT_TRUE(cv::checkRange(*emb));

  // And through the real CLI when it was built.
  const char* bin = std::getenv("SYNTHLENS_BIN_DIR");
  if (bin && fs::exists(std::string(bin) + "/synthlens")) {
    fs::create_directories(dir.Join("src/a"));
    for (int i = 0; i < 3; ++i) {
      cv::Mat img(30, 30, CV_8UC3, cv::Scalar(10, 50 * i, 90));
      cv::imwrite(dir.Join("src/a/x" + std::to_string(i) + ".png"), img);
    }
    ASSERT_EQ(testing::RunCommand(std::string(bin) + "/synthlens embed --input " + dir.Join("src") +
                                      " --encoder " + dir.Join("enc") + " --out " + dir.Join("e.npy"),
                                  &out, &err),
              0)
        << err;
    std::vector<int64_t> shape;
    ASSERT_TRUE(ReadNpy(dir.Join("e.npy"), &shape).ok());
    EXPECT_EQ(shape, (std::vector<int64_t>{3, 24}));
  }
}

TEST(ExportScriptsTest, TracedUNetDiffusionPackage) {
  if (!PythonHas("torch")) GTEST_SKIP() << Python() << " lacks torch";
  testing::TempDir dir;
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Python() + " " + Script("export_unet_diffusion.py") + " --out " +
                                    dir.Join("diff") + " --base 16 --embedding-dim 12",
                                &out, &err),
            0)
      << err;
  auto manifest = ReadModelPackage(dir.Join("diff"), "diffusion");
  ASSERT_TRUE(manifest.ok()) << manifest.error();
  EXPECT_EQ(manifest->diffusion.conditioning.num_classes, 10);
  EXPECT_EQ(manifest->diffusion.conditioning.embedding_dim, 12);
  auto module = internal::LoadTorchScript(manifest->FilePath("denoiser"), Device{});
  ASSERT_TRUE(module.ok()) << module.error();
  EXPECT_EQ(internal::ProbeDenoiser(*module, *manifest, Device{}, "denoiser.pt"), "");

  // A manifest that lies about the channels is caught by the probe.
  ModelManifest wrong = *manifest;
  wrong.input.channels = 3;
  const std::string problem = internal::ProbeDenoiser(*module, wrong, Device{}, "denoiser.pt");
  EXPECT_NE(problem.find("denoiser.pt: forward("), std::string::npos) << problem;
}

}  // namespace
}  // namespace synthlens
