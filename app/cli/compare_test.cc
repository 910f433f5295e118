// End-to-end tests of `synthlens compare` on the golden inputs of tests/data/metrics.
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <limits>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

std::string Cli() { return testing::BinaryPath("synthlens"); }
std::string Data(const std::string& name) {
  const char* env = std::getenv("SYNTHLENS_TEST_DATA");
  return std::string(env ? env : "tests/data") + "/metrics/" + name;
}
nlohmann::json Golden() {
  std::ifstream in(Data("golden.json"));
  return nlohmann::json::parse(in);
}

TEST(CompareCommandTest, JsonMatchesTheReferenceValues) {
  const auto g = Golden()["cases"]["fashion_pca32"];
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " compare --real " + Data("fashion_pca32_real.npy") +
                                    " --synthetic " + Data("fashion_pca32_synthetic.npy") +
                                    " --real-labels " + Data("fashion_pca32_real_labels.txt") +
                                    " --synthetic-labels " +
                                    Data("fashion_pca32_synthetic_labels.txt") +
                                    " --kid-subsets 5 --kid-subset-size 100 --seed 3 --json",
                                &out, &err),
            0)
      << err;
  const auto j = nlohmann::json::parse(out);
  EXPECT_NEAR(j["fid"].get<double>(), g["fid"].get<double>(), 1e-3 * g["fid"].get<double>());
  for (const char* k : {"precision", "recall", "density", "coverage", "authpct"}) {
    EXPECT_DOUBLE_EQ(j[k].get<double>(), g[k].get<double>()) << k;
  }
  EXPECT_NEAR(j["vendi_real"].get<double>(), g["vendi_real"].get<double>(), 1e-6 * g["vendi_real"].get<double>());
  EXPECT_GT(j["c2st_accuracy"].get<double>(), 0.3);
  EXPECT_LT(j["c2st_accuracy"].get<double>(), 0.7);  // train vs test of one dataset
  EXPECT_EQ(j["settings"]["kid_subsets"], 5);
  EXPECT_EQ(j["settings"]["seed"], 3);
  EXPECT_EQ(j["per_class"].size(), g["per_class"].size());
  EXPECT_DOUBLE_EQ(j["per_class"]["3"]["recall"].get<double>(),
                   g["per_class"]["3"]["recall"].get<double>());
}

TEST(CompareCommandTest, TableAndNonDefaultKs) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " compare --real " + Data("shifted_real.npy") +
                                    " --synthetic " + Data("shifted_synthetic.npy") +
                                    " --k-pr 4 --k-dc 4 --kid-subsets 3",
                                &out, &err),
            0)
      << err;
  EXPECT_NE(out.find("precision"), std::string::npos) << out;
  EXPECT_NE(out.find("c2st_accuracy"), std::string::npos) << out;
  EXPECT_NE(out.find("real 300 x 16"), std::string::npos) << out;
}

TEST(CompareCommandTest, FailuresNameTheFileAndUsageErrorsExit2) {
  testing::TempDir dir;
  std::string out, err;
  const std::string real = Data("identical_real.npy");
  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + dir.Join("missing.npy") +
                                    " --synthetic " + real, &out, &err), 1);
  EXPECT_NE(err.find("missing.npy"), std::string::npos) << err;

  cv::Mat bad = *ReadNpy(real);
  bad.at<float>(12, 3) = std::numeric_limits<float>::quiet_NaN();
  ASSERT_EQ(WriteNpy(dir.Join("nan.npy"), bad), "");
  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + real + " --synthetic " +
                                    dir.Join("nan.npy"), &out, &err), 1);
  EXPECT_NE(err.find("nan.npy"), std::string::npos) << err;
  EXPECT_NE(err.find("row 12"), std::string::npos) << err;

  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + real + " --synthetic " +
                                    Data("rank_deficient_real.npy"), &out, &err), 1);
  EXPECT_NE(err.find("d=16"), std::string::npos) << err;

  testing::WriteFile(dir.Join("short.txt"), "1\n2\n");
  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + real + " --synthetic " + real +
                                    " --real-labels " + dir.Join("short.txt") +
                                    " --synthetic-labels " + dir.Join("short.txt"), &out, &err), 1);
  EXPECT_NE(err.find("short.txt"), std::string::npos) << err;
  EXPECT_NE(err.find("2 labels for 300 rows"), std::string::npos) << err;

  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + real + " --synthetic " + real +
                                    " --k-pr 0", &out, &err), 2);
  EXPECT_NE(err.find("pr_k"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " compare --real " + real, &out, &err), 2);
}

}  // namespace
}  // namespace synthlens
