#include "core/jobs/domain_check.h"

#include <gtest/gtest.h>

#include "core/infer/model_package.h"

namespace synthlens {
namespace {

ModelManifest GreyModel() {
  ModelManifest m;
  m.kind = "diffusion";
  m.name = "grey28";
  m.input.resolution = 28;
  m.input.channels = 1;
  m.diffusion.conditioning.num_classes = 3;
  return m;
}

bool Has(const std::vector<std::string>& lines, const std::string& part) {
  for (const auto& l : lines) {
    if (l.find(part) != std::string::npos) return true;
  }
  return false;
}

TEST(DomainCheckTest, ColourLargeAndOblongImagesAreSaidOut) {
  cv::Mat photo(480, 640, CV_8UC3, cv::Scalar(30, 120, 220));  // orange-ish, 640x480
  cv::Mat grey_rgb(28, 28, CV_8UC3, cv::Scalar(90, 90, 90));
  const ModelManifest m = GreyModel();
  const DomainCheck bad = CheckDomain(m, {}, {photo}, false, {});
  EXPECT_TRUE(bad.ok());
  EXPECT_TRUE(Has(bad.warnings, "colour images: model 'grey28' works in grey")) << bad.warnings.size();
  EXPECT_TRUE(Has(bad.warnings, "640x480 images are shrunk to 28x28"));
  EXPECT_TRUE(Has(bad.warnings, "non-square images are squashed to 28x28"));
  // Grey images stored as RGB at the model's size: nothing to say.
  EXPECT_TRUE(CheckDomain(m, {}, {grey_rgb}, false, {}).warnings.empty());
  // Tiny images are enlarged.
  EXPECT_TRUE(Has(CheckDomain(m, {}, {cv::Mat(8, 8, CV_8UC1, cv::Scalar(3))}, false, {}).warnings, "enlarged"));
}

TEST(DomainCheckTest, ClassesAreMatchedByNameNeverByNumber) {
  const ModelManifest m = GreyModel();
  const std::vector<std::string> model_names = {"cat", "dog", "bird"};
  // Same names in another order: mapped by name.
  DomainCheck check = CheckDomain(m, {"dog", "fish", "cat"}, {}, true, model_names);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.class_of_label, (std::vector<int>{1, -1, 0}));
  EXPECT_TRUE(Has(check.warnings, "classes not known to model 'grey28' (fish)"));
  EXPECT_EQ(MapLabels(check, {0, 1, 2, -1, 7}), (std::vector<int>{1, -1, 0, -1, -1}));
  // No class in common: an error, not T-shirts.
  check = CheckDomain(m, {"cls"}, {}, true, model_names);
  EXPECT_FALSE(check.ok());
  EXPECT_NE(check.error.find("none of the source's classes (cls) is a class of model 'grey28'"), std::string::npos)
      << check.error;
  // A model that does not name its classes: nothing to match by; numbers, said.
  check = CheckDomain(m, {"cls"}, {}, true, {});
  EXPECT_TRUE(check.ok());
  EXPECT_TRUE(Has(check.warnings, "does not name its classes"));
  EXPECT_EQ(check.class_of_label, (std::vector<int>{0, 1, 2}));
  // Unnamed labels: taken as class numbers, and said so.
  check = CheckDomain(m, {}, {}, true, model_names);
  EXPECT_TRUE(check.ok());
  EXPECT_EQ(check.class_of_label, (std::vector<int>{0, 1, 2}));
  EXPECT_TRUE(Has(check.warnings, "labels have no names"));
  // Without label conditioning, classes are not looked at.
  EXPECT_TRUE(CheckDomain(m, {"cls"}, {}, false, {}).ok());
}

TEST(DomainCheckTest, TheBundledModelNamesItsClassesThroughItsTrainingSet) {
  auto model = ReadModelPackage("builtin", "diffusion");
  ASSERT_TRUE(model.ok()) << model.error();
  const std::vector<std::string> names = ModelClassNames(*model);
  ASSERT_EQ(names.size(), 10u);
  EXPECT_EQ(names[0], "T-shirt/top");
  EXPECT_EQ(names[9], "Ankle boot");
}

}  // namespace
}  // namespace synthlens
