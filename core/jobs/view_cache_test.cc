#include "core/jobs/view_cache.h"

#include <gtest/gtest.h>

#include "core/io/image_source.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

GeneratedView View(int index, int value) {
  GeneratedView v;
  v.image = cv::Mat(4, 4, CV_8UC3, cv::Scalar(value, value, value));
  v.view_index = index;
  v.params_json = "{\"view\":" + std::to_string(index) + "}";
  return v;
}

TEST(ViewCacheTest, ViewsComeBackPerSourceAndSettings) {
  auto project = OpenSqliteProject(":memory:");
  testing::TempDir a, b;
  const nlohmann::json settings = {{"mode", "img2img"}, {"seed", 3}};
  const std::string set_a = ViewCacheSetName(a.path(), "0123456789abcdef0123", "views", settings);
  const std::string set_b = ViewCacheSetName(b.path(), "0123456789abcdef0123", "views", settings);
  // Two folders with the same image id never share views.
  EXPECT_NE(set_a, set_b);
  CacheViews(*project, set_a, a.path(), "img1.png", "hash", {View(0, 10), View(1, 20)}, 3);
  CacheViews(*project, set_b, b.path(), "img1.png", "hash", {View(0, 200), View(1, 210)}, 3);
  auto got_a = CachedViews(*project, set_a, "img1.png", 2);
  auto got_b = CachedViews(*project, set_b, "img1.png", 2);
  ASSERT_EQ(got_a.size(), 2u);
  ASSERT_EQ(got_b.size(), 2u);
  EXPECT_EQ(got_a[1].image.at<cv::Vec3b>(0, 0)[0], 20);
  EXPECT_EQ(got_b[1].image.at<cv::Vec3b>(0, 0)[0], 210);
  EXPECT_EQ(got_a[1].params_json, "{\"view\":1}");
  // Another spelling of the same folder is the same set.
  EXPECT_EQ(ViewCacheSetName(a.path() + "/", "0123456789abcdef0123", "views", settings), set_a);
  // Other settings, or another count than expected: nothing.
  EXPECT_NE(ViewCacheSetName(a.path(), "0123456789abcdef0123", "views", {{"mode", "img2img"}, {"seed", 4}}), set_a);
  EXPECT_TRUE(CachedViews(*project, set_a, "img1.png", 3).empty());
  EXPECT_TRUE(CachedViews(*project, set_a, "other.png", 2).empty());
  // Replacing keeps one copy.
  CacheViews(*project, set_a, a.path(), "img1.png", "hash", {View(0, 30), View(1, 40)}, 3);
  EXPECT_EQ(CachedViews(*project, set_a, "img1.png", 2)[0].image.at<cv::Vec3b>(0, 0)[0], 30);
  // The source set is registered under its key.
  EXPECT_TRUE(project->FindImageSet(SourceKey(a.path())).has_value());
}

}  // namespace
}  // namespace synthlens
