// End to end: the real `synthlens` binary trains a tiny encoder and probes it.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace synthlens {
namespace {

using testing::BinaryPath;
using testing::RunCommand;
using testing::TempDir;

// n 28x28 IDX images in 2 classes (vertical vs horizontal stripes, varying phase).
std::string WriteIdx(const TempDir& dir, const std::string& name, int n) {
  return testing::WriteIdxPair(
      dir.Join(name + "-images.idx"), dir.Join(name + "-labels.idx"), n,
      [](int i, int y, int x) {
        const double t = (i % 2 == 0 ? x : y) * 0.9 + i * 0.37;
        return static_cast<uint8_t>(std::lround(127.5 + 120 * std::sin(t)));
      },
      [](int i) { return i % 2; });
}

TEST(TrainEncoderCliTest, TrainsAPackageAndProbesIt) {
  TempDir dir;
  const std::string train = WriteIdx(dir, "train", 80);
  const std::string test = WriteIdx(dir, "test", 40);
  const std::string bin = BinaryPath("synthlens");
  const std::string pkg = dir.Join("pkg");
  std::string out, err;
  ASSERT_EQ(RunCommand(bin + " train-encoder --input " + train + " --limit 64 --epochs 1 --batch 32 --out " +
                           pkg + " --seed 3",
                       &out, &err),
            0)
      << err;
  EXPECT_TRUE(std::filesystem::exists(pkg + "/encoder.pt"));
  EXPECT_TRUE(std::filesystem::exists(pkg + "/model.json"));
  EXPECT_TRUE(std::filesystem::exists(pkg + ".ckpt"));
  EXPECT_NE(err.find("package written"), std::string::npos) << err;

  ASSERT_EQ(RunCommand(bin + " probe --train " + train + " --test " + test + " --encoder " + pkg +
                           " --limit 40 --json",
                       &out, &err),
            0)
      << err;
  auto j = nlohmann::json::parse(out);
  EXPECT_GE(j["top1"].get<double>(), 0.0);
  EXPECT_LE(j["top1"].get<double>(), 1.0);
  EXPECT_EQ(j["encoder"], pkg);
  EXPECT_EQ(j["train_images"], 40);
  EXPECT_EQ(j["test_images"], 40);
  EXPECT_EQ(j["dim"], 512);
  EXPECT_TRUE(j.contains("weight_decay"));

  // Stripes are linearly separable in pixel space... after standardisation, at least mostly.
  ASSERT_EQ(RunCommand(bin + " probe --train " + train + " --test " + test +
                           " --encoder pixels --limit 40 --json",
                       &out, &err),
            0)
      << err;
  j = nlohmann::json::parse(out);
  EXPECT_EQ(j["dim"], 784);
  EXPECT_GE(j["top1"].get<double>(), 0.5);

  // --resume with the epochs already done re-exports the package from the checkpoint.
  const std::string pkg2 = dir.Join("pkg2");
  ASSERT_EQ(RunCommand(bin + " train-encoder --input " + train + " --limit 64 --epochs 1 --batch 32 --out " +
                           pkg2 + " --seed 3 --resume --checkpoint " + pkg + ".ckpt",
                       &out, &err),
            0)
      << err;
  EXPECT_TRUE(std::filesystem::exists(pkg2 + "/encoder.pt"));
  // Provenance: the command that trained first, then the export.
  std::ifstream in(pkg2 + "/model.json");
  auto manifest = nlohmann::json::parse(in);
  const std::string first = manifest["training"]["command"];
  EXPECT_NE(first.find("--out " + pkg + " "), std::string::npos) << first;
  ASSERT_EQ(manifest["training"]["later_commands"].size(), 1u);
  EXPECT_NE(manifest["training"]["later_commands"][0].get<std::string>().find("--resume"),
            std::string::npos);
}

TEST(TrainEncoderCliTest, UsageAndFailuresHaveTheirExitStatus) {
  TempDir dir;
  const std::string bin = BinaryPath("synthlens");
  std::string out, err;
  EXPECT_EQ(RunCommand(bin + " train-encoder --input fashion-mnist:train", &out, &err), 2);
  EXPECT_EQ(RunCommand(bin + " train-encoder --out " + dir.Join("p") + " --temperature 0", &out, &err), 2);
  EXPECT_NE(err.find("--temperature"), std::string::npos) << err;
  EXPECT_EQ(RunCommand(bin + " train-encoder --input " + dir.Join("missing") + " --out " + dir.Join("p"),
                       &out, &err),
            1);
  EXPECT_EQ(RunCommand(bin + " probe --train " + dir.Join("missing") + " --test x", &out, &err), 1);
  EXPECT_EQ(RunCommand(bin + " probe --train a --test b --encoder " + dir.Join("nopkg"), &out, &err), 1);
  EXPECT_EQ(RunCommand(bin + " probe --test b", &out, &err), 2);
}

}  // namespace
}  // namespace synthlens
