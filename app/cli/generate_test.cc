// End-to-end tests of `synthlens generate` and `synthlens bench generate` with a diffusion
// package the test writes itself (an analytic denoiser; no trained model needed).
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/infer/generator_test_util.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using namespace generator_test;  // NOLINT

std::vector<nlohmann::json> Manifest(const std::string& dir) {
  std::ifstream in(dir + "/manifest.jsonl");
  std::vector<nlohmann::json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

class GenerateCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    package_ = MakePackages(dir_.Join("pk"), FullConditioning());
    for (int i = 0; i < 4; ++i) {
      const std::string path = dir_.Join("src/c" + std::to_string(i % 2) + "/i" +
                                         std::to_string(i) + ".png");
      std::filesystem::create_directories(std::filesystem::path(path).parent_path());
      cv::imwrite(path, GreySource(i + 3));
    }
  }
  std::string Base() const {
    return testing::BinaryPath("synthlens") + " generate --input " + dir_.Join("src") +
           " --model " + package_ + " --views 3 --steps 5 --seed 2 ";
  }
  testing::TempDir dir_;
  std::string package_;
};

TEST_F(GenerateCliTest, WritesDeterministicViewsWithAManifest) {
  std::string out, err;
  for (const char* mode : {"img2img", "instance", "multipositive", "mixed"}) {
    const std::string a = dir_.Join(std::string("a-") + mode);
    const std::string b = dir_.Join(std::string("b-") + mode);
    ASSERT_EQ(testing::RunCommand(Base() + "--mode " + mode + " --out " + a + " --threads 1", &out,
                                  &err),
              0)
        << mode << ": " << err;
    ASSERT_EQ(testing::RunCommand(Base() + "--mode " + mode + " --batch 5 --out " + b +
                                      " --threads 2",
                                  &out, &err),
              0)
        << err;
    const auto la = Manifest(a), lb = Manifest(b);
    ASSERT_EQ(la.size(), 12u) << mode;
    for (size_t i = 0; i < la.size(); ++i) {
      EXPECT_EQ(la[i]["file"], lb[i]["file"]);
      EXPECT_EQ(*ReadFileBytes(a + "/" + la[i]["file"].get<std::string>()),
                *ReadFileBytes(b + "/" + lb[i]["file"].get<std::string>()))
          << mode << " " << la[i]["file"];
      if (std::string(mode) != "mixed") {
        EXPECT_EQ(la[i]["kind"], "generative");
        EXPECT_EQ(la[i]["params"]["mode"], mode);
        EXPECT_EQ(la[i]["model"].get<std::string>().size(), 64u);
      }
    }
  }
}

TEST_F(GenerateCliTest, ClassLabelConditionsEachViewOnItsSourcesFolderClass) {
  std::string out, err;
  const std::string a = dir_.Join("by-label");
  ASSERT_EQ(testing::RunCommand(Base() + "--mode img2img --class label --out " + a, &out, &err), 0)
      << err;
  const auto lines = Manifest(a);
  ASSERT_EQ(lines.size(), 12u);
  for (const auto& l : lines) {
    // Sources live in folders c0/ and c1/: ImageFolder labels 0 and 1.
    const bool c1 = l["source"].get<std::string>().find("c1/") != std::string::npos;
    EXPECT_EQ(l["params"]["class"], c1 ? 1 : 0) << l.dump();
  }
  EXPECT_EQ(testing::RunCommand(Base() + "--class dog --out " + dir_.Join("o"), &out, &err), 2);
  EXPECT_NE(err.find("'label'"), std::string::npos) << err;
}

// The wrong domain is said, not turned into grey noise or another dataset's classes: a colour
// photo in a folder class "cls" given to the bundled 28x28 grey Fashion-MNIST model.
TEST_F(GenerateCliTest, ColourPhotosAndForeignClassesAreSaidOut) {
  cv::Mat photo(480, 640, CV_8UC3);
  for (int y = 0; y < photo.rows; ++y)
    for (int x = 0; x < photo.cols; ++x) photo.at<cv::Vec3b>(y, x) = cv::Vec3b(x * 255 / 640, 120, 255 - y * 255 / 480);
  std::filesystem::create_directories(dir_.Join("photos/cls"));
  cv::imwrite(dir_.Join("photos/cls/retina.png"), photo);
  const std::string base = testing::BinaryPath("synthlens") + " generate --input " + dir_.Join("photos") +
                           " --model builtin --views 1 --steps 3 ";
  std::string out, err;
  // Multi-positive would map class "cls" to the model's class 0 (T-shirt/top): refused.
  EXPECT_EQ(testing::RunCommand(base + "--mode multipositive --out " + dir_.Join("mp"), &out, &err), 1);
  EXPECT_NE(err.find("none of the source's classes (cls) is a class of model 'fmnist-diffusion' (T-shirt/top"),
            std::string::npos) << err;
  EXPECT_FALSE(std::filesystem::exists(dir_.Join("mp")));  // nothing written
  // img2img runs, and says what it does to the photo.
  ASSERT_EQ(testing::RunCommand(base + "--mode img2img --out " + dir_.Join("i2i"), &out, &err), 0) << err;
  EXPECT_NE(err.find("colour images: model 'fmnist-diffusion' works in grey"), std::string::npos) << err;
  EXPECT_NE(err.find("640x480 images are shrunk to 28x28"), std::string::npos) << err;
}

TEST_F(GenerateCliTest, UsageAndFailureExitCodes) {
  std::string out, err;
  EXPECT_EQ(testing::RunCommand(Base() + "--mode dream --out " + dir_.Join("o"), &out, &err), 2);
  EXPECT_NE(err.find("--mode"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Base() + "--strength 1.5 --out " + dir_.Join("o"), &out, &err), 2);
  EXPECT_NE(err.find("strength"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(Base() + "--device cuda:9 --out " + dir_.Join("o"), &out, &err),
            1);
  EXPECT_NE(err.find("cuda:9"), std::string::npos) << err;
  EXPECT_EQ(testing::RunCommand(testing::BinaryPath("synthlens") + " generate --input " +
                                    dir_.Join("src") + " --model " + dir_.Join("nope") +
                                    " --out " + dir_.Join("o"),
                                &out, &err),
            1);
  EXPECT_NE(err.find("nope"), std::string::npos) << err;
}

TEST_F(GenerateCliTest, BenchGeneratePrintsJson) {
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(testing::BinaryPath("synthlens") + " bench generate --model " +
                                    package_ + " --views 4 --steps 5 --repeats 2 --json",
                                &out, &err),
            0)
      << err;
  const auto result = nlohmann::json::parse(out);
  EXPECT_GT(result["views_per_s"].get<double>(), 0.0);
  EXPECT_EQ(result["views"], 4);
}

}  // namespace
}  // namespace synthlens
