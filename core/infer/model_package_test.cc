#include "core/infer/model_package.h"

#include <cstdlib>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "tests/test_util.h"

namespace synthlens {
namespace {
using nlohmann::json;

json EncoderJson() {
  return json::parse(R"({
    "format": "synthlens-model-package", "format_version": 1,
    "kind": "encoder", "name": "test-encoder", "description": "a test",
    "files": {"encoder": "encoder.pt"},
    "input": {"resolution": 28, "channels": 1, "resize": "bilinear", "value_range": [0.0, 1.0],
              "mean": [0.286], "std": [0.353]},
    "encoder": {"output_dim": 16},
    "training": {"seed": 3, "dataset": "fashion-mnist:train"}
  })");
}

json DiffusionJson() {
  return json::parse(R"({
    "format": "synthlens-model-package", "format_version": 1,
    "kind": "diffusion", "name": "test-diffusion",
    "files": {"denoiser": "denoiser.pt"},
    "input": {"resolution": 28, "channels": 1, "value_range": [-1.0, 1.0]},
    "diffusion": {"space": "pixel",
      "schedule": {"beta_schedule": "cosine", "num_train_timesteps": 1000, "prediction_type": "v"},
      "conditioning": {"class": {"num_classes": 10},
                       "embedding": {"dim": 128, "encoder": "fmnist-encoder"}}}
  })");
}

// Writes a package folder with model.json and placeholder files for every role.
std::string WritePackage(const testing::TempDir& dir, const json& manifest,
                         const std::string& name = "pkg") {
  const std::string root = dir.Join(name);
  testing::WriteFile(root + "/model.json", manifest.dump(2));
  if (manifest.contains("files") && manifest["files"].is_object()) {
    for (const auto& [role, file] : manifest["files"].items()) {
      if (file.is_string()) testing::WriteFile(root + "/" + file.get<std::string>(), "weights " + role);
    }
  }
  return root;
}

// Expects ReadModelPackage to fail with an error containing every `parts`.
void ExpectError(const std::string& dir, std::initializer_list<std::string> parts) {
  auto result = ReadModelPackage(dir);
  ASSERT_FALSE(result.ok()) << "expected an error containing " << *parts.begin();
  for (const std::string& part : parts) {
    EXPECT_NE(result.error().find(part), std::string::npos) << result.error();
  }
}

TEST(ModelPackageTest, ReadsAValidEncoderPackage) {
  testing::TempDir dir;
  const std::string root = WritePackage(dir, EncoderJson());
  auto m = ReadModelPackage(root);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->kind, "encoder");
  EXPECT_EQ(m->name, "test-encoder");
  EXPECT_EQ(m->description, "a test");
  EXPECT_EQ(m->input.resolution, 28);
  EXPECT_EQ(m->input.channels, 1);
  EXPECT_EQ(m->input.mean, std::vector<double>{0.286});
  EXPECT_EQ(m->encoder.output_dim, 16);
  EXPECT_EQ(m->FilePath("encoder"), root + "/encoder.pt");
  EXPECT_EQ(json::parse(m->training)["seed"], 3);
  EXPECT_EQ(m->dir, root);
  EXPECT_EQ(m->hash.size(), 64u);
  EXPECT_THROW(m->FilePath("denoiser"), Error);
}

TEST(ModelPackageTest, ReadsDiffusionPackagesPixelAndLatent) {
  testing::TempDir dir;
  auto m = ReadModelPackage(WritePackage(dir, DiffusionJson()), "diffusion");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->diffusion.space, "pixel");
  EXPECT_EQ(m->diffusion.schedule.beta_schedule, "cosine");
  EXPECT_EQ(m->diffusion.schedule.prediction_type, "v");
  EXPECT_EQ(m->diffusion.conditioning.num_classes, 10);
  EXPECT_EQ(m->diffusion.conditioning.embedding_dim, 128);
  EXPECT_EQ(m->diffusion.conditioning.embedding_encoder, "fmnist-encoder");
  EXPECT_EQ(m->input.value_range[0], -1.0);
  EXPECT_EQ(m->training, "{}");
  EXPECT_EQ(m->architecture, "{}");

  json with_arch = DiffusionJson();  // free-form description of the network, as train-diffusion writes
  with_arch["architecture"] = {{"unet", "r28-c1-32.64.128"}, {"parameters", 1581889}};
  auto a = ReadModelPackage(WritePackage(dir, with_arch, "arch"));
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(json::parse(a->architecture)["parameters"], 1581889);

  json latent = DiffusionJson();
  latent["diffusion"]["space"] = "latent";
  latent["diffusion"]["latent_scale"] = 0.18215;
  latent["diffusion"]["latent_channels"] = 4;
  latent["diffusion"]["latent_resolution"] = 8;
  latent["diffusion"]["conditioning"] = {{"class", nullptr}, {"embedding", nullptr}};
  latent["files"] = {{"denoiser", "d.pt"}, {"vae_encoder", "vae/e.pt"}, {"vae_decoder", "vae/d.pt"}};
  auto l = ReadModelPackage(WritePackage(dir, latent, "latent"));
  ASSERT_TRUE(l.ok()) << l.error();
  EXPECT_EQ(l->diffusion.latent_channels, 4);
  EXPECT_EQ(l->diffusion.conditioning.num_classes, 0);
  EXPECT_EQ(l->diffusion.conditioning.embedding_dim, 0);
  EXPECT_EQ(l->files.size(), 3u);

  latent["files"].erase("vae_decoder");
  ExpectError(WritePackage(dir, latent, "latent2"), {"files.vae_decoder: missing"});
}

TEST(ModelPackageTest, MissingFolderModelJsonAndReferencedFile) {
  testing::TempDir dir;
  ExpectError(dir.Join("nope/"), {"nope", "does not exist"});
  testing::WriteFile(dir.Join("empty/readme.txt"), "x");
  ExpectError(dir.Join("empty"), {"empty/model.json", "missing"});
  const std::string root = WritePackage(dir, EncoderJson());
  std::remove((root + "/encoder.pt").c_str());
  ExpectError(root, {root + "/encoder.pt", "missing", "files.encoder"});
}

TEST(ModelPackageTest, MalformedJsonNamesLineAndColumn) {
  testing::TempDir dir;
  testing::WriteFile(dir.Join("bad/model.json"), "{\n  \"format\": \"synthlens-model-package\",\n  \"kind\" \"encoder\"\n}");
  ExpectError(dir.Join("bad"), {"bad/model.json", "malformed JSON", "line 3"});
}

TEST(ModelPackageTest, KindsKeysAndTypes) {
  testing::TempDir dir;
  int n = 0;
  auto check = [&](json manifest, std::initializer_list<std::string> parts) {
    ExpectError(WritePackage(dir, manifest, "p" + std::to_string(n++)), parts);
  };
  json m = EncoderJson();
  m["kind"] = "vae";
  check(m, {"model.json", "unknown kind 'vae'"});
  m["kind"] = "gan";
  check(m, {"'gan' is reserved"});
  m = EncoderJson();
  m["format"] = "something-else";
  check(m, {"format:"});
  m = EncoderJson();
  m["format_version"] = 7;
  check(m, {"format_version: 7"});
  m = EncoderJson();
  m.erase("input");
  check(m, {"input: missing"});
  m = EncoderJson();
  m["encoder"].erase("output_dim");
  check(m, {"encoder.output_dim: missing"});
  m = EncoderJson();
  m["encoder"]["output_dims"] = 3;
  check(m, {"encoder.output_dims: unknown key"});
  m = EncoderJson();
  m["extra"] = 1;
  check(m, {"extra: unknown key"});
  m = EncoderJson();
  m["input"]["resolution"] = "28";
  check(m, {"input.resolution: must be an integer, got a string"});
  m = EncoderJson();
  m["input"]["resolution"] = 28.5;
  check(m, {"input.resolution: must be an integer"});
  m = EncoderJson();
  m["files"] = {{"encoder", 5}};
  check(m, {"files.encoder: must be a string"});
  m = EncoderJson();
  m["files"] = {{"encoder", "../elsewhere.pt"}};
  check(m, {"must stay inside the package"});
  m = EncoderJson();
  m["files"] = {{"encoder", "/etc/passwd"}};
  check(m, {"must be relative"});
  m = EncoderJson();
  m["files"]["denoiser"] = "d.pt";
  check(m, {"files.denoiser: unknown key"});
  m = EncoderJson();
  m["diffusion"] = DiffusionJson()["diffusion"];
  check(m, {"diffusion: not allowed"});
  m = EncoderJson();
  m["training"] = "text";
  check(m, {"training: must be an object"});
  m = EncoderJson();
  m["architecture"] = 3;
  check(m, {"architecture: must be an object"});
}

TEST(ModelPackageTest, BadRanges) {
  testing::TempDir dir;
  int n = 0;
  auto check = [&](json manifest, std::initializer_list<std::string> parts) {
    ExpectError(WritePackage(dir, manifest, "r" + std::to_string(n++)), parts);
  };
  json m = EncoderJson();
  m["input"]["resolution"] = 0;
  check(m, {"input.resolution: must be in [1, 8192], got 0"});
  m = EncoderJson();
  m["input"]["channels"] = 2;
  check(m, {"input.channels: must be 1 or 3, got 2"});
  m = EncoderJson();
  m["input"]["std"] = {0.0};
  check(m, {"input.std: every value must be > 0"});
  m = EncoderJson();
  m["input"]["mean"] = {0.1, 0.2, 0.3};
  check(m, {"input.mean: has 3 value(s), channels is 1"});
  m = EncoderJson();
  m["input"].erase("std");
  check(m, {"mean and std must be given together"});
  m = EncoderJson();
  m["input"]["value_range"] = {1.0, 0.0};
  check(m, {"input.value_range"});
  m = EncoderJson();
  m["input"]["resize"] = "lanczos";
  check(m, {"input.resize: 'lanczos'"});
  m = EncoderJson();
  m["encoder"]["output_dim"] = 0;
  check(m, {"encoder.output_dim: must be > 0"});
  m = DiffusionJson();
  m["diffusion"]["schedule"]["beta_schedule"] = "sigmoid";
  check(m, {"diffusion.schedule: beta_schedule 'sigmoid'"});
  m = DiffusionJson();
  m["diffusion"]["schedule"]["prediction_type"] = "epsilon";
  check(m, {"diffusion.schedule: prediction_type 'epsilon'"});
  m = DiffusionJson();
  m["diffusion"]["schedule"] = {{"beta_schedule", "linear"}, {"beta_start", 0.1}, {"beta_end", 0.01},
                                {"num_train_timesteps", 1000}, {"prediction_type", "eps"}};
  check(m, {"diffusion.schedule: betas must satisfy"});
  m = DiffusionJson();
  m["diffusion"]["space"] = "fourier";
  check(m, {"diffusion.space: 'fourier'"});
  m = DiffusionJson();
  m["diffusion"]["latent_channels"] = 4;
  check(m, {"diffusion.latent_channels: only for space \"latent\""});
  m = DiffusionJson();
  m["diffusion"]["conditioning"]["class"]["num_classes"] = 0;
  check(m, {"num_classes: must be >= 1"});
}

TEST(ModelPackageTest, ExpectedKindIsChecked) {
  testing::TempDir dir;
  auto r = ReadModelPackage(WritePackage(dir, DiffusionJson()), "encoder");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("kind is 'diffusion', expected 'encoder'"), std::string::npos) << r.error();
}

TEST(ModelPackageTest, HashCoversManifestAndFiles) {
  testing::TempDir dir;
  const std::string root = WritePackage(dir, EncoderJson());
  const std::string h1 = ReadModelPackage(root)->hash;
  EXPECT_EQ(ReadModelPackage(root)->hash, h1);
  testing::WriteFile(root + "/encoder.pt", "other weights");
  const std::string h2 = ReadModelPackage(root)->hash;
  EXPECT_NE(h1, h2);
  json m = EncoderJson();
  m["description"] = "changed";
  testing::WriteFile(root + "/model.json", m.dump());
  EXPECT_NE(ReadModelPackage(root)->hash, h2);
}

TEST(ModelPackageTest, BareNamesResolveThroughTheSearchPath) {
  testing::TempDir dir;
  json enc = EncoderJson();
  WritePackage(dir, enc, "models/fmnist-encoder");
  WritePackage(dir, DiffusionJson(), "models/fmnist-diffusion");
  WritePackage(dir, enc, "models/mine");
  ::setenv("SYNTHLENS_MODELS", (dir.Join("nothing-here") + ":" + dir.Join("models")).c_str(), 1);
  EXPECT_EQ(ModelSearchPath().at(1), dir.Join("models"));
  EXPECT_EQ(ResolveModelPackage("builtin", "encoder"), dir.Join("models") + "/fmnist-encoder");
  EXPECT_EQ(ResolveModelPackage("builtin", "diffusion"), dir.Join("models") + "/fmnist-diffusion");
  EXPECT_EQ(ResolveModelPackage("builtin"), "");
  EXPECT_EQ(ResolveModelPackage("./mine"), "./mine");  // paths are never searched
  auto mine = ReadModelPackage("mine", "encoder");
  ASSERT_TRUE(mine.ok()) << mine.error();
  EXPECT_EQ(mine->dir, dir.Join("models") + "/mine");
  auto builtin = ReadModelPackage("builtin", "diffusion");
  ASSERT_TRUE(builtin.ok()) << builtin.error();
  EXPECT_EQ(builtin->name, "test-diffusion");
  auto missing = ReadModelPackage("no-such-model", "encoder");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().find("'no-such-model' not found"), std::string::npos);
  EXPECT_NE(missing.error().find(dir.Join("models")), std::string::npos) << missing.error();
  ::unsetenv("SYNTHLENS_MODELS");
}

TEST(PreprocessTest, GreyRangeAndNormalisation) {
  ModelInput input;
  input.resolution = 2;
  input.channels = 1;
  cv::Mat rgb(2, 2, CV_8UC3, cv::Scalar(255, 0, 0));  // pure red (RGB order)
  rgb.at<cv::Vec3b>(1, 1) = cv::Vec3b(10, 200, 30);
  cv::Mat x = PreprocessImage(rgb, input);
  ASSERT_EQ(x.type(), CV_32FC1);
  // PIL convert('L'): (r*19595 + g*38470 + b*7471 + 0x8000) >> 16.
  EXPECT_FLOAT_EQ(x.at<float>(0, 0), 76.f / 255.f);
  EXPECT_FLOAT_EQ(x.at<float>(1, 1), ((10 * 19595 + 200 * 38470 + 30 * 7471 + 0x8000) >> 16) / 255.f);
  input.value_range[0] = -1;
  input.value_range[1] = 1;
  input.mean = {0.5};
  input.std = {2.0};
  x = PreprocessImage(rgb, input);
  EXPECT_NEAR(x.at<float>(0, 0), ((76.f / 255.f) * 2 - 1 - 0.5f) / 2.0f, 1e-6);
  x = PreprocessImage(rgb, input, /*normalize=*/false);
  EXPECT_NEAR(x.at<float>(0, 0), (76.f / 255.f) * 2 - 1, 1e-6);
  EXPECT_THROW(PreprocessImage(cv::Mat(2, 2, CV_8UC1), input), Error);
  EXPECT_NE(DescribePreprocessing(input).find("ITU-R 601"), std::string::npos);
}

TEST(PreprocessTest, RgbResizeKeepsChannelOrder) {
  ModelInput input;
  input.resolution = 4;
  input.channels = 3;
  cv::Mat rgb(8, 8, CV_8UC3, cv::Scalar(255, 128, 0));
  cv::Mat x = PreprocessImage(rgb, input);
  ASSERT_EQ(x.type(), CV_32FC3);
  ASSERT_EQ(x.rows, 4);
  const cv::Vec3f p = x.at<cv::Vec3f>(2, 2);
  EXPECT_FLOAT_EQ(p[0], 1.0f);
  EXPECT_FLOAT_EQ(p[1], 128.f / 255.f);
  EXPECT_FLOAT_EQ(p[2], 0.0f);
  for (const char* method : {"bicubic", "nearest"}) {
    input.resize = method;
    EXPECT_EQ(PreprocessImage(rgb, input).rows, 4) << method;
  }
}

}  // namespace
}  // namespace synthlens
