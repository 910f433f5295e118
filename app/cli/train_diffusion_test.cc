// End-to-end test of `synthlens train-diffusion` on a tiny IDX pair written by the test.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <torch/script.h>

#include "core/infer/model_package.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

// A tiny IDX pair of n 28x28 images with labels i % 10; returns the SRC spec.
std::string WriteIdx(const testing::TempDir& dir, int n) {
  return testing::WriteIdxPair(
      dir.Join("img.idx"), dir.Join("lab.idx"), n,
      [](int i, int y, int x) { return static_cast<uint8_t>(((y * 28 + x) * (i + 3)) % 251); },
      [](int i) { return i % 10; });
}

TEST(TrainDiffusionCliTest, TrainsTwoStepsAndWritesAPackage) {
  testing::TempDir dir;
  const std::string src = WriteIdx(dir, 40);
  const std::string cmd = testing::BinaryPath("synthlens") + " --threads 1 train-diffusion --input " +
                          src + " --limit 32 --batch 8 --seed 3 --out " +
                          dir.Join("pkg");
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(cmd + " --steps 2", &out, &err), 0) << err;
  EXPECT_NE(err.find("step 2/2"), std::string::npos) << err;
  ASSERT_TRUE(std::filesystem::exists(dir.Join("pkg/denoiser.pt")));
  ASSERT_TRUE(std::filesystem::exists(dir.Join("pkg/checkpoint.pt")));
  std::ifstream in(dir.Join("pkg/model.json"));
  const auto manifest = nlohmann::json::parse(in);
  EXPECT_EQ(manifest["kind"], "diffusion");
  EXPECT_EQ(manifest["input"]["resolution"], 28);
  EXPECT_EQ(manifest["training"]["images"], 32);
  EXPECT_EQ(manifest["training"]["steps"], 2);
  EXPECT_EQ(manifest["training"]["seed"], 3);
  EXPECT_NE(manifest["training"]["command"].get<std::string>().find("--limit 32"),
            std::string::npos);
  auto loaded = ReadModelPackage(dir.Join("pkg"), "diffusion");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->diffusion.conditioning.num_classes, 10);
  EXPECT_EQ(loaded->diffusion.conditioning.embedding_dim, 0);

  // Resuming a finished run with more steps continues from the checkpoint.
  ASSERT_EQ(testing::RunCommand(cmd + " --resume --steps 3", &out, &err), 0) << err;
  EXPECT_NE(err.find("resumed from"), std::string::npos) << err;
  EXPECT_NE(err.find("step 3/3"), std::string::npos) << err;

  // Bad usage names the flag.
  EXPECT_EQ(testing::RunCommand(testing::BinaryPath("synthlens") +
                                    " train-diffusion --out x --batch 0",
                                &out, &err),
            2);
  EXPECT_NE(err.find("--batch"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(testing::BinaryPath("synthlens") + " train-diffusion --input " +
                                    src + " --out " + dir.Join("r") + " --resume",
                                &out, &err),
            1);
  EXPECT_NE(err.find("no checkpoint"), std::string::npos) << err;
}

TEST(TrainDiffusionCliTest, EncoderEmbeddingsConditionTheModelAndAreCached) {
  testing::TempDir dir;
  const std::string src = WriteIdx(dir, 16);
  // A tiny 128-d encoder package (8x8 grey input, a random linear map).
  torch::jit::Module enc("Enc");
  enc.register_parameter("w", torch::randn({8 * 8, 128}), false);
  enc.define("def forward(self, x):\n  return torch.flatten(x, 1) @ self.w\n");
  std::filesystem::create_directories(dir.Join("enc"));
  enc.save(dir.Join("enc/encoder.pt"));
  const nlohmann::json manifest = {{"format", "synthlens-model-package"},
                                   {"format_version", 1},
                                   {"kind", "encoder"},
                                   {"name", "tiny"},
                                   {"files", {{"encoder", "encoder.pt"}}},
                                   {"input", {{"resolution", 8}, {"channels", 1}}},
                                   {"encoder", {{"output_dim", 128}}}};
  testing::WriteFile(dir.Join("enc/model.json"), manifest.dump());
  const std::string cmd = testing::BinaryPath("synthlens") + " --threads 1 train-diffusion --input " +
                          src + " --encoder " + dir.Join("enc") + " --batch 8 --out " +
                          dir.Join("pkg");
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(cmd + " --steps 1", &out, &err), 0) << err;
  EXPECT_NE(err.find("embedding conditioning on"), std::string::npos) << err;
  std::ifstream in(dir.Join("pkg/model.json"));
  const auto written = nlohmann::json::parse(in);
  const auto& emb = written["diffusion"]["conditioning"]["embedding"];
  EXPECT_EQ(emb["dim"], 128);
  EXPECT_EQ(emb["encoder"], "enc");
  EXPECT_EQ(written["training"]["encoder_hash"].get<std::string>().size(), 64u);
  EXPECT_EQ(written["training"]["embedding_conditioning"], true);
  // The package passes the loader's validation.
  auto loaded = ReadModelPackage(dir.Join("pkg"), "diffusion");
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(loaded->diffusion.conditioning.embedding_dim, 128);
  EXPECT_EQ(loaded->diffusion.conditioning.embedding_encoder, "enc");
  // The embeddings were computed once and are reused on resume.
  ASSERT_EQ(testing::RunCommand(cmd + " --steps 2 --resume", &out, &err), 0) << err;
  EXPECT_NE(err.find("using cached embeddings"), std::string::npos) << err;
  // The embedding width follows the encoder: resuming this embedding-conditioned run with an
  // encoder of another width is refused, a fresh run takes the new width.
  enc.register_parameter("w", torch::randn({8 * 8, 5}), false);
  enc.save(dir.Join("enc/encoder.pt"));
  auto five = manifest;
  five["encoder"]["output_dim"] = 5;
  testing::WriteFile(dir.Join("enc/model.json"), five.dump());
  EXPECT_EQ(testing::RunCommand(cmd + " --steps 3 --resume", &out, &err), 1);
  EXPECT_NE(err.find("different run"), std::string::npos) << err;
  std::filesystem::remove_all(dir.Join("pkg"));
  ASSERT_EQ(testing::RunCommand(cmd + " --steps 1", &out, &err), 0) << err;
  std::ifstream in5(dir.Join("pkg/model.json"));
  EXPECT_EQ(nlohmann::json::parse(in5)["diffusion"]["conditioning"]["embedding"]["dim"], 5);
}

}  // namespace
}  // namespace synthlens
