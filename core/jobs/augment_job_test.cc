#include "core/jobs/augment_job.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/store/project.h"
#include "core/util/file_util.h"
#include "core/util/parallel.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

// A folder source: two classes with three gradient images each, plus one corrupt file.
void MakeFolder(const std::string& root) {
  for (int c = 0; c < 2; ++c) {
    for (int i = 0; i < 3; ++i) {
      cv::Mat img(40 + i, 48, CV_8UC3);
      for (int y = 0; y < img.rows; ++y)
        for (int x = 0; x < img.cols; ++x)
          img.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 5, y * 6, (c * 100 + i * 30) % 256);
      std::vector<uchar> png;
      cv::imencode(".png", img, png);
      testing::WriteFile(root + "/class" + std::to_string(c) + "/img" + std::to_string(i) + ".png",
                         std::string(png.begin(), png.end()));
    }
  }
  testing::WriteFile(root + "/class1/broken.png", "\x89PNG\r\n\x1a\n garbage");
}

std::vector<nlohmann::json> ReadManifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.jsonl");
  std::vector<nlohmann::json> lines;
  std::string line;
  while (std::getline(in, line)) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

TEST(AugmentJobTest, ViewFileNames) {
  EXPECT_EQ(ViewFileName("test:17", 0), "test_17_v0.png");
  EXPECT_EQ(ViewFileName("cat/a.jpg", 3), "cat/a_jpg_v3.png");
  EXPECT_EQ(ViewFileName("a.b/c.png", 1), "a.b/c_png_v1.png");
  EXPECT_EQ(ViewFileName("../x.png", 0), "_/x_png_v0.png");
}

TEST(AugmentJobTest, WritesViewsManifestAndSkipsBadInput) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  AugmentJobOptions options;
  options.input = dir.Join("src");
  options.recipe = "simclr";
  options.views = 3;
  options.seed = 7;
  options.size = 32;
  options.out_dir = dir.Join("out");
  options.project_path = dir.Join("p.synthlens");
  std::vector<SourceIssue> issues;
  std::vector<double> fractions;
  auto summary = RunAugmentJob(
      options, [&](double f) { fractions.push_back(f); return true; },
      [&](const SourceIssue& issue) { issues.push_back(issue); });
  ASSERT_TRUE(summary.ok()) << summary.error();
  EXPECT_EQ(summary->images, 6);
  EXPECT_EQ(summary->views_written, 18);
  EXPECT_EQ(summary->skipped, 1);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].file.find("broken.png"), std::string::npos);
  EXPECT_FALSE(issues[0].reason.empty());
  ASSERT_FALSE(fractions.empty());
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);

  const auto manifest = ReadManifest(options.out_dir);
  ASSERT_EQ(manifest.size(), 18u);
  for (const auto& line : manifest) {
    for (const char* key : {"file", "source", "view", "kind", "recipe", "seed", "params"}) {
      EXPECT_TRUE(line.contains(key)) << key;
    }
    EXPECT_EQ(line["kind"], "classic");
    EXPECT_EQ(line["recipe"], "simclr");
    EXPECT_EQ(line["seed"], 7);
    EXPECT_TRUE(line["params"].is_object());
    const std::string file = options.out_dir + "/" + line["file"].get<std::string>();
    cv::Mat img = cv::imread(file);
    ASSERT_FALSE(img.empty()) << file;
    EXPECT_EQ(img.cols, 32);
    EXPECT_EQ(img.rows, 32);
  }
  EXPECT_EQ(manifest[0]["source"], "class0/img0.png");
  EXPECT_EQ(manifest[0]["label"], 0);
  EXPECT_EQ(manifest[17]["label"], 1);

  auto project = OpenSqliteProject(options.project_path);
  EXPECT_EQ(project->CountViews(), 18);
  auto set = project->FindImageSet("augment:simclr:" + options.input);
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->role, SetRole::kAugmented);
  auto views = project->Views(set->id, "class0/img1.png");
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0].seed, 7u);
  EXPECT_EQ(views[0].kind, ViewKind::kClassic);
}

TEST(AugmentJobTest, SameBytesWhateverTheThreadCount) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  AugmentJobOptions options;
  options.input = dir.Join("src");
  options.views = 2;
  options.seed = 3;
  options.batch_size = 2;
  std::vector<std::string> runs;
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    options.out_dir = dir.Join("out" + std::to_string(threads));
    ASSERT_TRUE(RunAugmentJob(options, nullptr, nullptr).ok());
    std::string all;
    for (const auto& line : ReadManifest(options.out_dir)) {
      all += line.dump();
      all += *ReadFileBytes(options.out_dir + "/" + line["file"].get<std::string>());
    }
    runs.push_back(all);
  }
  SetNumThreads(0);
  EXPECT_EQ(runs[0], runs[1]);
  // A different seed changes the views.
  options.seed = 4;
  options.out_dir = dir.Join("out-seed4");
  ASSERT_TRUE(RunAugmentJob(options, nullptr, nullptr).ok());
  const auto a = ReadManifest(dir.Join("out1"));
  const auto b = ReadManifest(options.out_dir);
  EXPECT_NE(*ReadFileBytes(dir.Join("out1/") + a[0]["file"].get<std::string>()),
            *ReadFileBytes(options.out_dir + "/" + b[0]["file"].get<std::string>()));
}

TEST(AugmentJobTest, CancelStopsAfterABatchAndKeepsWhatWasWritten) {
  testing::TempDir dir;
  MakeFolder(dir.Join("src"));
  AugmentJobOptions options;
  options.input = dir.Join("src");
  options.views = 1;
  options.batch_size = 2;
  options.out_dir = dir.Join("out");
  auto summary = RunAugmentJob(options, [](double) { return false; }, nullptr);
  ASSERT_TRUE(summary.ok());
  EXPECT_TRUE(summary->cancelled);
  EXPECT_EQ(summary->images, 2);
  EXPECT_EQ(ReadManifest(options.out_dir).size(), 2u);
}

TEST(AugmentJobTest, FailsClearlyWhenTheJobCannotRun) {
  testing::TempDir dir;
  AugmentJobOptions options;
  options.input = dir.Join("missing");
  options.out_dir = dir.Join("out");
  auto missing = RunAugmentJob(options, nullptr, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("missing"), std::string::npos);

  MakeFolder(dir.Join("src"));
  options.input = dir.Join("src");
  options.recipe = "no-such-recipe";
  auto bad_recipe = RunAugmentJob(options, nullptr, nullptr);
  ASSERT_FALSE(bad_recipe.ok());
  EXPECT_NE(bad_recipe.error().find("no-such-recipe"), std::string::npos);

  options.recipe = "simclr";
  options.views = 0;
  auto bad_views = RunAugmentJob(options, nullptr, nullptr);
  ASSERT_FALSE(bad_views.ok());
  EXPECT_NE(bad_views.error().find("--views"), std::string::npos);
}

}  // namespace
}  // namespace synthlens
