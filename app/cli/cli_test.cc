// End-to-end tests of the real `synthlens` binary.
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

std::string Cli() { return testing::BinaryPath("synthlens"); }

void MakeImages(const std::string& root, int n) {
  for (int i = 0; i < n; ++i) {
    cv::Mat img(30, 36, CV_8UC3, cv::Scalar(10 * i, 200 - 10 * i, 90));
    cv::circle(img, {18, 15}, 8, cv::Scalar(250, 250, 250), -1);
    cv::imwrite(root + "/c" + std::to_string(i % 2) + "/i" + std::to_string(i) + ".png",
                img);
  }
}

std::vector<nlohmann::json> Manifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(CliTest, InfoJsonReportsDevicesAndThreads) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " --threads 2 info --json", &out, &err), 0) << err;
  const auto info = nlohmann::json::parse(out);
  EXPECT_EQ(info["devices"][0], "cpu");
  EXPECT_EQ(info["threads"], 2);
  EXPECT_EQ(info["opencv"]["threads"], 2);
  EXPECT_EQ(info["torch"]["intra_op_threads"], 2);
  EXPECT_FALSE(info["torch"]["version"].get<std::string>().empty());
  ASSERT_EQ(testing::RunCommand(Cli() + " info", &out, &err), 0);
  EXPECT_NE(out.find("devices:"), std::string::npos);
}

TEST(CliTest, BadUsageExitsTwoNamingTheFlag) {
  std::string out, err;
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --out /tmp/x", &out, &err), 2);
  EXPECT_NE(err.find("--input"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --input a --out b --views nope", &out, &err), 2);
  EXPECT_NE(err.find("--views"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --input a --out b --views 0", &out, &err), 2);
  EXPECT_NE(err.find("--views"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Cli() + " no-such-command", &out, &err), 2);
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --help", &out, &err), 0);
  EXPECT_NE(out.find("--recipe"), std::string::npos);
}

TEST(CliTest, AugmentIsDeterministicAndWritesAManifest) {
  testing::TempDir dir;
  fs::create_directories(dir.Join("src/c0"));
  fs::create_directories(dir.Join("src/c1"));
  MakeImages(dir.Join("src"), 6);
  const std::string base = Cli() + " augment --input " + dir.Join("src") +
                           " --recipe byol --views 4 --seed 11 --size 24 --out ";
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(base + dir.Join("a") + " --threads 1", &out, &err), 0) << err;
  ASSERT_EQ(testing::RunCommand(base + dir.Join("b") + " --threads 2", &out, &err), 0) << err;
  const auto a = Manifest(dir.Join("a"));
  const auto b = Manifest(dir.Join("b"));
  ASSERT_EQ(a.size(), 24u);
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i], b[i]);
    const std::string file = a[i]["file"];
    EXPECT_EQ(*ReadFileBytes(dir.Join("a/") + file), *ReadFileBytes(dir.Join("b/") + file));
    EXPECT_EQ(a[i]["kind"], "classic");
    EXPECT_EQ(a[i]["recipe"], "byol");
  }
}

TEST(CliTest, UnreadableInputsAreSkippedAndStrictFails) {
  testing::TempDir dir;
  fs::create_directories(dir.Join("src/c0"));
  fs::create_directories(dir.Join("src/c1"));
  MakeImages(dir.Join("src"), 4);
  testing::WriteFile(dir.Join("src/c0/empty.png"), "");
  testing::WriteFile(dir.Join("src/c1/text.jpg"), "this is not an image");
  std::string out, err;
  const std::string base = Cli() + " augment --input " + dir.Join("src") + " --views 2 --out ";
  EXPECT_EQ(testing::RunCommand(base + dir.Join("lenient"), &out, &err), 0) << err;
  EXPECT_NE(err.find("empty.png"), std::string::npos) << err;
  EXPECT_NE(err.find("text.jpg"), std::string::npos) << err;
  EXPECT_NE(err.find("2 unreadable"), std::string::npos) << err;
  EXPECT_EQ(Manifest(dir.Join("lenient")).size(), 8u);
  // --strict: same output written (nothing lost), but the exit status says something was skipped.
  EXPECT_EQ(testing::RunCommand(base + dir.Join("strict") + " --strict", &out, &err), 1);
  EXPECT_EQ(Manifest(dir.Join("strict")).size(), 8u);
}

TEST(CliTest, MissingInputFailsWithExitOne) {
  testing::TempDir dir;
  std::string out, err;
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --input " + dir.Join("nope") + " --out " +
                                    dir.Join("o"),
                                &out, &err),
            1);
  EXPECT_NE(err.find(dir.Join("nope")), std::string::npos) << err;
}

TEST(CliTest, AugmentFashionMnistWithLimit) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  testing::TempDir dir;
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " augment --input fashion-mnist:test --recipe simclr "
                                        "--views 2 --seed 1 --limit 5 --out " + dir.Join("o"),
                                &out, &err),
            0)
      << err;
  const auto lines = Manifest(dir.Join("o"));
  ASSERT_EQ(lines.size(), 10u);
  EXPECT_EQ(lines[0]["source"], "test:0");
  EXPECT_EQ(lines[0]["label"], 9);
  cv::Mat view = cv::imread(dir.Join("o/") + lines[0]["file"].get<std::string>());
  EXPECT_EQ(view.cols, 28);
}

TEST(CliTest, BenchAugmentPrintsJson) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " bench augment --recipe simclr --size 64 --threads 1 "
                                        "--views 40 --json",
                                &out, &err),
            0)
      << err;
  const auto result = nlohmann::json::parse(out);
  EXPECT_GT(result["views_per_s"].get<double>(), 0.0);
}

}  // namespace
}  // namespace synthlens

namespace synthlens {
namespace {

// A run killed with SIGKILL mid-way keeps a valid manifest: every line parses and names a file
// that exists and decodes. Re-running the same command into the same folder then completes.
TEST(CliTest, KilledAugmentRunLosesNothingWritten) {
  if (!fs::exists("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz")) {
    GTEST_SKIP() << "dataset-fashion-mnist not installed";
  }
  testing::TempDir dir;
  const std::string out = dir.Join("o");
  const std::string command = Cli() + " augment --input fashion-mnist:train --views 2 --seed 5 " +
                              "--out " + out;
  // Start in the background, kill after the manifest has grown past a few batches.
  std::string pid_text;
  ASSERT_EQ(testing::RunCommand("sh -c '" + command + " >/dev/null 2>&1 & echo $!'", &pid_text),
            0);
  const int pid = std::stoi(pid_text);
  for (int i = 0; i < 400; ++i) {
    std::error_code ec;
    if (fs::file_size(out + "/manifest.jsonl", ec) > 20000 && !ec) break;
    ::usleep(10000);
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ::usleep(200000);
  std::ifstream in(out + "/manifest.jsonl");
  size_t lines = 0;
  for (std::string line; std::getline(in, line);) {
    const auto entry = nlohmann::json::parse(line);  // throws on a torn line
    const cv::Mat view = cv::imread(out + "/" + entry["file"].get<std::string>());
    ASSERT_FALSE(view.empty()) << entry["file"];
    ++lines;
  }
  EXPECT_GT(lines, 0u);
  EXPECT_LT(lines, 120000u);
  EXPECT_EQ(lines % 2, 0u);  // whole images: both views of each
}

}  // namespace
}  // namespace synthlens
