// Source keys: a project written with the sources as typed (what builds before SourceKey wrote:
// "views/" for a folder given with a trailing slash, a relative path) is renamed once, on open,
// and every reader finds its views, cached embeddings and hand labels under SourceKey.
#include "core/jobs/project_open.h"

#include <filesystem>

#include <gtest/gtest.h>

#include "core/io/image_source.h"
#include "core/store/labels.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

namespace fs = std::filesystem;

TEST(ProjectOpenTest, OldSourceSpellingsAreRenamedToTheirKeysOnce) {
  testing::TempDir dir;
  fs::create_directories(dir.Join("data/imgs"));
  const std::string project_path = dir.Join("p.synthlens");
  const fs::path previous = fs::current_path();
  fs::current_path(dir.path());
  {
    // As the older build wrote it, run from `dir` with relative, slashed spellings.
    auto project = OpenSqliteProject(project_path);
    const int64_t real = project->GetOrAddImageSet("data/imgs/", "data/imgs/", SetRole::kReal);
    const int64_t out = project->GetOrAddImageSet("generate:img2img:fmnist-diffusion:data/imgs/", "data/imgs/",
                                                  SetRole::kAugmented);
    ViewRecord v;
    v.set_id = out;
    v.source_set_id = real;
    v.source_id = "a.png";
    v.view_index = 0;
    v.kind = ViewKind::kGenerative;
    v.params_json = "{}";
    project->AddViews({v});
    EmbeddingSetRecord e;
    e.key = {"./data/imgs", "listing", "encoder", "{}", "cpu fp32"};
    e.matrix = cv::Mat::ones(1, 2, CV_32F);
    e.ids = {"a.png"};
    e.labels = {-1};
    e.rows = 1;
    e.dims = 2;
    project->SaveEmbeddings(e);
    project->SetSetting("other", "kept");
  }
  {
    auto labels = LabelStore::Open(project_path);
    labels->ToggleCategory({{"data/imgs/", "a.png"}}, 4);
  }
  const std::string key = SourceKey("data/imgs");
  ASSERT_EQ(key, fs::weakly_canonical(dir.Join("data/imgs")).string());
  auto project = OpenProject(project_path);
  fs::current_path(previous);
  // Image sets, by name and source.
  ASSERT_TRUE(project->FindImageSet(key).has_value());
  EXPECT_EQ(project->FindImageSet(key)->source, key);
  const auto out = project->FindImageSet("generate:img2img:fmnist-diffusion:" + key);
  ASSERT_TRUE(out.has_value());
  EXPECT_EQ(out->source, key);
  EXPECT_EQ(project->Views(out->id, "a.png").size(), 1u);
  EXPECT_FALSE(project->FindImageSet("data/imgs/").has_value());
  // The embedding cache.
  EXPECT_TRUE(project->FindEmbeddings({key, "listing", "encoder", "{}", "cpu fp32"}).has_value());
  // Hand labels.
  auto labels = LabelStore::Open(project_path);
  ASSERT_EQ(labels->All(key).size(), 1u);
  EXPECT_TRUE(labels->All("data/imgs/").empty());
  EXPECT_EQ(project->SourceNames(), std::vector<std::string>{key});
  EXPECT_EQ(project->Setting("other"), std::optional<std::string>("kept"));
  // Once: a later open from elsewhere changes nothing (relative names are not resolved again).
  EXPECT_EQ(project->Setting("source_keys"), std::optional<std::string>("1"));
  EXPECT_EQ(MigrateSourceKeys(*project), 0);
}

TEST(ProjectOpenTest, ANameAlreadyTakenKeepsTheOldRow) {
  auto project = OpenSqliteProject(":memory:");
  testing::TempDir dir;
  const std::string key = SourceKey(dir.path());
  project->GetOrAddImageSet(dir.path() + "/", dir.path() + "/", SetRole::kReal);
  project->GetOrAddImageSet(key, key, SetRole::kReal);
  EXPECT_EQ(project->RenameSource(dir.path() + "/", key), 1);  // only the source column moved
  EXPECT_TRUE(project->FindImageSet(dir.path() + "/").has_value());
  EXPECT_TRUE(project->FindImageSet(key).has_value());
}

}  // namespace
}  // namespace synthlens
