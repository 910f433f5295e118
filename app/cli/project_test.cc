// End-to-end tests of `synthlens project` running the real binary.
#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/projection/projection.h"
#include "core/util/file_util.h"
#include "core/util/random.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

std::string Cli() { return testing::BinaryPath("synthlens"); }

// Three well-separated Gaussian clusters in 10-D.
cv::Mat Clusters(int per_cluster) {
  Rng rng(4);
  cv::Mat x(3 * per_cluster, 10, CV_32F);
  for (int i = 0; i < x.rows; ++i)
    for (int j = 0; j < x.cols; ++j)
      x.at<float>(i, j) = static_cast<float>(15.0 * ((i % 3) == (j % 3)) + rng.Normal());
  return x;
}

std::string Bytes(const std::string& path) { return *ReadFileBytes(path); }

TEST(ProjectCommandTest, EachMethodWritesAProjectionAndItsSettings) {
  testing::TempDir dir;
  const cv::Mat x = Clusters(100);
  ASSERT_EQ(WriteNpy(dir.Join("emb.npy"), x), "");
  for (const std::string method : {"pca", "tsne", "umap"}) {
    const std::string out = dir.Join(method + "/xy.npy");
    std::string stdout_text, err;
    ASSERT_EQ(testing::RunCommand(Cli() + " project --in " + dir.Join("emb.npy") + " --method " +
                                      method + " --seed 5 --iterations 300 --trustworthiness 10 --out " + out,
                                  &stdout_text, &err),
              0)
        << err;
    std::vector<int64_t> shape;
    auto xy = ReadNpy(out, &shape);
    ASSERT_TRUE(xy.ok()) << xy.error();
    EXPECT_EQ(shape, (std::vector<int64_t>{300, 2}));
    EXPECT_EQ(xy->depth(), CV_32F);
    const auto settings = nlohmann::json::parse(stdout_text);
    EXPECT_EQ(settings["method"], method);
    EXPECT_EQ(settings["rows"], 300);
    EXPECT_EQ(settings["seed"], 5);
    EXPECT_EQ(settings["out"], out);
    EXPECT_EQ(settings["trustworthiness_k"], 10);
    // The printed value is the library's on the same rows (all of them: fewer than 5,000).
    EXPECT_NEAR(settings["trustworthiness"].get<double>(), Trustworthiness(x, *xy, 10), 1e-12);
    EXPECT_GE(settings["trustworthiness"].get<double>(), 0.9) << method;
    if (method == "pca") {
      // Same numbers as the library.
      auto lib = ProjectEmbeddings(x, ProjectionOptions{});
      ASSERT_TRUE(lib.ok());
      EXPECT_EQ(cv::norm(lib->points, *xy, cv::NORM_INF), 0.0);
    }
    if (method == "tsne") {
      EXPECT_EQ(settings["iterations"], 300);
    }
    if (method == "umap") {
      EXPECT_EQ(settings["epochs"], 300);
    }
  }
}

TEST(ProjectCommandTest, SameSeedSameBytes) {
  testing::TempDir dir;
  ASSERT_EQ(WriteNpy(dir.Join("emb.npy"), Clusters(60)), "");
  const std::string base = Cli() + " project --in " + dir.Join("emb.npy") +
                           " --method umap --iterations 50 --neighbors 10 --min-dist 0.2 --seed 9 --out ";
  ASSERT_EQ(testing::RunCommand(base + dir.Join("a.npy")), 0);
  ASSERT_EQ(testing::RunCommand(base + dir.Join("b.npy") + " --threads 1"), 0);
  EXPECT_EQ(Bytes(dir.Join("a.npy")), Bytes(dir.Join("b.npy")));
}

TEST(ProjectCommandTest, UsageAndFailureExitCodes) {
  testing::TempDir dir;
  ASSERT_EQ(WriteNpy(dir.Join("emb.npy"), Clusters(5)), "");
  std::string out, err;
  const std::string in = " --in " + dir.Join("emb.npy");
  const std::string xy = " --out " + dir.Join("xy.npy");
  EXPECT_EQ(testing::RunCommand(Cli() + " project" + in + " --method tsne", &out, &err), 2);
  EXPECT_NE(err.find("--out"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " project" + in + xy + " --method mds", &out, &err), 2);
  EXPECT_NE(err.find("--method"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " project" + in + xy + " --method tsne --dims 3", &out, &err), 2);
  EXPECT_NE(err.find("--dims"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " project" + in + xy + " --method tsne --perplexity 0", &out, &err), 2);
  EXPECT_NE(err.find("--perplexity"), std::string::npos) << err;
  // Data problems are failures naming the file.
  EXPECT_EQ(testing::RunCommand(Cli() + " project" + in + xy + " --method tsne", &out, &err), 1);
  EXPECT_NE(err.find(dir.Join("emb.npy") + ": perplexity 30 must be less than the number of rows (15)"),
            std::string::npos)
      << err;
  EXPECT_FALSE(fs::exists(dir.Join("xy.npy")));
  cv::Mat nan = Clusters(5);
  nan.at<float>(4, 1) = std::nanf("");
  ASSERT_EQ(WriteNpy(dir.Join("nan.npy"), nan), "");
  EXPECT_EQ(testing::RunCommand(Cli() + " project --in " + dir.Join("nan.npy") + xy + " --method pca", &out, &err), 1);
  EXPECT_NE(err.find("nan.npy: row 4 is not finite"), std::string::npos) << err;
  testing::WriteFile(dir.Join("junk.npy"), "not numpy");
  EXPECT_EQ(testing::RunCommand(Cli() + " project --in " + dir.Join("junk.npy") + xy + " --method pca", &out, &err), 1);
  EXPECT_NE(err.find("junk.npy"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " project --in " + dir.Join("missing.npy") + xy + " --method pca", &out, &err), 1);
  EXPECT_NE(err.find("missing.npy"), std::string::npos) << err;
}

}  // namespace
}  // namespace synthlens
