#include "core/train/diffusion_trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/io/npy.h"
#include "core/train/diffusion_trainer_internal.h"
#include "core/train/diffusion_unet_internal.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

DiffusionUNetConfig Small() {
  DiffusionUNetConfig c;
  c.ch0 = 8;
  c.ch1 = 8;
  c.ch2 = 16;
  c.groups = 4;
  c.emb_dim = 4;
  c.attention = true;
  return c;
}

// A tiny IDX pair (28x28 blobs whose brightness follows the label); returns the SRC spec.
std::string WriteTinyIdx(const testing::TempDir& dir, int n) {
  return testing::WriteIdxPair(
      dir.Join("img.idx"), dir.Join("lab.idx"), n,
      [](int i, int y, int x) {
        const int label = i % 10;
        const bool inside = std::abs(x - 14) + std::abs(y - 14) < 4 + label;
        return static_cast<uint8_t>(inside ? 100 + 15 * label : (x * y + i) % 7);
      },
      [](int i) { return i % 10; });
}

DiffusionTrainOptions TinyOptions(const std::string& src, const std::string& out) {
  DiffusionTrainOptions o;
  o.input = src;
  o.out_dir = out;
  o.model = Small();
  o.batch = 4;
  o.steps = 2;
  o.warmup_steps = 1;
  o.lr = 1e-3;
  o.seed = 5;
  o.checkpoint_minutes = 0;
  return o;
}

std::vector<torch::Tensor> Params(const std::string& denoiser) {
  auto m = torch::jit::load(denoiser);
  std::vector<torch::Tensor> out;
  for (const auto& p : m.parameters()) out.push_back(p.detach().clone());
  return out;
}

TEST(DiffusionTrainerTest, QSampleMatchesTheScheduleAlphas) {
  auto schedule = NoiseSchedule::Make(NoiseScheduleSpec{});
  ASSERT_TRUE(schedule.ok());
  const auto alphas = internal::AlphasCumprod(*schedule);
  ASSERT_EQ(alphas.size(0), 1000);
  // DDPM linear schedule: abar_0 = 1 - 1e-4, abar_999 ~ 4.04e-5.
  EXPECT_NEAR(alphas[0].item<double>(), 1 - 1e-4, 1e-12);
  EXPECT_NEAR(alphas[999].item<double>(), 4.036e-5, 1e-7);
  torch::manual_seed(0);
  const auto x0 = torch::rand({3, 1, 28, 28}) * 2 - 1;
  const auto noise = torch::randn({3, 1, 28, 28});
  const std::vector<int64_t> ts = {0, 417, 999};
  const auto xt = internal::QSample(x0, torch::tensor(ts, torch::kInt64), noise, alphas);
  for (int b = 0; b < 3; ++b) {
    const double abar = schedule->alphas_cumprod[ts[b]];
    for (int k : {0, 100, 783}) {
      const double expect = std::sqrt(abar) * x0[b][0].view(-1)[k].item<double>() +
                            std::sqrt(1 - abar) * noise[b][0].view(-1)[k].item<double>();
      EXPECT_NEAR(xt[b][0].view(-1)[k].item<double>(), expect, 1e-6) << "t=" << ts[b];
    }
  }
}

TEST(DiffusionTrainerTest, OneOptimisationStepReducesTheLossOnAFixedBatch) {
  auto schedule = NoiseSchedule::Make(NoiseScheduleSpec{});
  const auto alphas = internal::AlphasCumprod(*schedule);
  auto model = internal::BuildDiffusionUNet(Small(), 7);
  std::vector<torch::Tensor> params;
  for (const auto& p : model.parameters()) params.push_back(p);
  torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3).weight_decay(0));
  torch::manual_seed(1);
  const auto x0 = torch::rand({8, 1, 28, 28}) * 2 - 1;
  const auto t = torch::randint(0, 1000, {8}, torch::kInt64);
  const auto noise = torch::randn({8, 1, 28, 28});
  const auto cls = torch::randint(0, 11, {8}, torch::kInt64);
  const auto emb = torch::randn({8, 4});
  const auto mask = torch::ones({8});
  auto loss = [&] {
    return internal::DiffusionLoss(model, x0, t, noise, cls, emb, mask, alphas);
  };
  auto before = loss();
  opt.zero_grad();
  before.backward();
  opt.step();
  const double after = loss().item<double>();
  EXPECT_LT(after, before.item<double>());
}

TEST(DiffusionTrainerTest, ResumeAfterInterruptionEqualsAnUninterruptedRun) {
  testing::TempDir dir;
  const std::string src = WriteTinyIdx(dir, 12);
  auto full = TinyOptions(src, dir.Join("full"));
  auto a = RunDiffusionTraining(full, nullptr, nullptr);
  ASSERT_TRUE(a.ok()) << a.error();
  EXPECT_EQ(a->steps_done, 2);
  EXPECT_FALSE(a->cancelled);

  // Interrupted after the first step (as Ctrl-C does), then resumed.
  auto part = TinyOptions(src, dir.Join("part"));
  auto b = RunDiffusionTraining(part, [](double f) { return f < 0.5; }, nullptr);
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_TRUE(b->cancelled);
  EXPECT_EQ(b->steps_done, 1);
  part.resume = true;
  auto c = RunDiffusionTraining(part, nullptr, nullptr);
  ASSERT_TRUE(c.ok()) << c.error();
  EXPECT_EQ(c->start_step, 1);
  EXPECT_EQ(c->steps_done, 2);

  const auto pa = Params(a->denoiser_path);
  const auto pc = Params(c->denoiser_path);
  ASSERT_EQ(pa.size(), pc.size());
  for (size_t i = 0; i < pa.size(); ++i) EXPECT_TRUE(torch::equal(pa[i], pc[i])) << i;
  // The manifest records a complete run.
  std::ifstream in(dir.Join("part/model.json"));
  const auto manifest = nlohmann::json::parse(in);
  EXPECT_EQ(manifest["kind"], "diffusion");
  EXPECT_EQ(manifest["training"]["steps"], 2);
  EXPECT_EQ(manifest["training"]["complete"], true);
  EXPECT_FALSE(manifest["diffusion"]["conditioning"].contains("embedding"));

  // A different run identity is refused.
  part.seed = 6;
  auto d = RunDiffusionTraining(part, nullptr, nullptr);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().find("different run"), std::string::npos) << d.error();
}

TEST(DiffusionTrainerTest, WritesADenoiserWithTheDocumentedSignature) {
  testing::TempDir dir;
  const std::string src = WriteTinyIdx(dir, 8);
  auto o = TinyOptions(src, dir.Join("pkg"));
  o.steps = 1;
  // Embedding conditioning from an .npy, one row per image.
  cv::Mat emb(8, 4, CV_32F);
  cv::randn(emb, 0, 1);
  ASSERT_EQ(WriteNpy(dir.Join("emb.npy"), emb), "");
  o.embeddings = dir.Join("emb.npy");
  o.encoder_name = "test-encoder";
  auto r = RunDiffusionTraining(o, nullptr, nullptr);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->embedding_conditioned);
  auto m = torch::jit::load(dir.Join("pkg/denoiser.pt"));
  const auto& schema = m.get_method("forward").function().getSchema();
  ASSERT_EQ(schema.arguments().size(), 6u);
  EXPECT_EQ(schema.arguments()[2].name(), "t");
  EXPECT_EQ(schema.arguments()[5].name(), "emb_mask");
  torch::NoGradGuard g;
  const auto y = m.forward({torch::randn({2, 1, 28, 28}), torch::tensor({1, 999}, torch::kInt64),
                            torch::tensor({0, 10}, torch::kInt64), torch::randn({2, 4}),
                            torch::ones({2})})
                     .toTensor();
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{2, 1, 28, 28}));
  std::ifstream in(dir.Join("pkg/model.json"));
  const auto manifest = nlohmann::json::parse(in);
  EXPECT_EQ(manifest["diffusion"]["conditioning"]["embedding"]["dim"], 4);
  EXPECT_EQ(manifest["diffusion"]["conditioning"]["embedding"]["encoder"], "test-encoder");
  EXPECT_EQ(manifest["diffusion"]["conditioning"]["class"]["num_classes"], 10);
  EXPECT_EQ(manifest["diffusion"]["schedule"]["num_train_timesteps"], 1000);

  // An embedding file with fewer rows than images is an expected failure naming the file.
  cv::Mat wrong(5, 4, CV_32F, cv::Scalar(0));
  ASSERT_EQ(WriteNpy(dir.Join("wrong.npy"), wrong), "");
  o.embeddings = dir.Join("wrong.npy");
  auto bad = RunDiffusionTraining(o, nullptr, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("wrong.npy"), std::string::npos) << bad.error();
}

TEST(DiffusionTrainerTest, FineTunesAClassOnlyCheckpointWithEmbeddingsOfAnotherWidth) {
  testing::TempDir dir;
  const std::string src = WriteTinyIdx(dir, 8);
  auto o = TinyOptions(src, dir.Join("pkg"));
  o.steps = 1;
  auto phase1 = RunDiffusionTraining(o, nullptr, nullptr);  // emb_dim 4, no embeddings
  ASSERT_TRUE(phase1.ok()) << phase1.error();
  EXPECT_FALSE(phase1->embedding_conditioned);

  cv::Mat emb(8, 6, CV_32F);
  cv::randn(emb, 0, 1);
  ASSERT_EQ(WriteNpy(dir.Join("emb6.npy"), emb), "");
  o.embeddings = dir.Join("emb6.npy");
  o.resume = true;
  o.steps = 3;
  std::vector<std::string> log;
  auto phase2 = RunDiffusionTraining(o, nullptr, [&](const std::string& l) { log.push_back(l); });
  ASSERT_TRUE(phase2.ok()) << phase2.error();
  EXPECT_EQ(phase2->start_step, 1);
  EXPECT_EQ(phase2->steps_done, 3);
  EXPECT_TRUE(phase2->embedding_conditioned);
  std::ifstream in(dir.Join("pkg/model.json"));
  const auto manifest = nlohmann::json::parse(in);
  EXPECT_EQ(manifest["diffusion"]["conditioning"]["embedding"]["dim"], 6);
  auto m = torch::jit::load(dir.Join("pkg/denoiser.pt"));
  torch::NoGradGuard g;
  auto x = torch::randn({2, 1, 28, 28});
  auto t = torch::tensor({3, 500}, torch::kInt64);
  auto cls = torch::tensor({1, 2}, torch::kInt64);
  const auto y1 = m.forward({x, t, cls, torch::randn({2, 6}), torch::ones({2})}).toTensor();
  const auto y0 = m.forward({x, t, cls, torch::zeros({2, 6}), torch::zeros({2})}).toTensor();
  EXPECT_EQ(y1.sizes(), (std::vector<int64_t>{2, 1, 28, 28}));
  // Two fine-tune steps moved the (zero-started) projection: the embedding now changes eps.
  EXPECT_GT((y1 - y0).abs().max().item<double>(), 0.0);

  // Once embedding-conditioned, the width is part of the run: another width is refused.
  cv::Mat emb5(8, 5, CV_32F, cv::Scalar(0.5));
  ASSERT_EQ(WriteNpy(dir.Join("emb5.npy"), emb5), "");
  o.embeddings = dir.Join("emb5.npy");
  o.steps = 4;
  auto bad = RunDiffusionTraining(o, nullptr, nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("different run"), std::string::npos) << bad.error();
}

}  // namespace
}  // namespace synthlens
