#include "core/jobs/generate_job.h"

#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>

#include "core/io/image_source.h"
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/infer/generator_test_util.h"
#include "core/store/project.h"
#include "core/util/file_util.h"
#include "core/util/parallel.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using namespace generator_test;  // NOLINT

std::vector<nlohmann::json> ReadManifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

class GenerateJobTest : public ::testing::Test {
 protected:
  void SetUp() override {
    package_ = MakePackages(dir_.Join("pk"), FullConditioning());
    // Two labelled classes of grey 8x8 images, plus an unreadable file.
    for (int i = 0; i < 6; ++i) {
      const std::string path =
          dir_.Join("src/c" + std::to_string(i % 2) + "/img" + std::to_string(i) + ".png");
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      cv::imwrite(path, GreySource(i + 1));
    }
    testing::WriteFile(dir_.Join("src/c0/broken.png"), "not a png");
    options_.input = dir_.Join("src");
    options_.model = package_;
    options_.generate.views = 3;
    options_.generate.steps = 6;
    options_.generate.seed = 5;
    options_.generate.batch = 4;
  }
  testing::TempDir dir_;
  std::string package_;
  GenerateJobOptions options_;
};

TEST_F(GenerateJobTest, WritesGenerativeViewsWithProvenance) {
  options_.out_dir = dir_.Join("out");
  options_.project_path = dir_.Join("p.synthlens");
  std::vector<SourceIssue> issues;
  auto summary = RunGenerateJob(options_, nullptr,
                                [&](const SourceIssue& issue) { issues.push_back(issue); });
  ASSERT_TRUE(summary.ok()) << summary.error();
  EXPECT_EQ(summary->images, 6);
  EXPECT_EQ(summary->views_written, 18);
  EXPECT_EQ(summary->skipped, 1);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].file.find("broken.png"), std::string::npos);
  const auto lines = ReadManifest(options_.out_dir);
  ASSERT_EQ(lines.size(), 18u);
  auto generator = Generator::Open(package_, Device{});
  ASSERT_TRUE(generator.ok());
  for (const auto& line : lines) {
    EXPECT_EQ(line["kind"], "generative");
    EXPECT_EQ(line["model"], (*generator)->model_hash());
    EXPECT_EQ(line["params"]["mode"], "img2img");
    EXPECT_EQ(line["params"]["view"], line["view"]);
    const cv::Mat img = cv::imread(options_.out_dir + "/" + line["file"].get<std::string>());
    ASSERT_FALSE(img.empty());
    EXPECT_EQ(img.cols, kRes);
    // The source's class, by number and by name.
    const std::string source = line["source"];
    EXPECT_EQ(line["label"], source[1] - '0');
    EXPECT_EQ(line["class_name"], source.substr(0, 2));
  }
  // Read back as an image source, the views carry their source's class (by name).
  auto views_source = OpenImageSource(options_.out_dir);
  ASSERT_TRUE(views_source.ok()) << views_source.error();
  ASSERT_EQ((*views_source)->size(), 18);
  EXPECT_EQ((*views_source)->class_names(), (std::vector<std::string>{"c0", "c1"}));
  for (int64_t i = 0; i < (*views_source)->size(); ++i) {
    const ImageRecord& r = (*views_source)->record(i);
    EXPECT_EQ(r.label, r.id[1] - '0') << r.id;  // files are named after their source: c1_img1_v0.png
  }
  auto project = OpenSqliteProject(options_.project_path);
  EXPECT_EQ(project->CountViews(), 18);
  const auto set = project->FindImageSet("generate:img2img:analytic-diffusion:" + options_.input);
  ASSERT_TRUE(set.has_value());
  const auto views = project->Views(set->id, "c1/img1.png");
  ASSERT_EQ(views.size(), 3u);
  EXPECT_EQ(views[0].kind, ViewKind::kGenerative);
  EXPECT_EQ(views[0].model, (*generator)->model_hash());
}

TEST_F(GenerateJobTest, SameBytesWhateverTheThreadsAndBatch) {
  std::vector<std::string> runs;
  for (int threads : {1, 2}) {
    SetNumThreads(threads);
    options_.generate.batch = threads == 1 ? 1 : 7;
    options_.out_dir = dir_.Join("out" + std::to_string(threads));
    ASSERT_TRUE(RunGenerateJob(options_, nullptr, nullptr).ok());
    std::string all;
    for (const auto& line : ReadManifest(options_.out_dir)) {
      all += line["file"].get<std::string>();
      all += *ReadFileBytes(options_.out_dir + "/" + line["file"].get<std::string>());
    }
    runs.push_back(all);
  }
  SetNumThreads(0);
  EXPECT_EQ(runs[0], runs[1]);
}

TEST_F(GenerateJobTest, MixedPipelineReplacesViewsWithProbabilityP) {
  options_.generate.mode = "mixed";
  options_.generate.views = 8;
  options_.recipe = "simclr";
  for (double p : {0.0, 0.5, 1.0}) {
    options_.mix_probability = p;
    options_.out_dir = dir_.Join("mixed" + std::to_string(p));
    auto summary = RunGenerateJob(options_, nullptr, nullptr);
    ASSERT_TRUE(summary.ok()) << summary.error();
    int generative = 0, classic = 0;
    for (const auto& line : ReadManifest(options_.out_dir)) {
      if (line["kind"] == "generative") {
        ++generative;
        // Generative views get the classic recipe without its RandomResizedCrop.
        ASSERT_TRUE(line["params"].contains("classic"));
        for (const auto& op : line["params"]["classic"]["ops"]) {
          EXPECT_NE(op["op"], "random_resized_crop");
        }
        EXPECT_EQ(line["params"]["generative"]["mode"], "img2img");
      } else {
        ++classic;
        EXPECT_EQ(line["params"]["ops"][0]["op"], "random_resized_crop");
      }
    }
    EXPECT_EQ(generative + classic, 48);
    if (p == 0.0) {
      EXPECT_EQ(generative, 0);
    }
    if (p == 1.0) {
      EXPECT_EQ(classic, 0);
    }
    if (p == 0.5) {
      EXPECT_GT(generative, 12);
      EXPECT_GT(classic, 12);
    }
  }
}

TEST_F(GenerateJobTest, ClearFailures) {
  options_.out_dir = dir_.Join("o");
  options_.model = dir_.Join("no-such-model");
  auto missing = RunGenerateJob(options_, nullptr, nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("no-such-model"), std::string::npos);
  options_.model = package_;
  options_.generate.mode = "dream";
  auto bad_mode = RunGenerateJob(options_, nullptr, nullptr);
  ASSERT_FALSE(bad_mode.ok());
  EXPECT_NE(bad_mode.error().find("--mode"), std::string::npos);
  options_.generate.mode = "img2img";
  options_.device = "cuda:7";
  auto bad_device = RunGenerateJob(options_, nullptr, nullptr);
  ASSERT_FALSE(bad_device.ok());
  EXPECT_NE(bad_device.error().find("cuda:7"), std::string::npos);
}

}  // namespace
}  // namespace synthlens
