#include "core/train/diffusion_unet.h"

#include <gtest/gtest.h>

#include <sstream>

#include "core/train/diffusion_unet_internal.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

DiffusionUNetConfig Small() {
  DiffusionUNetConfig c;
  c.ch0 = 8;
  c.ch1 = 16;
  c.ch2 = 16;
  c.groups = 4;
  c.emb_dim = 6;
  return c;
}

// Non-zero weights everywhere (the builder zero-initialises residual outputs and the head, which
// would hide the effect of the conditions).
void Randomise(torch::jit::Module& m) {
  torch::NoGradGuard g;
  torch::manual_seed(3);
  for (const auto& p : m.parameters()) p.copy_(torch::randn_like(p) * 0.2);
}

torch::Tensor Denoise(torch::jit::Module& m, const torch::Tensor& x, const torch::Tensor& t,
                  const torch::Tensor& c, const torch::Tensor& e, const torch::Tensor& mask) {
  return m.forward({x, t, c, e, mask}).toTensor();
}

TEST(DiffusionUNetTest, ConfigRoundTripsAndValidates) {
  DiffusionUNetConfig c;
  auto parsed = DiffusionUNetConfig::Parse(c.ToString());
  ASSERT_TRUE(parsed.ok()) << parsed.error();
  EXPECT_EQ(parsed->ToString(), c.ToString());
  c.ch1 = 30;  // not a multiple of 8 groups
  EXPECT_FALSE(c.Validate().empty());
  EXPECT_FALSE(DiffusionUNetConfig::Parse("nonsense").ok());
}

TEST(DiffusionUNetTest, ForwardShapesAndConditioningChangeTheOutput) {
  auto m = internal::BuildDiffusionUNet(Small(), 1);
  Randomise(m);
  torch::NoGradGuard g;
  const auto x = torch::randn({3, 1, 28, 28});
  const auto t = torch::tensor({0, 500, 999}, torch::kInt64);
  const auto c = torch::tensor({0, 4, 10}, torch::kInt64);
  const auto e = torch::randn({3, 6});
  const auto on = torch::ones({3});
  const auto y = Denoise(m, x, t, c, e, on);
  EXPECT_EQ(y.sizes(), x.sizes());
  EXPECT_EQ(y.dtype(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(y).all().item<bool>());
  // Class, embedding, mask and t each change the prediction.
  EXPECT_GT((Denoise(m, x, t, torch::tensor({1, 5, 2}, torch::kInt64), e, on) - y).abs().max().item<float>(), 1e-5);
  EXPECT_GT((Denoise(m, x, t, c, torch::randn({3, 6}), on) - y).abs().max().item<float>(), 1e-5);
  const auto off = Denoise(m, x, t, c, e, torch::zeros({3}));
  EXPECT_GT((off - y).abs().max().item<float>(), 1e-5);
  // With the mask off the embedding has no effect (the null embedding).
  EXPECT_LT((Denoise(m, x, t, c, torch::randn({3, 6}), torch::zeros({3})) - off).abs().max().item<float>(), 1e-6);
  EXPECT_GT((Denoise(m, x, torch::tensor({1, 2, 3}, torch::kInt64), c, e, on) - y).abs().max().item<float>(), 1e-5);
}

TEST(DiffusionUNetTest, WithoutEmbeddingInputTheEmbeddingIsIgnoredWhateverItsShape) {
  auto with = internal::BuildDiffusionUNet(Small(), 4);
  auto without = internal::BuildDiffusionUNet(Small(), 4, /*embedding_input=*/false);
  Randomise(with);
  Randomise(without);
  ASSERT_EQ(internal::CountParameters(with), internal::CountParameters(without));
  torch::NoGradGuard g;
  const auto x = torch::randn({2, 1, 28, 28});
  const auto t = torch::tensor({5, 50}, torch::kInt64);
  const auto c = torch::tensor({2, 10}, torch::kInt64);
  const auto a = Denoise(without, x, t, c, torch::zeros({2, 1}), torch::zeros({2}));
  // Same weights: equals the embedding-conditioned network with the mask off.
  EXPECT_TRUE(torch::allclose(a, Denoise(with, x, t, c, torch::randn({2, 6}), torch::zeros({2})),
                              1e-5, 1e-6));
}

TEST(DiffusionUNetTest, DefaultModelHasAFewMillionParametersAndStartsAtZero) {
  auto m = internal::BuildDiffusionUNet(DiffusionUNetConfig{}, 0);
  const int64_t n = internal::CountParameters(m);
  EXPECT_GT(n, 1000000);
  EXPECT_LT(n, 3000000);
  torch::NoGradGuard g;
  const auto y = Denoise(m, torch::randn({2, 1, 28, 28}), torch::tensor({3, 7}, torch::kInt64),
                     torch::tensor({1, 10}, torch::kInt64), torch::randn({2, 128}), torch::ones({2}));
  EXPECT_EQ(y.abs().max().item<float>(), 0.0f);  // zero-initialised head
}

TEST(DiffusionUNetTest, SavedModuleLoadsWithTheDocumentedSignature) {
  testing::TempDir dir;
  auto m = internal::BuildDiffusionUNet(Small(), 2);
  Randomise(m);
  const std::string path = dir.Join("denoiser.pt");
  m.save(path);
  auto loaded = torch::jit::load(path);
  const auto& schema = loaded.get_method("forward").function().getSchema();
  ASSERT_EQ(schema.arguments().size(), 6u);  // self + 5
  const char* names[] = {"x", "t", "class_id", "emb", "emb_mask"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(schema.arguments()[i + 1].name(), names[i]);
    EXPECT_EQ(schema.arguments()[i + 1].type()->kind(), c10::TypeKind::TensorType);
  }
  ASSERT_EQ(schema.returns().size(), 1u);
  torch::NoGradGuard g;
  const auto x = torch::randn({2, 1, 28, 28});
  const auto t = torch::tensor({10, 900}, torch::kInt64);
  const auto c = torch::tensor({3, 10}, torch::kInt64);
  const auto e = torch::randn({2, 6});
  const auto mask = torch::tensor({1.0f, 0.0f});
  EXPECT_TRUE(torch::equal(Denoise(loaded, x, t, c, e, mask), Denoise(m, x, t, c, e, mask)));
}

}  // namespace
}  // namespace synthlens
