#include "core/augment/augment.h"

#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/augment/augment_bench.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

cv::Mat RandomImage(int w, int h, uint64_t seed) {
  Rng rng(seed);
  cv::Mat img(h, w, CV_8UC3);
  for (size_t i = 0; i < img.total() * 3; ++i) img.data[i] = static_cast<uint8_t>(rng.NextU64() >> 56);
  // Smooth it a little so crops and colours look like images, not noise.
  cv::GaussianBlur(img, img, cv::Size(5, 5), 1.5);
  return img;
}

bool SameBytes(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::countNonZero(a.reshape(1) != b.reshape(1)) == 0;
}

Recipe Builtin(const std::string& name) { return LoadRecipe(name).value(); }

TEST(AugmentTest, SameInputsGiveSameBytes) {
  const cv::Mat src = RandomImage(120, 90, 1);
  for (const std::string& name : BuiltinRecipeNames()) {
    const Recipe r = Builtin(name);
    for (int64_t v = 0; v < 8; ++v) {
      const AugmentedView a = MakeView(r, src, "img/0.png", v, 42, 64);
      const AugmentedView b = MakeView(r, src, "img/0.png", v, 42, 64);
      EXPECT_TRUE(SameBytes(a.image, b.image)) << name << " view " << v;
      EXPECT_EQ(a.params_json, b.params_json);
      EXPECT_EQ(a.image.size(), cv::Size(64, 64));
      EXPECT_EQ(a.image.type(), CV_8UC3);
    }
  }
}

TEST(AugmentTest, SeedViewAndIdChangeTheView) {
  const cv::Mat src = RandomImage(120, 90, 2);
  const Recipe r = Builtin("simclr");
  const AugmentedView base = MakeView(r, src, "a", 0, 1, 64);
  EXPECT_FALSE(SameBytes(base.image, MakeView(r, src, "a", 0, 2, 64).image));
  EXPECT_FALSE(SameBytes(base.image, MakeView(r, src, "a", 1, 1, 64).image));
  EXPECT_FALSE(SameBytes(base.image, MakeView(r, src, "b", 0, 1, 64).image));
}

TEST(AugmentTest, SourceIsNeverModified) {
  const cv::Mat src = RandomImage(64, 64, 3);
  const cv::Mat copy = src.clone();
  Recipe r;
  r.name = "inplace";
  r.pipelines = {{OpSpec::Default(OpKind::kHorizontalFlip), OpSpec::Default(OpKind::kSolarize)}};
  const AugmentedView v = MakeView(r, src, "x", 0, 0, 0);
  EXPECT_TRUE(SameBytes(src, copy));
  EXPECT_NE(v.image.data, src.data);
  cv::Mat expected;
  cv::flip(src, expected, 1);
  expected.forEach<cv::Vec3b>([](cv::Vec3b& px, const int*) {
    for (int c = 0; c < 3; ++c) px[c] = px[c] >= 128 ? 255 - px[c] : px[c];
  });
  EXPECT_TRUE(SameBytes(v.image, expected));
}

TEST(AugmentTest, IdenticalAcrossThreadCounts) {
  const Recipe r = Builtin("byol");
  std::vector<cv::Mat> sources;
  for (int i = 0; i < 4; ++i) sources.push_back(RandomImage(100 + 7 * i, 80 + 5 * i, 10 + i));
  const int n = 48;
  auto run = [&](int threads) {
    SetNumThreads(threads);
    std::vector<AugmentedView> views(n);
    ParallelFor(n, [&](int64_t i) {
      views[i] = MakeView(r, sources[i % 4], "s" + std::to_string(i % 4), i / 4, 9, 48);
    });
    return views;
  };
  const std::vector<AugmentedView> one = run(1);
  const std::vector<AugmentedView> two = run(2);
  SetNumThreads(0);
  for (int i = 0; i < n; ++i) {
    EXPECT_TRUE(SameBytes(one[i].image, two[i].image)) << i;
    EXPECT_EQ(one[i].params_json, two[i].params_json) << i;
  }
  // MakeViews is the same thing for one image.
  const std::vector<AugmentedView> many = MakeViews(r, sources[0], "s0", 0, n / 4, 9, 48);
  for (int k = 0; k < n / 4; ++k) EXPECT_TRUE(SameBytes(many[k].image, one[4 * k].image)) << k;
}

TEST(AugmentTest, ParamsJsonRecordsEveryDraw) {
  const cv::Mat src = RandomImage(200, 150, 4);
  Recipe r = Builtin("simclr");
  for (OpSpec& op : r.pipelines[0]) op.p = 1.0;  // make every op apply
  const AugmentedView v = MakeView(r, src, "p", 0, 5, 96);
  const nlohmann::json j = nlohmann::json::parse(v.params_json);
  EXPECT_EQ(j["recipe"], "simclr");
  EXPECT_EQ(j["pipeline"], 0);
  ASSERT_EQ(j["ops"].size(), 5u);
  const auto& crop = j["ops"][0];
  EXPECT_EQ(crop["op"], "random_resized_crop");
  EXPECT_TRUE(crop["applied"].get<bool>());
  ASSERT_EQ(crop["box"].size(), 4u);
  ASSERT_TRUE(v.crop.has_value());
  EXPECT_EQ(v.crop->x, crop["box"][0].get<double>());
  EXPECT_EQ(v.crop->w, crop["box"][2].get<double>());
  EXPECT_LE(v.crop->x + v.crop->w, 200);
  EXPECT_LE(v.crop->y + v.crop->h, 150);
  const auto& jitter = j["ops"][2];
  EXPECT_EQ(jitter["op"], "color_jitter");
  ASSERT_EQ(jitter["order"].size(), 4u);
  std::set<std::string> names;
  for (const auto& n : jitter["order"]) names.insert(n.get<std::string>());
  EXPECT_EQ(names, (std::set<std::string>{"brightness", "contrast", "saturation", "hue"}));
  EXPECT_GE(jitter["brightness"].get<double>(), 0.6);
  EXPECT_LE(jitter["brightness"].get<double>(), 1.4);
  EXPECT_LE(std::abs(jitter["hue"].get<double>()), 0.1);
  const auto& blur = j["ops"][4];
  EXPECT_EQ(blur["kernel_size"], 9);  // 10% of 96, made odd
  EXPECT_GE(blur["sigma"].get<double>(), 0.1);
  EXPECT_LE(blur["sigma"].get<double>(), 2.0);

  for (OpSpec& op : r.pipelines[0]) op.p = 0.0;
  const nlohmann::json none = nlohmann::json::parse(MakeView(r, src, "p", 0, 5, 96).params_json);
  for (const auto& op : none["ops"]) EXPECT_FALSE(op["applied"].get<bool>());
}

TEST(AugmentTest, JitterOrderVariesAcrossViews) {
  const cv::Mat src = RandomImage(64, 64, 5);
  Recipe r = Builtin("simclr");
  r.pipelines[0][2].p = 1.0;
  std::set<std::string> orders;
  for (int v = 0; v < 64; ++v) {
    const nlohmann::json j = nlohmann::json::parse(MakeView(r, src, "o", v, 0, 32).params_json);
    orders.insert(j["ops"][2]["order"].dump());
  }
  EXPECT_GT(orders.size(), 10u);  // 24 permutations exist
}

TEST(AugmentTest, ByolAlternatesPipelines) {
  const cv::Mat src = RandomImage(64, 64, 6);
  const Recipe r = Builtin("byol");
  for (int v = 0; v < 4; ++v) {
    const nlohmann::json j = nlohmann::json::parse(MakeView(r, src, "b", v, 0, 32).params_json);
    EXPECT_EQ(j["pipeline"], v % 2);
  }
}

TEST(AugmentTest, OutputSizeRules) {
  const cv::Mat src = RandomImage(80, 60, 7);
  Recipe no_crop;
  no_crop.name = "nocrop";
  no_crop.pipelines = {{OpSpec::Default(OpKind::kGrayscale)}};
  EXPECT_EQ(MakeView(no_crop, src, "s", 0, 0, 32).image.size(), cv::Size(32, 32));
  EXPECT_EQ(MakeView(no_crop, src, "s", 0, 0, 0).image.size(), cv::Size(80, 60));
  EXPECT_FALSE(MakeView(no_crop, src, "s", 0, 0, 0).crop.has_value());
  const Recipe simclr = Builtin("simclr");
  EXPECT_EQ(MakeView(simclr, src, "s", 0, 0, 0).image.size(), cv::Size(80, 60));
  Recipe sized = simclr;
  sized.pipelines[0][0].size = 40;
  EXPECT_EQ(MakeView(sized, src, "s", 0, 0, 100).image.size(), cv::Size(40, 40));
}

TEST(AugmentTest, AllOpsRun) {
  const cv::Mat src = RandomImage(90, 70, 8);
  Recipe r;
  r.name = "all";
  Pipeline p;
  for (const std::string& name : KnownOpNames()) {
    for (int kind = 0; kind <= static_cast<int>(OpKind::kGaussianNoise); ++kind)
      if (name == OpName(static_cast<OpKind>(kind))) p.push_back(OpSpec::Default(static_cast<OpKind>(kind)));
  }
  ASSERT_EQ(p.size(), KnownOpNames().size());
  for (OpSpec& op : p) {
    op.p = 1.0;
    op.brightness = op.contrast = op.saturation = 0.4;
    op.hue = 0.1;
  }
  p[7].degrees = {-20, 20};
  r.pipelines = {p};
  const AugmentedView v = MakeView(r, src, "all", 3, 1, 64);
  EXPECT_EQ(v.image.size(), cv::Size(64, 64));
  const nlohmann::json j = nlohmann::json::parse(v.params_json);
  ASSERT_EQ(j["ops"].size(), p.size());
  EXPECT_TRUE(j["ops"][7].contains("angle"));
  EXPECT_TRUE(j["ops"][9].contains("quality"));
  EXPECT_TRUE(j["ops"][10].contains("sigma"));
}

TEST(AugmentTest, RejectsBadInputs) {
  const Recipe r = Builtin("simclr");
  EXPECT_THROW(MakeView(r, cv::Mat(), "e", 0, 0, 32), Error);
  EXPECT_THROW(MakeView(r, cv::Mat(8, 8, CV_8UC1), "g", 0, 0, 32), Error);
  Recipe bad = r;
  bad.pipelines[0][2].hue = 0.9;
  EXPECT_THROW(MakeView(bad, RandomImage(16, 16, 1), "h", 0, 0, 8), Error);
  Recipe empty;
  EXPECT_THROW(MakeView(empty, RandomImage(16, 16, 1), "h", 0, 0, 8), Error);
}

TEST(AugmentTest, BenchFunctionRuns) {
  const double rate = BenchAugmentViewsPerSecond(Builtin("simclr"), 64, 1, 16);
  EXPECT_GT(rate, 0.0);
}

}  // namespace
}  // namespace synthlens
