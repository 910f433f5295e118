#include "core/augment/recipe.h"

#include <string>

#include <gtest/gtest.h>

#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

const char kOrigin[] = "bad.json";

// Parses text that must fail and returns the message.
std::string ErrorOf(const std::string& text) {
  Result<Recipe> r = ParseRecipe(text, kOrigin);
  EXPECT_FALSE(r.ok()) << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.error().rfind(kOrigin, 0), 0u) << "message must start with the file: " << r.error();
  return r.error();
}

std::string OneOp(const std::string& op_json) {
  return R"({"name": "t", "pipelines": [[)" + op_json + "]]}";
}

TEST(RecipeTest, BuiltinsLoadWithoutResources) {
  EXPECT_EQ(BuiltinRecipeNames(), (std::vector<std::string>{"simclr", "byol", "mocov2"}));
  for (const std::string& name : BuiltinRecipeNames()) {
    Result<Recipe> r = LoadRecipe(name);
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->name, name);
    EXPECT_EQ(ValidateRecipe(*r), "");
  }
}

TEST(RecipeTest, SimclrMatchesThePaper) {
  const Recipe r = LoadRecipe("simclr").value();
  ASSERT_EQ(r.pipelines.size(), 1u);
  const Pipeline& p = r.pipelines[0];
  ASSERT_EQ(p.size(), 5u);
  EXPECT_EQ(p[0].kind, OpKind::kRandomResizedCrop);
  EXPECT_DOUBLE_EQ(p[0].scale[0], 0.08);
  EXPECT_EQ(p[1].kind, OpKind::kHorizontalFlip);
  EXPECT_DOUBLE_EQ(p[1].p, 0.5);
  EXPECT_EQ(p[2].kind, OpKind::kColorJitter);
  EXPECT_DOUBLE_EQ(p[2].p, 0.8);
  EXPECT_DOUBLE_EQ(p[2].saturation, 0.4);
  EXPECT_DOUBLE_EQ(p[2].hue, 0.1);
  EXPECT_EQ(p[3].kind, OpKind::kGrayscale);
  EXPECT_DOUBLE_EQ(p[3].p, 0.2);
  EXPECT_EQ(p[4].kind, OpKind::kGaussianBlur);
  EXPECT_DOUBLE_EQ(p[4].kernel_fraction, 0.1);
  EXPECT_DOUBLE_EQ(p[4].p, 0.5);
}

TEST(RecipeTest, ByolIsAsymmetric) {
  const Recipe r = LoadRecipe("byol").value();
  ASSERT_EQ(r.pipelines.size(), 2u);
  auto find = [](const Pipeline& p, OpKind kind) {
    for (const OpSpec& op : p)
      if (op.kind == kind) return op;
    ADD_FAILURE() << "missing op " << OpName(kind);
    return OpSpec();
  };
  EXPECT_DOUBLE_EQ(find(r.pipelines[0], OpKind::kGaussianBlur).p, 1.0);
  EXPECT_DOUBLE_EQ(find(r.pipelines[1], OpKind::kGaussianBlur).p, 0.1);
  EXPECT_DOUBLE_EQ(find(r.pipelines[0], OpKind::kSolarize).p, 0.0);
  EXPECT_DOUBLE_EQ(find(r.pipelines[1], OpKind::kSolarize).p, 0.2);
  EXPECT_DOUBLE_EQ(find(r.pipelines[1], OpKind::kColorJitter).saturation, 0.2);
}

TEST(RecipeTest, BuiltinsEqualTheResourceFiles) {
  for (const std::string& name : BuiltinRecipeNames()) {
    const std::string path = std::string(SYNTHLENS_SOURCE_DIR) + "/resources/recipes/" + name + ".json";
    Result<Recipe> from_file = LoadRecipe(path);
    ASSERT_TRUE(from_file.ok()) << from_file.error();
    EXPECT_EQ(RecipeToJson(*from_file), RecipeToJson(LoadRecipe(name).value()));
  }
}

TEST(RecipeTest, RoundTripsThroughJsonAndFiles) {
  Recipe r;
  r.name = "everything";
  Pipeline p;
  for (const std::string& name : KnownOpNames()) {
    Result<Recipe> one = ParseRecipe(OneOp(R"({"op": ")" + name + R"(", "p": 0.25})"), "x.json");
    ASSERT_TRUE(one.ok()) << one.error();
    p.push_back(one->pipelines[0][0]);
  }
  p[0].interpolation = Interpolation::kBicubic;
  p[0].size = 96;
  p.push_back(OpSpec::Default(OpKind::kGaussianBlur));
  p.back().kernel_fraction = 0;
  p.back().kernel_size = 7;
  p.push_back(OpSpec::Default(OpKind::kRandomErasing));
  p.back().erase_random = true;
  r.pipelines = {p, {}};
  const std::string json = RecipeToJson(r);
  Result<Recipe> back = ParseRecipe(json, "round.json");
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(RecipeToJson(*back), json);

  testing::TempDir dir;
  ASSERT_EQ(SaveRecipe(r, dir.Join("r.json")), "");
  Result<Recipe> loaded = LoadRecipe(dir.Join("r.json"));
  ASSERT_TRUE(loaded.ok()) << loaded.error();
  EXPECT_EQ(RecipeToJson(*loaded), json);
}

TEST(RecipeTest, MalformedJsonNamesFileAndLine) {
  const std::string e = ErrorOf("{\n  \"name\": \"x\",\n  \"pipelines\": [[ {\"op\": } ]]\n}");
  EXPECT_NE(e.find("bad.json:3:"), std::string::npos) << e;
  EXPECT_NE(e.find("malformed JSON"), std::string::npos) << e;
}

TEST(RecipeTest, UnknownOpListsKnownOnes) {
  const std::string e = ErrorOf(OneOp(R"({"op": "sharpen"})"));
  EXPECT_NE(e.find("unknown op \"sharpen\""), std::string::npos) << e;
  EXPECT_NE(e.find("random_resized_crop"), std::string::npos) << e;
  EXPECT_NE(e.find("gaussian_noise"), std::string::npos) << e;
}

TEST(RecipeTest, UnknownKeysAreRejected) {
  std::string e = ErrorOf(OneOp(R"({"op": "color_jitter", "brigthness": 0.4})"));
  EXPECT_NE(e.find("unknown key \"brigthness\""), std::string::npos) << e;
  EXPECT_NE(e.find("pipeline 1, op 1 (color_jitter)"), std::string::npos) << e;
  e = ErrorOf(R"({"name": "x", "pipelines": [[]], "extra": 1})");
  EXPECT_NE(e.find("unknown key \"extra\""), std::string::npos) << e;
}

TEST(RecipeTest, WrongTypesAreRejected) {
  std::string e = ErrorOf(OneOp(R"({"op": "horizontal_flip", "p": "half"})"));
  EXPECT_NE(e.find("\"p\" must be a number"), std::string::npos) << e;
  e = ErrorOf(OneOp(R"({"op": "random_resized_crop", "scale": 0.5})"));
  EXPECT_NE(e.find("\"scale\" must be a [low, high] pair"), std::string::npos) << e;
  e = ErrorOf(OneOp(R"({"op": "gaussian_blur", "kernel_size": 3.5})"));
  EXPECT_NE(e.find("\"kernel_size\" must be an integer"), std::string::npos) << e;
  e = ErrorOf(R"({"name": "x", "pipelines": {}})");
  EXPECT_NE(e.find("\"pipelines\" must be a non-empty list"), std::string::npos) << e;
  e = ErrorOf(R"({"name": "x"})");
  EXPECT_NE(e.find("missing key \"pipelines\""), std::string::npos) << e;
  e = ErrorOf(OneOp(R"({"op": "random_resized_crop", "interpolation": "lanczos"})"));
  EXPECT_NE(e.find("\"interpolation\" must be"), std::string::npos) << e;
}

TEST(RecipeTest, BadRangesAreRejected) {
  struct Case {
    const char* op;
    const char* expected;
  } cases[] = {
      {R"({"op": "horizontal_flip", "p": 1.5})", "p 1.5 outside [0, 1]"},
      {R"({"op": "random_resized_crop", "scale": [0.9, 0.2]})", "scale [0.9, 0.2] must satisfy"},
      {R"({"op": "random_resized_crop", "ratio": [0, 1]})", "ratio [0, 1] must satisfy"},
      {R"({"op": "gaussian_blur", "sigma": [-1, 2]})", "sigma [-1, 2] must satisfy 0 < low"},
      {R"({"op": "gaussian_blur", "kernel_size": 4})", "kernel_size 4 must be a positive odd integer"},
      {R"({"op": "color_jitter", "hue": 0.7})", "hue 0.7 outside [0, 0.5]"},
      {R"({"op": "color_jitter", "contrast": -0.1})", "contrast -0.1 is negative"},
      {R"({"op": "jpeg", "quality": [90, 10]})", "quality [90, 10] must satisfy"},
      {R"({"op": "solarize", "threshold": 300})", "threshold 300 outside [0, 256]"},
      {R"({"op": "random_erasing", "value": 256})", "value 256 outside [0, 255]"},
      {R"({"op": "gaussian_noise", "sigma": [5, 1]})", "sigma [5, 1] must satisfy 0 <= low"},
  };
  for (const Case& c : cases) {
    const std::string e = ErrorOf(OneOp(c.op));
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.op << " -> " << e;
    EXPECT_NE(e.find("pipeline 1, op 1"), std::string::npos) << e;
  }
}

TEST(RecipeTest, LoadReportsMissingFileAndUnknownName) {
  Result<Recipe> r = LoadRecipe("/nonexistent/recipe.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("/nonexistent/recipe.json"), std::string::npos) << r.error();
  r = LoadRecipe("simclrr");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().find("simclr, byol, mocov2"), std::string::npos) << r.error();
  testing::TempDir dir;
  ASSERT_EQ(WriteFileAtomic(dir.Join("bad.json"), OneOp(R"({"op": "solarize", "threshold": -3})")), "");
  r = LoadRecipe(dir.Join("bad.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().rfind(dir.Join("bad.json"), 0), 0u) << r.error();
}

TEST(RecipeTest, KnobsReadAndApply) {
  const Recipe simclr = LoadRecipe("simclr").value();
  RecipeKnobs k = KnobsOf(simclr);
  EXPECT_DOUBLE_EQ(k.crop_min_scale, 0.08);
  EXPECT_DOUBLE_EQ(k.color_jitter, 0.5);
  EXPECT_DOUBLE_EQ(k.blur_sigma_max, 2.0);
  EXPECT_EQ(RecipeToJson(WithKnobs(simclr, k)), RecipeToJson(simclr));

  k.crop_min_scale = 0.3;
  k.color_jitter = 1.0;
  k.blur_sigma_max = 3.0;
  const Recipe changed = WithKnobs(simclr, k);
  EXPECT_EQ(ValidateRecipe(changed), "");
  const Pipeline& p = changed.pipelines[0];
  EXPECT_DOUBLE_EQ(p[0].scale[0], 0.3);
  EXPECT_DOUBLE_EQ(p[2].brightness, 0.8);
  EXPECT_DOUBLE_EQ(p[2].saturation, 0.8);
  EXPECT_DOUBLE_EQ(p[2].hue, 0.2);
  EXPECT_DOUBLE_EQ(p[4].sigma[1], 3.0);
  const RecipeKnobs back = KnobsOf(changed);
  EXPECT_DOUBLE_EQ(back.crop_min_scale, 0.3);
  EXPECT_DOUBLE_EQ(back.color_jitter, 1.0);
  EXPECT_DOUBLE_EQ(back.blur_sigma_max, 3.0);

  // Hue is capped at 0.5; BYOL keeps its weaker saturation in proportion, in both views.
  k.color_jitter = 2.0;
  const Recipe byol = WithKnobs(LoadRecipe("byol").value(), k);
  for (const Pipeline& pipeline : byol.pipelines) {
    EXPECT_DOUBLE_EQ(pipeline[2].brightness, 1.6);
    EXPECT_DOUBLE_EQ(pipeline[2].saturation, 0.8);
    EXPECT_DOUBLE_EQ(pipeline[2].hue, 0.4);
  }
  k.color_jitter = 5.0;
  EXPECT_DOUBLE_EQ(WithKnobs(simclr, k).pipelines[0][2].hue, 0.5);
  k.crop_min_scale = 0;
  EXPECT_THROW(WithKnobs(simclr, k), Error);
}

}  // namespace
}  // namespace synthlens
