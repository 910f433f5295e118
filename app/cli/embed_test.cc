// End-to-end tests of `synthlens embed` on a tiny encoder package the test builds itself.
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/encoder.h"
#include "core/io/image_source.h"
#include "core/io/npy.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

std::string Cli() { return testing::BinaryPath("synthlens"); }

std::string MakePackage(const std::string& dir) {
  torch::jit::Module m("Enc");
  m.register_parameter("w", torch::randn({8 * 8, 6}), false);
  m.define("def forward(self, x):\n  return torch.flatten(x, 1) @ self.w\n");
  fs::create_directories(dir);
  m.save(dir + "/encoder.pt");
  nlohmann::json manifest = {{"format", "synthlens-model-package"},
                             {"format_version", 1},
                             {"kind", "encoder"},
                             {"name", "tiny"},
                             {"files", {{"encoder", "encoder.pt"}}},
                             {"input", {{"resolution", 8}, {"channels", 1}}},
                             {"encoder", {{"output_dim", 6}}}};
  testing::WriteFile(dir + "/model.json", manifest.dump());
  return dir;
}

void MakeImages(const std::string& root, int n) {
  fs::create_directories(root + "/c0");
  fs::create_directories(root + "/c1");
  for (int i = 0; i < n; ++i) {
    cv::Mat img(10, 12, CV_8UC3, cv::Scalar(20 * i, 100, 250 - 20 * i));
    cv::imwrite(root + "/c" + std::to_string(i % 2) + "/i" + std::to_string(i) + ".png", img);
  }
}

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(EmbedCommandTest, WritesNpyIdsAndMetaMatchingTheLibrary) {
  testing::TempDir dir;
  const std::string pkg = MakePackage(dir.Join("pkg"));
  MakeImages(dir.Join("src"), 5);
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " embed --input " + dir.Join("src") + " --encoder " + pkg +
                                    " --out " + dir.Join("o/emb.npy") + " --batch 2",
                                &out, &err),
            0)
      << err;
  std::vector<int64_t> shape;
  auto matrix = ReadNpy(dir.Join("o/emb.npy"), &shape);
  ASSERT_TRUE(matrix.ok()) << matrix.error();
  EXPECT_EQ(shape, (std::vector<int64_t>{5, 6}));
  const auto ids = Lines(dir.Join("o/emb.ids.txt"));
  ASSERT_EQ(ids.size(), 5u);
  EXPECT_EQ(ids[0], "c0/i0.png\t0");
  const auto meta = nlohmann::json::parse(*ReadFileBytes(dir.Join("o/emb.meta.json")));
  EXPECT_EQ(meta["count"], 5);
  EXPECT_EQ(meta["encoder"]["name"], "tiny");
  EXPECT_EQ(meta["encoder"]["hash"].get<std::string>().size(), 64u);
  EXPECT_NE(meta["encoder"]["preprocessing_text"].get<std::string>().find("ITU-R 601"),
            std::string::npos);
  // The canonical preprocessing: Pillow's bilinear to the package's 8x8, grey.
  const auto& pre = meta["encoder"]["preprocessing"];
  EXPECT_EQ(pre["resize"]["definition"], "pillow");
  EXPECT_EQ(pre["resize"]["filter"], "bilinear");
  EXPECT_EQ(pre["size"], nlohmann::json({8, 8}));
  EXPECT_EQ(pre["channels"], 1);
  EXPECT_EQ(meta["from_cache"], false);
  EXPECT_TRUE(meta["project"].is_null());
  EXPECT_GE(meta["seconds"].get<double>(), 0.0);
  // Same numbers as the library gives.
  auto source = OpenImageSource(dir.Join("src"));
  auto encoder = Encoder::Open(pkg, Device{});
  ASSERT_TRUE(source.ok() && encoder.ok());
  auto set = EmbedSource(**source, **encoder, nullptr, nullptr);
  ASSERT_TRUE(set.ok());
  EXPECT_LT(cv::norm(set->matrix, *matrix, cv::NORM_INF), 1e-5);
}

TEST(EmbedCommandTest, PixelsEncoderLimitAndUnreadableInputs) {
  testing::TempDir dir;
  MakeImages(dir.Join("src"), 4);
  testing::WriteFile(dir.Join("src/c1/broken.png"), "not an image");
  std::string out, err;
  const std::string base = Cli() + " embed --input " + dir.Join("src") + " --encoder pixels:8 --out ";
  ASSERT_EQ(testing::RunCommand(base + dir.Join("a.npy"), &out, &err), 0) << err;
  EXPECT_NE(err.find("broken.png"), std::string::npos) << err;
  EXPECT_NE(err.find("1 unreadable"), std::string::npos) << err;
  std::vector<int64_t> shape;
  ASSERT_TRUE(ReadNpy(dir.Join("a.npy"), &shape).ok());
  EXPECT_EQ(shape, (std::vector<int64_t>{4, 64}));
  EXPECT_EQ(testing::RunCommand(base + dir.Join("s.npy") + " --strict", &out, &err), 1);
  EXPECT_TRUE(fs::exists(dir.Join("s.npy")));  // nothing written is lost
  ASSERT_EQ(testing::RunCommand(base + dir.Join("l.npy") + " --limit 2", &out, &err), 0) << err;
  EXPECT_EQ(Lines(dir.Join("l.ids.txt")).size(), 2u);
}

// --project: the second run reads the cache (the encoder does not run) and writes the same bytes.
TEST(EmbedCommandTest, ProjectCacheGivesIdenticalBytesWithoutRecomputing) {
  testing::TempDir dir;
  const std::string pkg = MakePackage(dir.Join("pkg"));
  MakeImages(dir.Join("src"), 7);
  testing::WriteFile(dir.Join("src/c1/broken.png"), "not an image");
  const std::string base = Cli() + " embed --input " + dir.Join("src") + " --encoder " + pkg +
                           " --batch 3 --project " + dir.Join("p.slproj") + " --out ";
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(base + dir.Join("a/emb.npy"), &out, &err), 0) << err;
  EXPECT_NE(err.find("cached in the project"), std::string::npos) << err;
  EXPECT_EQ(err.find("from the project cache"), std::string::npos) << err;
  EXPECT_NE(err.find("broken.png"), std::string::npos) << err;
  const auto first_meta = nlohmann::json::parse(*ReadFileBytes(dir.Join("a/emb.meta.json")));
  EXPECT_EQ(first_meta["from_cache"], false);
  EXPECT_EQ(first_meta["project"], dir.Join("p.slproj"));

  ASSERT_EQ(testing::RunCommand(base + dir.Join("b/emb.npy"), &out, &err), 0) << err;
  EXPECT_NE(err.find("from the project cache"), std::string::npos) << err;
  EXPECT_NE(err.find("broken.png"), std::string::npos) << "skipped inputs are reported again";
  EXPECT_NE(err.find("7 embeddings"), std::string::npos) << err;
  EXPECT_EQ(*ReadFileBytes(dir.Join("a/emb.npy")), *ReadFileBytes(dir.Join("b/emb.npy")));
  EXPECT_EQ(*ReadFileBytes(dir.Join("a/emb.ids.txt")), *ReadFileBytes(dir.Join("b/emb.ids.txt")));
  const auto meta = nlohmann::json::parse(*ReadFileBytes(dir.Join("b/emb.meta.json")));
  EXPECT_EQ(meta["from_cache"], true);
  EXPECT_EQ(meta["skipped"], 1);
  EXPECT_EQ(meta["encoder"]["preprocessing"], first_meta["encoder"]["preprocessing"]);
  EXPECT_EQ(meta["embedding_seconds"], first_meta["embedding_seconds"]);

  // Changing the weights (the package hash) misses the cache.
  MakePackage(dir.Join("pkg"));
  ASSERT_EQ(testing::RunCommand(base + dir.Join("c/emb.npy"), &out, &err), 0) << err;
  EXPECT_EQ(err.find("from the project cache"), std::string::npos) << err;
  EXPECT_NE(*ReadFileBytes(dir.Join("a/emb.npy")), *ReadFileBytes(dir.Join("c/emb.npy")));

  // A project path that cannot be a project fails cleanly, naming it.
  testing::WriteFile(dir.Join("notes.txt"), "not a project");
  EXPECT_EQ(testing::RunCommand(Cli() + " embed --input " + dir.Join("src") +
                                    " --encoder pixels --project " + dir.Join("notes.txt") +
                                    " --out " + dir.Join("d.npy"),
                                &out, &err),
            1);
  EXPECT_NE(err.find(dir.Join("notes.txt")), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir.Join("d.npy")));
}

TEST(EmbedCommandTest, UsageAndFailureExitCodes) {
  testing::TempDir dir;
  MakeImages(dir.Join("src"), 2);
  std::string out, err;
  EXPECT_EQ(testing::RunCommand(Cli() + " embed --input " + dir.Join("src"), &out, &err), 2);
  EXPECT_NE(err.find("--out"), std::string::npos) << err;
  const std::string base =
      Cli() + " embed --input " + dir.Join("src") + " --out " + dir.Join("e.npy") + " ";
  EXPECT_EQ(testing::RunCommand(base + "--encoder pixels --batch 0", &out, &err), 2);
  EXPECT_NE(err.find("--batch"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(base + "--encoder pixels --device tpu", &out, &err), 2);
  EXPECT_NE(err.find("--device"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(base + "--encoder pixels --device cuda:77", &out, &err), 1);
  EXPECT_NE(err.find("cuda:77 is not available"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(base + "--encoder " + dir.Join("nope"), &out, &err), 1);
  EXPECT_NE(err.find(dir.Join("nope")), std::string::npos) << err;
  testing::WriteFile(dir.Join("junk/model.json"), "{");
  EXPECT_EQ(testing::RunCommand(base + "--encoder " + dir.Join("junk"), &out, &err), 1);
  EXPECT_NE(err.find("malformed JSON"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " embed --encoder pixels --out " + dir.Join("e.npy") +
                                    " --input " + dir.Join("missing"),
                                &out, &err),
            1);
  EXPECT_NE(err.find(dir.Join("missing")), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " embed --help", &out, &err), 0);
  EXPECT_NE(out.find("--encoder"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir.Join("e.npy")));
}

}  // namespace
}  // namespace synthlens
