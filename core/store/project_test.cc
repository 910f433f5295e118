#include "core/store/project.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <thread>

#include "core/util/check.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::HasSubstr;

ViewRecord MakeView(int64_t set_id, int64_t source_set_id, const std::string& source_id,
                    int64_t index) {
  ViewRecord v;
  v.set_id = set_id;
  v.source_set_id = source_set_id;
  v.source_id = source_id;
  v.view_index = index;
  v.kind = ViewKind::kClassic;
  v.recipe = "simclr";
  v.seed = static_cast<uint64_t>(index) + 7;
  v.params_json = R"({"crop": 0.5})";
  v.output_path = "views/" + source_id + "_" + std::to_string(index) + ".png";
  return v;
}

// Runs fn, expects synthlens::Error and returns its message.
using testing::ErrorOf;

TEST(ProjectTest, NamesRoundTrip) {
  for (SetRole role : {SetRole::kReal, SetRole::kSynthetic, SetRole::kAugmented}) {
    EXPECT_EQ(ParseSetRole(SetRoleName(role)), role);
  }
  EXPECT_EQ(ParseSetRole("fake"), std::nullopt);
  EXPECT_STREQ(SetRoleName(SetRole::kSynthetic), "synthetic");
  for (ViewKind kind : {ViewKind::kClassic, ViewKind::kGenerative}) {
    EXPECT_EQ(ParseViewKind(ViewKindName(kind)), kind);
  }
  EXPECT_EQ(ParseViewKind("Classic"), std::nullopt);
  EXPECT_TRUE(ProjectOpenOptions{}.Check());
  ProjectOpenOptions bad;
  bad.busy_timeout_ms = -1;
  EXPECT_FALSE(bad.Check());
  EXPECT_THROW(OpenSqliteProject(":memory:", bad), Error);
}

TEST(ProjectTest, ImageSetsRoundTripInMemory) {
  auto project = OpenSqliteProject(":memory:");
  EXPECT_EQ(project->path(), ":memory:");
  EXPECT_EQ(project->SchemaVersion(), LatestSchemaVersion());
  EXPECT_TRUE(project->ImageSets().empty());

  const int64_t real = project->AddImageSet("fmnist-test", "fashion-mnist:test", SetRole::kReal);
  const int64_t synth = project->AddImageSet("ddpm", "models/ddpm.json", SetRole::kSynthetic);
  EXPECT_NE(real, synth);

  auto found = project->FindImageSet("ddpm");
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, synth);
  EXPECT_EQ(found->name, "ddpm");
  EXPECT_EQ(found->source, "models/ddpm.json");
  EXPECT_EQ(found->role, SetRole::kSynthetic);
  EXPECT_EQ(found->created_at.size(), 24u) << found->created_at;  // 2024-01-02T03:04:05.678Z
  EXPECT_EQ(found->created_at.back(), 'Z');
  EXPECT_FALSE(project->FindImageSet("nope").has_value());
  ASSERT_TRUE(project->GetImageSet(real).has_value());
  EXPECT_EQ(project->GetImageSet(real)->name, "fmnist-test");
  EXPECT_FALSE(project->GetImageSet(999).has_value());

  auto sets = project->ImageSets();
  ASSERT_EQ(sets.size(), 2u);
  EXPECT_EQ(sets[0].name, "fmnist-test");
  EXPECT_EQ(sets[1].name, "ddpm");
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(ProjectTest, DuplicateSetNameIsAClearError) {
  auto project = OpenSqliteProject(":memory:");
  const int64_t id = project->AddImageSet("real", "a", SetRole::kReal);
  const std::string message = ErrorOf([&] { project->AddImageSet("real", "b", SetRole::kReal); });
  EXPECT_THAT(message, HasSubstr("'real' already exists"));
  EXPECT_EQ(project->ImageSets().size(), 1u);

  EXPECT_EQ(project->GetOrAddImageSet("real", "ignored", SetRole::kReal), id);
  EXPECT_THAT(ErrorOf([&] { project->GetOrAddImageSet("real", "", SetRole::kAugmented); }),
              HasSubstr("role real, not augmented"));
  const int64_t other = project->GetOrAddImageSet("aug", "", SetRole::kAugmented);
  EXPECT_NE(other, id);
  EXPECT_EQ(project->ImageSets().size(), 2u);
}

TEST(ProjectTest, ImagesRoundTripAndAllOrNothing) {
  auto project = OpenSqliteProject(":memory:");
  const int64_t set = project->AddImageSet("real", "", SetRole::kReal);
  project->AddImages(set, {{"0001.png", "shirt"}, {"0002.png", ""}});
  auto images = project->Images(set);
  ASSERT_EQ(images.size(), 2u);
  EXPECT_EQ(images[0].image_id, "0001.png");
  EXPECT_EQ(images[0].label, "shirt");
  EXPECT_EQ(images[1].label, "");

  // A duplicate id in the batch: nothing of the batch is kept.
  EXPECT_THAT(ErrorOf([&] {
                project->AddImages(set, {{"0003.png", ""}, {"0001.png", ""}});
              }),
              HasSubstr("'0001.png' is already in set"));
  EXPECT_EQ(project->CountImages(set), 2);
  EXPECT_THAT(ErrorOf([&] {
                project->AddImages(set + 100, {{"x", ""}});
              }),
              HasSubstr("does not exist"));
}

TEST(ProjectTest, ViewsRoundTripEveryField) {
  auto project = OpenSqliteProject(":memory:");
  const int64_t real = project->AddImageSet("real", "", SetRole::kReal);
  const int64_t classic = project->AddImageSet("classic", "", SetRole::kAugmented);
  const int64_t gen = project->AddImageSet("gen", "", SetRole::kSynthetic);

  ViewRecord v = MakeView(gen, real, "img-1", 0);
  v.kind = ViewKind::kGenerative;
  v.recipe = "";
  v.model = "sd-img2img";
  v.seed = std::numeric_limits<uint64_t>::max();
  v.params_json = R"({"strength": 0.75, "steps": 20})";
  v.output_path = "";
  v.blob = std::string("\x89PNG\r\n\x1a\n\0\0\0", 11);
  v.created_at = "2024-01-02T03:04:05.000Z";
  ViewRecord empty_params = MakeView(gen, real, "img-1", 1);
  empty_params.params_json = "";
  auto ids = project->AddViews({v, empty_params});
  ASSERT_EQ(ids.size(), 2u);

  auto views = project->Views(gen, "img-1");
  ASSERT_EQ(views.size(), 2u);
  const ViewRecord& r = views[0];
  EXPECT_EQ(r.id, ids[0]);
  EXPECT_EQ(r.set_id, gen);
  EXPECT_EQ(r.source_set_id, real);
  EXPECT_EQ(r.source_id, "img-1");
  EXPECT_EQ(r.view_index, 0);
  EXPECT_EQ(r.kind, ViewKind::kGenerative);
  EXPECT_EQ(r.recipe, "");
  EXPECT_EQ(r.model, "sd-img2img");
  EXPECT_EQ(r.seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(r.params_json, v.params_json);
  EXPECT_EQ(r.output_path, "");
  EXPECT_EQ(r.blob, v.blob);
  EXPECT_EQ(r.created_at, "2024-01-02T03:04:05.000Z");
  EXPECT_EQ(views[1].params_json, "{}");
  EXPECT_EQ(views[1].blob, "");
  EXPECT_EQ(views[1].output_path, "views/img-1_1.png");
  EXPECT_FALSE(views[1].created_at.empty());

  // Views per set, per source, and of one source image across sets.
  project->AddViews({MakeView(classic, real, "img-1", 0), MakeView(classic, real, "img-2", 1),
                     MakeView(classic, real, "img-2", 0)});
  EXPECT_EQ(project->CountViews(), 5);
  EXPECT_EQ(project->CountViews(classic), 3);
  EXPECT_EQ(project->CountViews(real), 0);
  auto of_set = project->Views(classic);
  ASSERT_EQ(of_set.size(), 3u);
  EXPECT_EQ(of_set[0].source_id, "img-1");
  EXPECT_EQ(of_set[1].source_id, "img-2");
  EXPECT_EQ(of_set[1].view_index, 0);
  EXPECT_EQ(of_set[2].view_index, 1);
  auto of_image = project->ViewsOfImage(real, "img-1");
  ASSERT_EQ(of_image.size(), 3u);
  EXPECT_EQ(of_image[0].set_id, classic);
  EXPECT_EQ(of_image[1].set_id, gen);

  EXPECT_EQ(project->DeleteViews(classic, "img-2"), 2);
  EXPECT_EQ(project->CountViews(classic), 1);
  EXPECT_EQ(project->DeleteViews(gen, ""), 2);
  EXPECT_EQ(project->CountViews(), 1);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(ProjectTest, ViewBatchIsAllOrNothing) {
  auto project = OpenSqliteProject(":memory:");
  const int64_t real = project->AddImageSet("real", "", SetRole::kReal);
  const int64_t aug = project->AddImageSet("aug", "", SetRole::kAugmented);
  project->AddViews({MakeView(aug, real, "a", 0)});

  // The third view points at a missing set: the two valid views before it are rolled back.
  std::string message = ErrorOf([&] {
    project->AddViews(
        {MakeView(aug, real, "b", 0), MakeView(aug, real, "b", 1), MakeView(aug, 4242, "b", 2)});
  });
  EXPECT_THAT(message, HasSubstr("view #2"));
  EXPECT_THAT(message, HasSubstr("does not exist"));
  EXPECT_THAT(message, HasSubstr("nothing was added"));
  EXPECT_EQ(project->CountViews(), 1);

  message = ErrorOf([&] { project->AddViews({MakeView(777, real, "c", 0)}); });
  EXPECT_THAT(message, HasSubstr("does not exist"));

  // Duplicate (set, source, index), within the batch or with a stored view.
  message = ErrorOf([&] {
    project->AddViews({MakeView(aug, real, "c", 0), MakeView(aug, real, "a", 0)});
  });
  EXPECT_THAT(message, HasSubstr("already exists"));
  EXPECT_EQ(project->CountViews(), 1);

  ViewRecord bad_json = MakeView(aug, real, "d", 0);
  bad_json.params_json = "{not json";
  message = ErrorOf([&] { project->AddViews({bad_json}); });
  EXPECT_THAT(message, HasSubstr("not valid JSON"));
  EXPECT_EQ(project->CountViews(), 1);
  EXPECT_TRUE(project->AddViews({}).empty());
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(ProjectTest, Settings) {
  auto project = OpenSqliteProject(":memory:");
  EXPECT_FALSE(project->Setting("ui.last_set").has_value());
  project->SetSetting("ui.last_set", "real");
  project->SetSetting("ui.last_set", "gen");
  project->SetSetting("empty", "");
  EXPECT_EQ(project->Setting("ui.last_set"), "gen");
  EXPECT_EQ(project->Setting("empty"), "");
}

TEST(ProjectTest, FileProjectPersistsInWalMode) {
  testing::TempDir dir;
  const std::string path = dir.Join("demo.slproj");
  {
    auto project = OpenSqliteProject(path);
    EXPECT_EQ(project->path(), path);
    const int64_t real = project->AddImageSet("real", "", SetRole::kReal);
    project->AddViews({MakeView(real, real, "x", 0)});
    project->SetSetting("k", "v");
  }
  {
    SQLite::Database raw(path, SQLite::OPEN_READONLY);
    EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  }
  ProjectOpenOptions existing;
  existing.create_if_missing = false;
  existing.durable_against_power_loss = true;
  auto project = OpenSqliteProject(path, existing);
  EXPECT_EQ(project->CountViews(), 1);
  EXPECT_EQ(project->Setting("k"), "v");
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(ProjectTest, OpenErrorsNameTheFile) {
  testing::TempDir dir;
  const std::string missing_folder = dir.Join("no/such/folder/p.slproj");
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(missing_folder); }),
              HasSubstr(missing_folder + ": cannot create project: folder"));
  EXPECT_FALSE(std::filesystem::exists(dir.Join("no")));

  ProjectOpenOptions existing;
  existing.create_if_missing = false;
  const std::string absent = dir.Join("absent.slproj");
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(absent, existing); }),
              HasSubstr(absent + ": no such project file"));
  EXPECT_FALSE(std::filesystem::exists(absent));

  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(dir.path()); }), HasSubstr("is a directory"));
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(""); }), HasSubstr("empty path"));
}

TEST(ProjectTest, UnwritableFolderIsAClearError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores folder permissions";
  testing::TempDir dir;
  std::filesystem::create_directories(dir.Join("ro"));
  std::filesystem::permissions(
      dir.Join("ro"), std::filesystem::perms::owner_read | std::filesystem::perms::owner_exec);
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(dir.Join("ro/p.slproj")); }),
              HasSubstr("is not writable"));
}

TEST(ProjectTest, SecondWriterWaitsThenGivesAClearBusyError) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  OpenSqliteProject(path).reset();

  SQLite::Database holder(path, SQLite::OPEN_READWRITE);
  ProjectOpenOptions quick;
  quick.busy_timeout_ms = 200;
  auto project = OpenSqliteProject(path, quick);  // reading works during another's write (WAL)
  holder.exec("BEGIN IMMEDIATE");
  const std::string message = ErrorOf([&] { project->AddImageSet("x", "", SetRole::kReal); });
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr("busy"));
  EXPECT_EQ(project->ImageSets().size(), 0u);

  // A writer that finishes within the timeout only delays us.
  std::thread release([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    holder.exec("COMMIT");
  });
  ProjectOpenOptions patient;
  patient.busy_timeout_ms = 10000;
  auto waiting = OpenSqliteProject(path, patient);
  EXPECT_GT(waiting->AddImageSet("y", "", SetRole::kReal), 0);
  release.join();
  EXPECT_EQ(project->ImageSets().size(), 1u);
}

TEST(ProjectTest, SharedBetweenThreads) {
  testing::TempDir dir;
  auto project = OpenSqliteProject(dir.Join("p.slproj"));
  const int64_t set = project->AddImageSet("s", "", SetRole::kAugmented);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        project->AddViews({MakeView(set, set, "t" + std::to_string(t), i)});
        project->CountViews(set);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(project->CountViews(set), 80);
}

}  // namespace
}  // namespace synthlens
