#include "core/infer/generator.h"

#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/generator_test_util.h"
#include "core/util/random.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using namespace generator_test;  // NOLINT

double MeanGrey(const cv::Mat& rgb) { return cv::mean(rgb)[0]; }

class GeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    package_ = MakePackages(dir_.Join("pk"), FullConditioning());
    auto g = Generator::Open(package_, Device{});
    ASSERT_TRUE(g.ok()) << g.error();
    generator_ = std::move(g).value();
  }
  testing::TempDir dir_;
  std::string package_;
  std::unique_ptr<Generator> generator_;
};

TEST_F(GeneratorTest, OpensThePackageAndItsEncoder) {
  EXPECT_EQ(generator_->manifest().name, "analytic-diffusion");
  EXPECT_EQ(generator_->model_hash().size(), 64u);
  EXPECT_EQ(generator_->model_hash(), generator_->manifest().hash);
}

TEST_F(GeneratorTest, Img2ImgStrengthZeroReturnsTheSourceExactly) {
  GenerateOptions o;
  o.strength = 0.0;
  o.views = 2;
  const std::vector<cv::Mat> src = {GreySource(1), GreySource(2)};
  auto out = generator_->Generate(src, {"a", "b"}, {0, 1}, o, nullptr);
  ASSERT_TRUE(out.ok()) << out.error();
  ASSERT_EQ(out->size(), 2u);
  for (size_t i = 0; i < 2; ++i) {
    ASSERT_EQ((*out)[i].size(), 2u);
    for (const GeneratedView& v : (*out)[i]) EXPECT_TRUE(SameImage(v.image, src[i]));
  }
  // Small strength stays close (one DDIM step from t = 39), large strength moves far.
  auto distance = [&](double strength) {
    o.strength = strength;
    auto r = generator_->Generate(src, {"a", "b"}, {0, 1}, o, nullptr);
    EXPECT_TRUE(r.ok()) << r.error();
    return cv::norm((*r)[0][0].image, src[0], cv::NORM_L1) / (kRes * kRes * 3);
  };
  const double near = distance(0.05), far = distance(0.9);
  EXPECT_LT(near, far);
  EXPECT_GT(far, 20.0);
}

// View k of source s depends on nothing but (model, options, source, s, k): not on the batch
// size nor on the other sources of the batch.
TEST_F(GeneratorTest, ViewsAreIndependentOfBatchingAndNeighbours) {
  for (const char* mode : {"img2img", "instance", "multipositive"}) {
    GenerateOptions o;
    o.mode = mode;
    o.views = 3;
    o.steps = 10;
    o.eta = 0.5;
    o.seed = 42;
    o.batch = 8;
    const std::vector<cv::Mat> src = {GreySource(1), GreySource(2), GreySource(3)};
    auto all = generator_->Generate(src, {"a", "b", "c"}, {0, 1, 2}, o, nullptr);
    ASSERT_TRUE(all.ok()) << all.error();
    o.batch = 1;
    auto alone = generator_->Generate({src[1]}, {"b"}, {1}, o, nullptr);
    ASSERT_TRUE(alone.ok()) << alone.error();
    for (int k = 0; k < 3; ++k) {
      EXPECT_TRUE(SameImage((*all)[1][k].image, (*alone)[0][k].image)) << mode << " view " << k;
      EXPECT_EQ((*all)[1][k].params_json, (*alone)[0][k].params_json);
      EXPECT_EQ((*all)[1][k].view_index, k);
    }
    // Views of one source differ from each other; the same call gives the same bytes.
    EXPECT_FALSE(SameImage((*all)[1][0].image, (*all)[1][1].image)) << mode;
    auto again = generator_->Generate({src[1]}, {"b"}, {1}, o, nullptr);
    EXPECT_TRUE(SameImage((*again)[0][2].image, (*alone)[0][2].image));
    // Another seed gives other views.
    o.seed = 43;
    auto other = generator_->Generate({src[1]}, {"b"}, {1}, o, nullptr);
    EXPECT_FALSE(SameImage((*other)[0][0].image, (*alone)[0][0].image)) << mode;
  }
}

// Chosen view indices give exactly the views Generate makes at those indices.
TEST_F(GeneratorTest, GenerateViewsMatchesGenerateAtTheChosenIndices) {
  GenerateOptions o;
  o.views = 4;
  o.steps = 8;
  o.eta = 0.3;
  o.seed = 9;
  const std::vector<cv::Mat> src = {GreySource(1), GreySource(2)};
  auto all = generator_->Generate(src, {"a", "b"}, {0, 1}, o, nullptr);
  ASSERT_TRUE(all.ok()) << all.error();
  auto some = generator_->GenerateViews(src, {"a", "b"}, {0, 1}, {{3, 1}, {}}, o, nullptr);
  ASSERT_TRUE(some.ok()) << some.error();
  ASSERT_EQ((*some)[0].size(), 2u);
  EXPECT_TRUE((*some)[1].empty());
  EXPECT_EQ((*some)[0][0].view_index, 3);
  EXPECT_TRUE(SameImage((*some)[0][0].image, (*all)[0][3].image));
  EXPECT_EQ((*some)[0][0].params_json, (*all)[0][3].params_json);
  EXPECT_TRUE(SameImage((*some)[0][1].image, (*all)[0][1].image));
}

TEST_F(GeneratorTest, ParamsRecordProvenance) {
  GenerateOptions o;
  o.mode = "multipositive";
  o.views = 2;
  o.seed = 7;
  o.steps = 5;
  auto out = generator_->Generate({GreySource(1)}, {"img/1.png"}, {2}, o, nullptr);
  ASSERT_TRUE(out.ok()) << out.error();
  const json p = json::parse((*out)[0][1].params_json);
  EXPECT_EQ(p["mode"], "multipositive");
  EXPECT_EQ(p["group"], "img/1.png");
  EXPECT_EQ(p["class"], 2);
  EXPECT_EQ(p["view"], 1);
  EXPECT_EQ(p["seed"], 7);
  EXPECT_EQ(p["view_seed"].get<uint64_t>(), ViewSeed(7, "img/1.png", 1, kGenerativeSeedStream));
  EXPECT_EQ(p["model_hash"], generator_->model_hash());
  EXPECT_EQ(p["strength"], 1.0);
  EXPECT_EQ(p["embedding"], "null");
  EXPECT_EQ(p["sampler"], "ddim");
  EXPECT_EQ(p["spacing"], "trailing");
  EXPECT_EQ(p["timesteps"], 5);
  EXPECT_EQ(p["t_start"], 999);
}

// The analytic model's data mean follows the condition, so the generated images show which
// condition was used: class c -> 0.2 (c + 1) - 0.5; embedding adds the source's mean pixel.
TEST_F(GeneratorTest, ModesUseTheirConditions) {
  GenerateOptions o;
  o.views = 4;
  o.steps = 20;
  o.guidance = 1.0;
  o.mode = "multipositive";
  auto low = generator_->Generate({GreySource(1)}, {"a"}, {0}, o, nullptr);
  auto high = generator_->Generate({GreySource(1)}, {"a"}, {3}, o, nullptr);
  ASSERT_TRUE(low.ok() && high.ok());
  // Class 0: mu = -0.3 -> grey 89; class 3: mu = 0.3 -> grey 166.
  EXPECT_NEAR(MeanGrey((*low)[0][0].image), 89, 15);
  EXPECT_NEAR(MeanGrey((*high)[0][0].image), 166, 15);
  o.class_id = 3;  // overrides the label
  auto forced = generator_->Generate({GreySource(1)}, {"a"}, {0}, o, nullptr);
  EXPECT_NEAR(MeanGrey((*forced)[0][0].image), 166, 15);

  // img2img conditioned on each source's own label gives exactly the views of an explicit
  // class_id equal to that label.
  o = GenerateOptions();
  o.mode = "img2img";
  o.strength = 0.8;
  o.steps = 20;
  o.class_id = kClassOfSourceLabel;
  auto by_label = generator_->Generate({GreySource(1), GreySource(2)}, {"l0", "l3"}, {0, 3}, o,
                                       nullptr);
  ASSERT_TRUE(by_label.ok()) << by_label.error();
  EXPECT_EQ(json::parse((*by_label)[0][0].params_json)["class"], 0);
  EXPECT_EQ(json::parse((*by_label)[1][0].params_json)["class"], 3);
  GenerateOptions explicit3 = o;
  explicit3.class_id = 3;
  auto forced3 = generator_->Generate({GreySource(2)}, {"l3"}, {-1}, explicit3, nullptr);
  ASSERT_TRUE(forced3.ok()) << forced3.error();
  EXPECT_EQ(cv::norm((*by_label)[1][0].image, (*forced3)[0][0].image, cv::NORM_INF), 0);
  GenerateOptions none = o;
  none.class_id = -1;
  auto unconditioned = generator_->Generate({GreySource(2)}, {"l3"}, {3}, none, nullptr);
  ASSERT_TRUE(unconditioned.ok()) << unconditioned.error();
  EXPECT_GT(cv::norm((*by_label)[1][0].image, (*unconditioned)[0][0].image, cv::NORM_INF), 0);
  auto unlabelled = generator_->Generate({GreySource(1)}, {"u"}, {-1}, o, nullptr);
  ASSERT_FALSE(unlabelled.ok());
  EXPECT_NE(unlabelled.error().find("'u' has no label"), std::string::npos) << unlabelled.error();

  // instance: null class (mu -0.5) + the source's mean pixel in [0, 1] from the encoder.
  o = GenerateOptions();
  o.mode = "instance";
  o.steps = 20;
  o.guidance = 1.0;
  auto dark = generator_->Generate({GreySource(1, kRes, 0, 30)}, {"d"}, {-1}, o, nullptr);
  auto bright = generator_->Generate({GreySource(1, kRes, 230, 256)}, {"b"}, {-1}, o, nullptr);
  ASSERT_TRUE(dark.ok() && bright.ok()) << dark.error() << bright.error();
  EXPECT_NEAR(MeanGrey((*dark)[0][0].image), 127.5 * (1 - 0.5 + 0.06), 15);
  EXPECT_NEAR(MeanGrey((*bright)[0][0].image), 127.5 * (1 - 0.5 + 0.95), 15);
  EXPECT_EQ(json::parse((*dark)[0][0].params_json)["embedding"], "source");
  EXPECT_EQ(json::parse((*dark)[0][0].params_json)["encoder"], "enc");
}

TEST_F(GeneratorTest, ExpectedFailures) {
  GenerateOptions o;
  o.mode = "multipositive";
  auto r = generator_->Generate({GreySource(1)}, {"x"}, {-1}, o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("'x' has no label"), std::string::npos) << r.error();
  o.class_id = kClasses;
  r = generator_->Generate({GreySource(1)}, {"x"}, {-1}, o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("out of range"), std::string::npos) << r.error();
  o = GenerateOptions();
  o.mode = "dream";
  r = generator_->Generate({GreySource(1)}, {"x"}, {0}, o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("mode 'dream'"), std::string::npos) << r.error();
  o = GenerateOptions();
  o.precision = "fp16";
  r = generator_->Generate({GreySource(1)}, {"x"}, {0}, o, nullptr);
  ASSERT_FALSE(r.ok());  // fp16 needs CUDA
  EXPECT_THROW(generator_->Generate({GreySource(1)}, {"x", "y"}, {0}, GenerateOptions(), nullptr),
               Error);
  cv::Mat grey(8, 8, CV_8UC1, cv::Scalar(3));
  EXPECT_THROW(generator_->Generate({grey}, {"x"}, {0}, GenerateOptions(), nullptr), Error);

  auto missing = Generator::Open(dir_.Join("nope/"), Device{});
  ASSERT_FALSE(missing.ok());
  auto cuda = Generator::Open(package_, Device{Device::Type::kCuda, 63});
  ASSERT_FALSE(cuda.ok());
  EXPECT_NE(cuda.error().find("cuda:63"), std::string::npos) << cuda.error();
}

TEST_F(GeneratorTest, ProgressAndCancel) {
  GenerateOptions o;
  o.views = 3;
  o.batch = 2;
  o.steps = 3;
  std::vector<double> seen;
  auto all =
      generator_->Generate({GreySource(1), GreySource(2)}, {"a", "b"}, {0, 1}, o, [&](double f) {
        seen.push_back(f);
        return true;
      });
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(seen, (std::vector<double>{2.0 / 6, 4.0 / 6, 1.0}));
  auto cancelled = generator_->Generate({GreySource(1), GreySource(2)}, {"a", "b"}, {0, 1}, o,
                                        [](double f) { return f < 0.5; });
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ((*cancelled)[0].size(), 3u);  // views 0-2 of a, view 0 of b: two batches of 2
  EXPECT_EQ((*cancelled)[1].size(), 1u);
  EXPECT_TRUE(SameImage((*cancelled)[1][0].image, (*all)[1][0].image));
}

TEST(GeneratorPackageTest, UnconditionalModelAndMissingEncoder) {
  testing::TempDir dir;
  // No conditioning: img2img works (guidance is moot and recorded as 1), instance cannot.
  const std::string plain = MakePackages(dir.Join("plain"), json());
  auto g = Generator::Open(plain, Device{});
  ASSERT_TRUE(g.ok()) << g.error();
  GenerateOptions o;
  o.steps = 4;
  auto r = (*g)->Generate({GreySource(1)}, {"a"}, {-1}, o, nullptr);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(json::parse((*r)[0][0].params_json)["guidance"], 1.0);
  o.mode = "instance";
  r = (*g)->Generate({GreySource(1)}, {"a"}, {-1}, o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("not embedding-conditioned"), std::string::npos) << r.error();
  // An embedding model whose encoder is missing opens; instance mode then names the problem.
  const std::string lonely = MakePackages(dir.Join("lonely"), FullConditioning());
  fs::remove_all(dir.Join("lonely/enc"));
  g = Generator::Open(lonely, Device{});
  ASSERT_TRUE(g.ok()) << g.error();
  r = (*g)->Generate({GreySource(1)}, {"a"}, {-1}, o, nullptr);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("embedding encoder"), std::string::npos) << r.error();
  // ... and an explicit encoder package fixes it.
  const std::string other = MakePackages(dir.Join("other"), FullConditioning());
  g = Generator::Open(lonely, Device{}, dir.Join("other/enc"));
  ASSERT_TRUE(g.ok()) << g.error();
  r = (*g)->Generate({GreySource(1)}, {"a"}, {-1}, o, nullptr);
  EXPECT_TRUE(r.ok()) << r.error();
}

}  // namespace
}  // namespace synthlens
