#include "core/infer/noise_schedule.h"

#include <cmath>

#include <gtest/gtest.h>

namespace synthlens {
namespace {

TEST(NoiseScheduleTest, LinearMatchesDdpm) {
  auto s = NoiseSchedule::Make({});
  ASSERT_TRUE(s.ok());
  ASSERT_EQ(s->T(), 1000);
  EXPECT_DOUBLE_EQ(s->betas.front(), 1e-4);
  EXPECT_DOUBLE_EQ(s->betas.back(), 0.02);
  // Reference: numpy.cumprod(1 - numpy.linspace(1e-4, 0.02, 1000)) at t = 0, 499, 999.
  EXPECT_NEAR(s->alphas_cumprod[0], 0.9999, 1e-12);
  EXPECT_NEAR(s->alphas_cumprod[499], 0.0785872429, 1e-9);
  EXPECT_NEAR(s->alphas_cumprod[999], 4.0358297654e-05, 1e-14);
}

TEST(NoiseScheduleTest, ScaledLinearAndCosine) {
  NoiseScheduleSpec spec;
  spec.beta_schedule = "scaled_linear";
  spec.beta_start = 0.00085;
  spec.beta_end = 0.012;
  auto s = NoiseSchedule::Make(spec);
  ASSERT_TRUE(s.ok());
  EXPECT_NEAR(s->betas[0], 0.00085, 1e-12);
  EXPECT_NEAR(s->betas[999], 0.012, 1e-12);
  spec.beta_schedule = "cosine";
  auto c = NoiseSchedule::Make(spec);
  ASSERT_TRUE(c.ok());
  // alpha_bar(t) = cos^2(((t+1)/T + s)/(1+s) * pi/2) / cos^2(s/(1+s) * pi/2).
  const double f0 = std::pow(std::cos(0.008 / 1.008 * M_PI / 2), 2);
  const double expected = std::pow(std::cos((500.0 / 1000 + 0.008) / 1.008 * M_PI / 2), 2) / f0;
  EXPECT_NEAR(c->alphas_cumprod[499], expected, 1e-9);
  EXPECT_LE(c->betas.back(), 0.999);
}

TEST(NoiseScheduleTest, RejectsBadSpecs) {
  NoiseScheduleSpec spec;
  spec.beta_schedule = "quadratic";
  EXPECT_FALSE(NoiseSchedule::Make(spec).ok());
  spec = {};
  spec.beta_start = 0.1;
  spec.beta_end = 0.01;
  EXPECT_FALSE(NoiseSchedule::Make(spec).ok());
  spec = {};
  spec.prediction_type = "noise";
  auto bad = NoiseSchedule::Make(spec);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().find("prediction_type"), std::string::npos);
}

TEST(NoiseScheduleTest, TimestepSpacingMatchesDiffusers) {
  // diffusers DDIMScheduler.set_timesteps(10) with T = 1000.
  EXPECT_EQ(SamplingTimesteps(1000, 10, "leading"),
            (std::vector<int>{900, 800, 700, 600, 500, 400, 300, 200, 100, 0}));
  EXPECT_EQ(SamplingTimesteps(1000, 10, "trailing"),
            (std::vector<int>{999, 899, 799, 699, 599, 499, 399, 299, 199, 99}));
  EXPECT_EQ(SamplingTimesteps(1000, 10, "trailing", 500),
            (std::vector<int>{499, 399, 299, 199, 99}));
}

}  // namespace
}  // namespace synthlens
