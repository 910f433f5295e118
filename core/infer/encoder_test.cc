// Encoder packages made by the test itself: TorchScript modules defined in C++ and saved.
#include "core/infer/encoder.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "tests/test_util.h"

namespace synthlens {
namespace {
namespace fs = std::filesystem;

// A package whose encoder is `flatten(x) @ w` (w: [in_dim, out_dim]) unless `forward` is given.
struct TestPackage {
  std::string dir;
  torch::Tensor w;
};

TestPackage MakePackage(const std::string& dir, int resolution, int channels, int declared_dim,
                        int actual_dim = -1, const std::string& forward = "",
                        const nlohmann::json& input_extra = {}) {
  if (actual_dim < 0) actual_dim = declared_dim;
  const int in_dim = resolution * resolution * channels;
  torch::jit::Module m("Enc");
  torch::Tensor w = torch::randn({in_dim, actual_dim});
  m.register_parameter("w", w, false);
  m.define(forward.empty() ? "def forward(self, x):\n  return torch.flatten(x, 1) @ self.w\n"
                           : forward);
  fs::create_directories(dir);
  m.save(dir + "/encoder.pt");
  nlohmann::json input = {{"resolution", resolution}, {"channels", channels}};
  for (const auto& [k, v] : input_extra.items()) input[k] = v;
  nlohmann::json manifest = {{"format", "synthlens-model-package"},
                             {"format_version", 1},
                             {"kind", "encoder"},
                             {"name", "test"},
                             {"files", {{"encoder", "encoder.pt"}}},
                             {"input", input},
                             {"encoder", {{"output_dim", declared_dim}}}};
  testing::WriteFile(dir + "/model.json", manifest.dump(2));
  return {dir, w};
}

cv::Mat RandomImage(int h, int w, int seed) {
  cv::Mat img(h, w, CV_8UC3);
  cv::theRNG().state = static_cast<uint64_t>(seed) + 1;
  cv::randu(img, 0, 256);
  return img;
}

// flatten(preprocessed image, CHW order) @ w computed without torch's conv path.
cv::Mat ManualEmbedding(const cv::Mat& pre, const torch::Tensor& w) {
  std::vector<cv::Mat> planes;
  cv::split(pre, planes);
  std::vector<float> flat;
  for (const cv::Mat& p : planes) {
    for (int y = 0; y < p.rows; ++y) {
      for (int x = 0; x < p.cols; ++x) flat.push_back(p.at<float>(y, x));
    }
  }
  const auto wa = w.accessor<float, 2>();
  cv::Mat out(1, static_cast<int>(w.size(1)), CV_32F, cv::Scalar(0));
  for (int64_t d = 0; d < w.size(1); ++d) {
    double sum = 0;
    for (size_t i = 0; i < flat.size(); ++i) sum += static_cast<double>(flat[i]) * wa[i][d];
    out.at<float>(0, static_cast<int>(d)) = static_cast<float>(sum);
  }
  return out;
}

void ExpectOpenError(const std::string& package, std::initializer_list<std::string> parts) {
  auto enc = Encoder::Open(package, Device{});
  ASSERT_FALSE(enc.ok()) << "expected an error containing " << *parts.begin();
  for (const std::string& part : parts) {
    EXPECT_NE(enc.error().find(part), std::string::npos) << enc.error();
  }
}

TEST(EncoderTest, ValidPackageEmbedsCorrectValues) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 8, 1, 5, -1, "",
                                      {{"mean", {0.25}}, {"std", {0.5}}, {"value_range", {0, 1}}});
  auto enc = Encoder::Open(pkg.dir, Device{});
  ASSERT_TRUE(enc.ok()) << enc.error();
  EXPECT_EQ((*enc)->dim(), 5);
  EXPECT_EQ((*enc)->device().ToString(), "cpu");
  EXPECT_EQ((*enc)->manifest().hash.size(), 64u);
  EXPECT_NE((*enc)->PreprocessingDescription().find("mean [0.25]"), std::string::npos)
      << (*enc)->PreprocessingDescription();
  std::vector<cv::Mat> images = {RandomImage(8, 8, 1), RandomImage(16, 12, 2), RandomImage(8, 8, 3)};
  auto emb = (*enc)->Embed(images);
  ASSERT_TRUE(emb.ok()) << emb.error();
  ASSERT_EQ(emb->rows, 3);
  ASSERT_EQ(emb->cols, 5);
  ASSERT_EQ(emb->type(), CV_32F);
  for (int i = 0; i < 3; ++i) {
    const cv::Mat expected = ManualEmbedding(PreprocessImage(images[i], (*enc)->manifest().input), pkg.w);
    EXPECT_LT(cv::norm(emb->row(i), expected, cv::NORM_INF), 1e-4) << i;
  }
  auto empty = (*enc)->Embed({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->rows, 0);
}

TEST(EncoderTest, RgbPackageUsesChwOrder) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("rgb"), 4, 3, 7);
  auto enc = Encoder::Open(pkg.dir, Device{});
  ASSERT_TRUE(enc.ok()) << enc.error();
  const cv::Mat img = RandomImage(4, 4, 9);
  auto emb = (*enc)->Embed({img});
  ASSERT_TRUE(emb.ok()) << emb.error();
  const cv::Mat expected = ManualEmbedding(PreprocessImage(img, (*enc)->manifest().input), pkg.w);
  EXPECT_LT(cv::norm(*emb, expected, cv::NORM_INF), 1e-4);
}

TEST(EncoderTest, BatchingGivesTheSameResultAsOneByOne) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 6, 1, 4);
  auto batched = Encoder::Open(pkg.dir, Device{}, 3);
  auto single = Encoder::Open(pkg.dir, Device{}, 1);
  ASSERT_TRUE(batched.ok() && single.ok());
  std::vector<cv::Mat> images;
  for (int i = 0; i < 10; ++i) images.push_back(RandomImage(6, 6, 100 + i));
  auto all = (*batched)->Embed(images);
  ASSERT_TRUE(all.ok()) << all.error();
  for (int i = 0; i < 10; ++i) {
    auto one = (*single)->Embed({images[i]});
    ASSERT_TRUE(one.ok());
    EXPECT_LT(cv::norm(all->row(i), *one, cv::NORM_INF), 1e-5) << i;
  }
}

TEST(EncoderTest, MissingFileAndMalformedJson) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 2);
  fs::remove(pkg.dir + "/encoder.pt");
  ExpectOpenError(pkg.dir, {"encoder.pt", "missing"});
  testing::WriteFile(dir.Join("bad/model.json"), "{\"kind\": \"encoder\",,}");
  ExpectOpenError(dir.Join("bad"), {"bad/model.json", "malformed JSON", "line 1"});
}

TEST(EncoderTest, NotTorchScript) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 2);
  std::string junk;
  for (int i = 0; i < 4096; ++i) junk.push_back(static_cast<char>((i * 7919) % 251));
  testing::WriteFile(pkg.dir + "/encoder.pt", junk);
  ExpectOpenError(pkg.dir, {"encoder.pt: not a TorchScript file ("});
}

TEST(EncoderTest, WrongOutputDim) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 128, 64);
  ExpectOpenError(pkg.dir, {"encoder.pt: forward returned [2, 64], model.json declares output_dim 128"});
}

TEST(EncoderTest, WrongInputRankMakesForwardThrow) {
  testing::TempDir dir;
  // Expects [B, 16] input, gets [B, 1, 4, 4].
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 3, -1,
                                      "def forward(self, x):\n  return x @ self.w\n");
  ExpectOpenError(pkg.dir, {"encoder.pt: forward on a [2, 1, 4, 4] Float input failed"});
}

TEST(EncoderTest, NonTensorOutput) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(
      dir.Join("enc"), 4, 1, 3, -1,
      "def forward(self, x):\n  y = torch.flatten(x, 1) @ self.w\n  return (y, y)\n");
  ExpectOpenError(pkg.dir, {"encoder.pt: forward returned Tuple"});
}

TEST(EncoderTest, NanOutputOnProbe) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 3, -1,
                                      "def forward(self, x):\n  return torch.log(torch.flatten(x, 1) @ self.w * 0.0)\n");
  ExpectOpenError(pkg.dir, {"encoder.pt: forward returned NaN or Inf"});
}

TEST(EncoderTest, DiffusionPackageIsNotAnEncoder) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 3);
  std::ifstream in(pkg.dir + "/model.json");
  auto m = nlohmann::json::parse(in);
  m["kind"] = "diffusion";
  m.erase("encoder");
  m["files"] = {{"denoiser", "encoder.pt"}};
  m["diffusion"] = {{"space", "pixel"},
                    {"schedule", {{"beta_schedule", "linear"}, {"num_train_timesteps", 10}, {"prediction_type", "eps"}}}};
  testing::WriteFile(pkg.dir + "/model.json", m.dump());
  ExpectOpenError(pkg.dir, {"kind is 'diffusion', expected 'encoder'"});
}

TEST(EncoderTest, PixelsEncoder) {
  auto enc = Encoder::Open("pixels", Device{});
  ASSERT_TRUE(enc.ok()) << enc.error();
  EXPECT_EQ((*enc)->dim(), 784);
  const cv::Mat img = RandomImage(28, 28, 5);
  auto emb = (*enc)->Embed({img, img});
  ASSERT_TRUE(emb.ok());
  cv::Mat grey = PreprocessImage(img, (*enc)->manifest().input);
  EXPECT_EQ(cv::norm(emb->row(1), grey.reshape(1, 1), cv::NORM_INF), 0.0);
  auto rgb = Encoder::Open("pixels:8:rgb", Device{});
  ASSERT_TRUE(rgb.ok()) << rgb.error();
  EXPECT_EQ((*rgb)->dim(), 8 * 8 * 3);
  EXPECT_EQ((*rgb)->Embed({img})->cols, 192);
  EXPECT_FALSE(Encoder::Open("pixels:0", Device{}).ok());
  EXPECT_FALSE(Encoder::Open("pixels:8:cmyk", Device{}).ok());
}

TEST(EncoderTest, OptionsAndDeviceErrors) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 4, 1, 3);
  EXPECT_FALSE(Encoder::Open(pkg.dir, Device{}, 0).ok());
  EncoderOptions options;
  options.precision = "fp8";
  auto bad = Encoder::Open(pkg.dir, Device{}, options);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("precision 'fp8'"), std::string::npos);
  options.precision = "fp16";
  auto fp16_cpu = Encoder::Open(pkg.dir, Device{}, options);
  ASSERT_FALSE(fp16_cpu.ok());
  EXPECT_NE(fp16_cpu.error().find("fp16 needs a CUDA device"), std::string::npos);
  options.precision = "bf16";
  auto bf16 = Encoder::Open(pkg.dir, Device{}, options);
  ASSERT_TRUE(bf16.ok()) << bf16.error();
  auto emb = (*bf16)->Embed({RandomImage(4, 4, 1)});
  ASSERT_TRUE(emb.ok()) << emb.error();
  EXPECT_EQ(emb->type(), CV_32F);

  const Device missing{Device::Type::kCuda, 99};
  auto cuda = Encoder::Open(pkg.dir, missing);
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.error().find("cuda:99 is not available"), std::string::npos) << cuda.error();
  EXPECT_FALSE(Device::Parse("gpu").ok());
}

TEST(EncoderTest, EmbedSourceStreamsSkipsAndKeepsOrder) {
  testing::TempDir dir;
  const TestPackage pkg = MakePackage(dir.Join("enc"), 6, 1, 4);
  fs::create_directories(dir.Join("src/c0"));
  fs::create_directories(dir.Join("src/c1"));
  for (int i = 0; i < 7; ++i) {
    cv::imwrite(dir.Join("src/c" + std::to_string(i % 2) + "/i" + std::to_string(i) + ".png"),
                RandomImage(6, 6, i));
  }
  testing::WriteFile(dir.Join("src/c0/broken.png"), "not a png");
  auto source = OpenImageSource(dir.Join("src"));
  ASSERT_TRUE(source.ok()) << source.error();
  auto enc = Encoder::Open(pkg.dir, Device{}, 3);
  ASSERT_TRUE(enc.ok());
  std::vector<std::string> issues;
  std::vector<double> fractions;
  auto set = EmbedSource(
      **source, **enc,
      [&](double f) {
        fractions.push_back(f);
        return true;
      },
      [&](const SourceIssue& issue) { issues.push_back(issue.file); });
  ASSERT_TRUE(set.ok()) << set.error();
  EXPECT_EQ(set->matrix.rows, 7);
  EXPECT_EQ(set->ids.size(), 7u);
  EXPECT_EQ(set->skipped, 1);
  ASSERT_EQ(issues.size(), 1u);
  EXPECT_NE(issues[0].find("broken.png"), std::string::npos);
  EXPECT_EQ(fractions.size(), 3u);  // 8 records in batches of 3
  EXPECT_DOUBLE_EQ(fractions.back(), 1.0);
  // Row i is the embedding of the image with id ids[i].
  for (size_t i = 0; i < set->ids.size(); ++i) {
    int64_t index = -1;
    for (int64_t j = 0; j < (*source)->size(); ++j) {
      if ((*source)->record(j).id == set->ids[i]) index = j;
    }
    ASSERT_GE(index, 0);
    EXPECT_EQ(set->labels[i], (*source)->record(index).label);
    auto one = (*enc)->Embed({*(*source)->Load(index)});
    EXPECT_LT(cv::norm(set->matrix.row(static_cast<int>(i)), *one, cv::NORM_INF), 1e-5);
  }
  // Cancelling after the first batch keeps that batch.
  auto cancelled = EmbedSource(**source, **enc, [](double) { return false; }, nullptr);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->cancelled);
  EXPECT_EQ(cancelled->matrix.rows, static_cast<int>(cancelled->ids.size()));
  EXPECT_LE(cancelled->matrix.rows, 3);
}

}  // namespace
}  // namespace synthlens
