#include <cmath>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/infer/encoder.h"
#include "core/train/simclr_internal.h"
#include "core/train/simclr_trainer.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using namespace train_internal;
using testing::TempDir;

// A tiny IDX pair: n 28x28 images with smooth, image-dependent patterns and labels i % 3.
std::string WriteTinyIdx(const TempDir& dir, int n) {
  return testing::WriteIdxPair(
      dir.Join("images.idx"), dir.Join("labels.idx"), n,
      [](int i, int y, int x) {
        const double v = 127.5 + 127.5 * std::sin(0.3 * (i + 1) * x + 0.2 * y * (i % 3 + 1));
        return static_cast<uint8_t>(std::lround(v));
      },
      [](int i) { return i % 3; });
}

SimclrTrainOptions TinyOptions(const std::string& src, const std::string& out) {
  SimclrTrainOptions o;
  o.input = src;
  o.source.limit = 8;
  o.out_dir = out;
  o.epochs = 2;
  o.batch = 4;  // 2 steps per epoch
  o.lr = 1e-3;
  o.seed = 7;
  return o;
}

std::vector<torch::Tensor> PackageParameters(const std::string& dir) {
  torch::jit::Module m = torch::jit::load(dir + "/encoder.pt");
  std::vector<torch::Tensor> params;
  for (const auto& p : m.named_parameters()) params.push_back(p.value.detach().clone());
  return params;
}

TEST(NtXentTest, MatchesAHandComputedValue) {
  // Oracle (/usr/bin/python3, numpy): z1[i][j] = sin(3i + j), z2[i][j] = cos(2i + 0.5j), N=4, D=3,
  // T=0.5; mean over the 2N anchors of -log(exp(s_ap/T) / sum_{k != a} exp(s_ak/T)), s = cosine.
  auto z1 = torch::empty({4, 3}, torch::kFloat64), z2 = torch::empty({4, 3}, torch::kFloat64);
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 3; ++j) {
      z1[i][j] = std::sin(3.0 * i + j);
      z2[i][j] = std::cos(2.0 * i + 0.5 * j);
    }
  }
  EXPECT_NEAR(NtXentLoss(z1, z2, 0.5).item<double>(), 1.8440574430, 1e-8);
  // Identical, well-separated pairs give a loss near 0; swapping views changes nothing.
  auto e = torch::eye(4, torch::kFloat64);
  EXPECT_LT(NtXentLoss(e, e, 0.05).item<double>(), 1e-6);
  EXPECT_NEAR(NtXentLoss(z2, z1, 0.5).item<double>(), 1.8440574430, 1e-8);
}

TEST(SimclrModelTest, RepresentationIsTheFeatureMapOnA2x2GridAndTheHeadSeesItsGlobalMean) {
  torch::manual_seed(5);
  torch::jit::Module encoder = BuildSimclrEncoder();
  torch::NoGradGuard no_grad;
  auto x = torch::randn({3, 1, 28, 28});
  auto f = encoder.get_method("features")({x}).toTensor();
  ASSERT_EQ(f.sizes(), (std::vector<int64_t>{3, kSimclrFeatureChannels, 7, 7}));
  // Independent reference: ATen's adaptive average pooling 7x7 -> 2x2, channel-major flatten.
  auto expected = torch::adaptive_avg_pool2d(f, {2, 2}).flatten(1);
  auto h = encoder.forward({x}).toTensor();
  ASSERT_EQ(h.sizes(), (std::vector<int64_t>{3, kSimclrRepDim}));
  EXPECT_LT((h - expected).abs().max().item<double>(), 1e-5);
  EXPECT_LT((SimclrHeadInput(encoder, x) - f.mean({2, 3})).abs().max().item<double>(), 1e-6);
}

TEST(SimclrModelTest, EncoderMapsBatchesTo512AndOneStepLowersTheLoss) {
  torch::manual_seed(3);
  torch::jit::Module encoder = BuildSimclrEncoder();
  torch::nn::Sequential head = BuildProjectionHead();
  auto x = torch::randn({8, 1, 28, 28});
  auto h = encoder.forward({x}).toTensor();
  EXPECT_EQ(h.sizes(), (std::vector<int64_t>{8, kSimclrRepDim}));
  int64_t count = 0;
  for (const auto& p : SimclrParameters(encoder, head)) count += p.numel();
  EXPECT_GT(count, 200000);
  EXPECT_LT(count, 1000000);

  torch::optim::Adam adam(SimclrParameters(encoder, head), torch::optim::AdamOptions(1e-3));
  auto loss_of = [&]() {
    auto z = head->forward(SimclrHeadInput(encoder, x));
    return NtXentLoss(z.narrow(0, 0, 4), z.narrow(0, 4, 4), 0.5);
  };
  auto before = loss_of();
  adam.zero_grad();
  before.backward();
  adam.step();
  torch::NoGradGuard no_grad;
  EXPECT_LT(loss_of().item<double>(), before.item<double>());
}

TEST(SimclrTrainerTest, InterruptedAndResumedRunEqualsAnUninterruptedOne) {
  TempDir dir;
  const std::string src = WriteTinyIdx(dir, 10);
  SimclrTrainOptions a = TinyOptions(src, dir.Join("a"));
  auto full = TrainSimclrEncoder(a, {});
  ASSERT_TRUE(full.ok()) << full.error();
  EXPECT_EQ(full->epochs_done, 2);
  EXPECT_EQ(full->steps_done, 4);
  EXPECT_EQ(full->images, 8);
  EXPECT_TRUE(full->package_written);

  // Interrupted after 3 steps (inside epoch 2), then resumed.
  SimclrTrainOptions b = TinyOptions(src, dir.Join("b"));
  int calls = 0;
  auto stopped = TrainSimclrEncoder(b, [&](double) { return ++calls < 3; });
  ASSERT_TRUE(stopped.ok()) << stopped.error();
  EXPECT_TRUE(stopped->cancelled);
  EXPECT_EQ(stopped->steps_done, 3);
  EXPECT_FALSE(stopped->package_written);
  EXPECT_EQ(stopped->checkpoint, dir.Join("b.ckpt"));
  b.resume = true;
  auto resumed = TrainSimclrEncoder(b, {});
  ASSERT_TRUE(resumed.ok()) << resumed.error();
  EXPECT_EQ(resumed->steps_done, 4);
  EXPECT_DOUBLE_EQ(resumed->last_epoch_loss, full->last_epoch_loss);

  auto pa = PackageParameters(a.out_dir), pb = PackageParameters(b.out_dir);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "param " << i;

  // --resume with --epochs no larger than the checkpoint's only exports the package.
  SimclrTrainOptions c = b;
  c.out_dir = dir.Join("c");
  c.checkpoint = b.CheckpointPath();
  c.epochs = 1;
  auto exported = TrainSimclrEncoder(c, {});
  ASSERT_TRUE(exported.ok()) << exported.error();
  EXPECT_EQ(exported->steps_done, 4);
  auto pc = PackageParameters(c.out_dir);
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pc[i]));

  // A checkpoint made with other options is refused with a message naming the option.
  SimclrTrainOptions d = b;
  d.seed = 8;
  auto refused = TrainSimclrEncoder(d, {});
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().find("--seed"), std::string::npos) << refused.error();
}

TEST(SimclrTrainerTest, StopAfterEpochsKeepsTheScheduleOfTheFullRun) {
  TempDir dir;
  const std::string src = WriteTinyIdx(dir, 10);
  SimclrTrainOptions a = TinyOptions(src, dir.Join("a"));
  auto full = TrainSimclrEncoder(a, {});
  ASSERT_TRUE(full.ok()) << full.error();

  SimclrTrainOptions b = TinyOptions(src, dir.Join("b"));
  b.stop_after_epochs = 1;
  auto first = TrainSimclrEncoder(b, {});
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(first->stopped);
  EXPECT_FALSE(first->cancelled);
  EXPECT_EQ(first->epochs_done, 1);
  EXPECT_FALSE(first->package_written);
  EXPECT_FALSE(std::filesystem::exists(dir.Join("b/encoder.pt")));
  b.stop_after_epochs = 0;
  b.resume = true;
  auto rest = TrainSimclrEncoder(b, {});
  ASSERT_TRUE(rest.ok()) << rest.error();
  EXPECT_TRUE(rest->package_written);
  auto pa = PackageParameters(a.out_dir), pb = PackageParameters(b.out_dir);
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "param " << i;

  b.stop_after_epochs = -1;
  EXPECT_NE(b.Validate().find("--stop-after-epochs"), std::string::npos);
}

TEST(SimclrTrainerTest, PackageLoadsAsTorchScriptAndThroughEncoderOpen) {
  TempDir dir;
  const std::string src = WriteTinyIdx(dir, 8);
  SimclrTrainOptions o = TinyOptions(src, dir.Join("pkg"));
  o.epochs = 1;
  o.command_line = "synthlens train-encoder --test";
  auto summary = TrainSimclrEncoder(o, {});
  ASSERT_TRUE(summary.ok()) << summary.error();

  torch::jit::Module m = torch::jit::load(dir.Join("pkg/encoder.pt"));
  torch::NoGradGuard no_grad;
  auto out = m.forward({torch::zeros({5, 1, 28, 28})}).toTensor();
  EXPECT_EQ(out.sizes(), (std::vector<int64_t>{5, 512}));
  EXPECT_TRUE(torch::isfinite(out).all().item<bool>());

  auto text = ReadFileBytes(dir.Join("pkg/model.json"));
  ASSERT_TRUE(text.ok());
  auto j = nlohmann::json::parse(*text);
  EXPECT_EQ(j["kind"], "encoder");
  EXPECT_EQ(j["encoder"]["output_dim"], 512);
  EXPECT_EQ(j["input"]["resolution"], 28);
  EXPECT_EQ(j["input"]["channels"], 1);
  EXPECT_EQ(j["training"]["command"], "synthlens train-encoder --test");
  EXPECT_EQ(j["training"]["epochs"], 1);
  EXPECT_GT(j["input"]["std"][0].get<double>(), 0.0);

  auto encoder = Encoder::Open(dir.Join("pkg"), Device{});
  ASSERT_TRUE(encoder.ok()) << encoder.error();
  EXPECT_EQ((*encoder)->dim(), kSimclrRepDim);
  auto emb = (*encoder)->Embed({cv::Mat(28, 28, CV_8UC3, cv::Scalar(10, 10, 10))});
  ASSERT_TRUE(emb.ok()) << emb.error();
  EXPECT_EQ(emb->rows, 1);
  EXPECT_EQ(emb->cols, kSimclrRepDim);
}

TEST(SimclrTrainerTest, BadOptionsAndSourcesFailWithAMessage) {
  SimclrTrainOptions o;
  o.out_dir = "";
  EXPECT_NE(o.Validate().find("--out"), std::string::npos);
  o.out_dir = "/tmp/x";
  o.temperature = 0;
  EXPECT_NE(o.Validate().find("--temperature"), std::string::npos);
  o.temperature = 0.5;
  o.batch = 1;
  EXPECT_NE(o.Validate().find("--batch"), std::string::npos);
  o.batch = 4;
  o.input = "/no/such/folder";
  auto r = TrainSimclrEncoder(o, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/no/such/folder"), std::string::npos) << r.error();
}

}  // namespace
}  // namespace synthlens
