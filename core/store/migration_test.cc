#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <random>

#include "core/store/labels.h"
#include "core/store/project.h"
#include "core/store/schema.h"
#include "core/util/check.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::HasSubstr;

// Schema version 1 as released, written out by hand so the test does not depend on the
// migration code it checks.
constexpr char kVersion1Sql[] = R"sql(
CREATE TABLE settings (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE image_sets (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, source TEXT NOT NULL DEFAULT '',
  role TEXT NOT NULL CHECK (role IN ('real', 'synthetic', 'augmented')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')));
CREATE TABLE images (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  image_id TEXT NOT NULL, label TEXT NOT NULL DEFAULT '', UNIQUE (set_id, image_id));
PRAGMA application_id = 1397509715;
PRAGMA user_version = 1;
)sql";

// What version 2 added, as released (applied on top of kVersion1Sql).
constexpr char kVersion2Sql[] = R"sql(
CREATE TABLE views (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  source_set_id INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  source_id TEXT NOT NULL, view_index INTEGER NOT NULL,
  kind TEXT NOT NULL CHECK (kind IN ('classic', 'generative')),
  recipe TEXT NOT NULL DEFAULT '', model TEXT NOT NULL DEFAULT '', seed INTEGER NOT NULL DEFAULT 0,
  params_json TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params_json)),
  output_path TEXT NOT NULL DEFAULT '', blob BLOB,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (set_id, source_id, view_index));
CREATE INDEX views_by_source ON views (source_set_id, source_id);
PRAGMA user_version = 2;
)sql";

// What version 3 added, as released (applied on top of kVersion2Sql).
constexpr char kVersion3Sql[] = R"sql(
CREATE TABLE embedding_sets (
  id INTEGER PRIMARY KEY, source TEXT NOT NULL, listing_hash TEXT NOT NULL,
  encoder_hash TEXT NOT NULL, preprocessing TEXT NOT NULL CHECK (json_valid(preprocessing)),
  compute TEXT NOT NULL DEFAULT '', encoder_name TEXT NOT NULL DEFAULT '',
  rows INTEGER NOT NULL CHECK (rows >= 0), dims INTEGER NOT NULL CHECK (dims > 0),
  issues BLOB NOT NULL DEFAULT x'', seconds REAL NOT NULL DEFAULT 0,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (source, listing_hash, encoder_hash, preprocessing, compute));
CREATE TABLE embedding_chunks (
  id INTEGER PRIMARY KEY,
  set_id INTEGER NOT NULL REFERENCES embedding_sets(id) ON DELETE CASCADE,
  chunk INTEGER NOT NULL CHECK (chunk >= 0), first_row INTEGER NOT NULL CHECK (first_row >= 0),
  rows INTEGER NOT NULL CHECK (rows > 0), matrix BLOB NOT NULL, ids BLOB NOT NULL,
  labels BLOB NOT NULL, UNIQUE (set_id, chunk));
PRAGMA user_version = 3;
)sql";

using testing::ErrorOf;

std::string Bytes(const std::string& path) { return ReadFileBytes(path).value(); }

int64_t RawInt(const std::string& path, const char* sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

// Expects opening PATH to fail with a message naming the file, and the file to stay
// byte-identical with no side files left next to it.
void ExpectRefusedUntouched(const std::string& path, const std::string& why) {
  const std::string before = Bytes(path);
  const std::string message = ErrorOf([&] { OpenSqliteProject(path); });
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr(why));
  EXPECT_EQ(Bytes(path), before) << "the refused file was modified";
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  EXPECT_FALSE(std::filesystem::exists(path + "-journal"));
}

TEST(MigrationTest, StepsAreOrderedAndLatestMatches) {
  const auto& steps = internal::ProjectMigrations();
  ASSERT_FALSE(steps.empty());
  for (size_t i = 0; i < steps.size(); ++i) EXPECT_EQ(steps[i].version, int(i) + 1);
  EXPECT_EQ(LatestSchemaVersion(), steps.back().version);
  EXPECT_GE(LatestSchemaVersion(), 4);
}

TEST(MigrationTest, NewFileGetsLatestSchemaAndApplicationId) {
  testing::TempDir dir;
  const std::string path = dir.Join("new.slproj");
  EXPECT_EQ(OpenSqliteProject(path)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(RawInt(path, "PRAGMA application_id"), internal::kProjectApplicationId);
  // Reopening an up-to-date file works and changes nothing of the schema.
  EXPECT_EQ(OpenSqliteProject(path)->SchemaVersion(), LatestSchemaVersion());
}

TEST(MigrationTest, Version1FileIsMigratedAndKeepsItsData) {
  testing::TempDir dir;
  const std::string path = dir.Join("v1.slproj");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(kVersion1Sql);
    db.exec(
        "INSERT INTO image_sets (name, source, role, created_at) VALUES "
        "('fmnist', 'fashion-mnist:test', 'real', '2023-05-06T07:08:09.000Z')");
    db.exec("INSERT INTO images (set_id, image_id, label) VALUES (1, '17', 'sneaker')");
    db.exec("INSERT INTO settings VALUES ('theme', 'dark')");
  }
  auto project = OpenSqliteProject(path);
  EXPECT_EQ(project->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), LatestSchemaVersion());

  auto set = project->FindImageSet("fmnist");
  ASSERT_TRUE(set.has_value());
  EXPECT_EQ(set->source, "fashion-mnist:test");
  EXPECT_EQ(set->created_at, "2023-05-06T07:08:09.000Z");
  ASSERT_EQ(project->Images(set->id).size(), 1u);
  EXPECT_EQ(project->Images(set->id)[0].label, "sneaker");
  EXPECT_EQ(project->Setting("theme"), "dark");

  // The new tables work.
  ViewRecord view;
  view.set_id = set->id;
  view.source_set_id = set->id;
  view.source_id = "17";
  project->AddViews({view});
  EXPECT_EQ(project->CountViews(), 1);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

// Every released version, written by hand with data, opens at the latest version with its data
// and with working embedding tables (version 3).
TEST(MigrationTest, EveryOlderVersionMigratesToLatest) {
  for (int version = 1; version < LatestSchemaVersion(); ++version) {
    SCOPED_TRACE("from version " + std::to_string(version));
    ASSERT_LE(version, 3) << "add the released SQL of version " << version << " to this test";
    testing::TempDir dir;
    const std::string path = dir.Join("old.slproj");
    {
      SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
      db.exec(kVersion1Sql);
      db.exec("INSERT INTO image_sets (name, source, role) VALUES ('real', '/data', 'real')");
      db.exec("INSERT INTO images (set_id, image_id, label) VALUES (1, 'a.png', 'cat')");
      if (version >= 2) {
        db.exec(kVersion2Sql);
        db.exec("INSERT INTO views (set_id, source_set_id, source_id, view_index, kind) "
                "VALUES (1, 1, 'a.png', 0, 'classic')");
      }
      if (version >= 3) {
        db.exec(kVersion3Sql);
        db.exec("INSERT INTO embedding_sets (source, listing_hash, encoder_hash, preprocessing, "
                "rows, dims) VALUES ('/old', 'h1', 'h2', '{}', 0, 4)");
      }
    }
    ASSERT_EQ(RawInt(path, "PRAGMA user_version"), version);
    auto project = OpenSqliteProject(path);
    EXPECT_EQ(project->SchemaVersion(), LatestSchemaVersion());
    EXPECT_EQ(RawInt(path, "PRAGMA user_version"), LatestSchemaVersion());
    ASSERT_TRUE(project->FindImageSet("real").has_value());
    EXPECT_EQ(project->Images(1).size(), 1u);
    EXPECT_EQ(project->CountViews(), version >= 2 ? 1 : 0);

    EmbeddingSetRecord record;
    record.key = {"/data", std::string(64, '1'), std::string(64, '2'), R"({"size":[28,28]})",
                  "cpu fp32"};
    record.rows = 2;
    record.dims = 3;
    record.matrix = cv::Mat(2, 3, CV_32F, cv::Scalar(0.25));
    record.ids = {"a.png", "b.png"};
    record.labels = {0, -1};
    project->SaveEmbeddings(record);
    project.reset();
    auto reopened = OpenSqliteProject(path);
    auto found = reopened->FindEmbeddings(record.key);
    ASSERT_TRUE(found.has_value());
    EXPECT_EQ(found->ids, record.ids);
    EXPECT_EQ(found->matrix.at<float>(1, 2), 0.25f);
    EXPECT_EQ(reopened->EmbeddingSets().size(), version >= 3 ? 2u : 1u);
    EXPECT_EQ(reopened->IntegrityCheck(), "ok");
    reopened.reset();

    // Version 4: the label tables, seeded taxonomy and a working undo log.
    auto labels = LabelStore::Open(path);
    ASSERT_EQ(labels->Categories().size(), 8u);
    EXPECT_EQ(labels->Categories()[3].name, "blur");
    labels->ToggleCategory({{"/data", "a.png"}}, labels->Categories()[3].id);
    EXPECT_EQ(labels->Counts().with_artifacts, 1);
    EXPECT_TRUE(labels->Undo());
    EXPECT_TRUE(labels->All().empty());
    EXPECT_EQ(labels->IntegrityCheck(), "ok");
  }
}

TEST(MigrationTest, NewerSchemaIsRefusedAndTheFileIsUntouched) {
  testing::TempDir dir;
  const std::string path = dir.Join("future.slproj");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec(kVersion1Sql);
    db.exec("CREATE TABLE future_stuff (x)");
    db.exec("PRAGMA user_version = 999");
  }
  ExpectRefusedUntouched(path, "schema version 999, newer than this SynthLens supports");
}

TEST(MigrationTest, NewerSchemaInWalModeIsRefusedAndTheFileIsUntouched) {
  testing::TempDir dir;
  const std::string path = dir.Join("future-wal.slproj");
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA journal_mode = WAL");
    db.exec(kVersion1Sql);
    db.exec("PRAGMA user_version = 999");
  }
  const std::string before = Bytes(path);
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(path); }), HasSubstr("newer"));
  EXPECT_EQ(Bytes(path), before);
  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), 999);
}

TEST(MigrationTest, NonSqliteFilesAreRefusedAndUntouched) {
  testing::TempDir dir;
  std::mt19937 rng(42);
  std::string noise(4096, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xff);
  testing::WriteFile(dir.Join("noise.slproj"), noise);
  testing::WriteFile(dir.Join("notes.txt"), "these are my notes, not a project\n");
  testing::WriteFile(dir.Join("tiny"), "SQL");
  // The right magic but a broken header.
  testing::WriteFile(dir.Join("fake.slproj"), std::string("SQLite format 3\0", 16) + noise);
  for (const char* name : {"noise.slproj", "notes.txt", "tiny"}) {
    SCOPED_TRACE(name);
    ExpectRefusedUntouched(dir.Join(name), "not an SQLite database");
  }
  const std::string before = Bytes(dir.Join("fake.slproj"));
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(dir.Join("fake.slproj")); }),
              HasSubstr(dir.Join("fake.slproj")));
  EXPECT_EQ(Bytes(dir.Join("fake.slproj")), before);
}

TEST(MigrationTest, AnotherApplicationsDatabaseIsRefusedAndUntouched) {
  testing::TempDir dir;
  const std::string plain = dir.Join("plain.sqlite");
  {
    SQLite::Database db(plain, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES ('ada')");
  }
  ExpectRefusedUntouched(plain, "another application");

  const std::string tagged = dir.Join("tagged.sqlite");
  {
    SQLite::Database db(tagged, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("PRAGMA application_id = 12345; PRAGMA user_version = 1; CREATE TABLE t (x)");
  }
  ExpectRefusedUntouched(tagged, "another application");
}

// Chosen behaviour: an empty file is a new project (SQLite's own view of a zero-byte file; it
// is what `touch` or a crash right after creating the file leaves).
TEST(MigrationTest, ZeroByteFileBecomesANewProject) {
  testing::TempDir dir;
  const std::string path = dir.Join("empty.slproj");
  testing::WriteFile(path, "");
  auto project = OpenSqliteProject(path);
  EXPECT_EQ(project->SchemaVersion(), LatestSchemaVersion());
  project->AddImageSet("real", "", SetRole::kReal);
  project.reset();
  EXPECT_EQ(OpenSqliteProject(path)->ImageSets().size(), 1u);
}

TEST(MigrationTest, FailingStepRollsBackToThePreviousVersion) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  OpenSqliteProject(path)->AddImageSet("real", "", SetRole::kReal);

  auto steps = internal::ProjectMigrations();
  const int next = LatestSchemaVersion() + 1;
  steps.push_back(
      {next, "broken step", "CREATE TABLE labels (x); INSERT INTO no_such_table VALUES (1);"});
  const std::string message = ErrorOf(
      [&] { internal::OpenSqliteProjectWithMigrations(path, ProjectOpenOptions{}, steps); });
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr("migrating to schema version " + std::to_string(next)));
  EXPECT_THAT(message, HasSubstr("broken step"));
  EXPECT_THAT(message, HasSubstr("left at version " + std::to_string(next - 1)));

  EXPECT_EQ(RawInt(path, "PRAGMA user_version"), LatestSchemaVersion());
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'labels'"), 0);
  auto project = OpenSqliteProject(path);
  EXPECT_EQ(project->ImageSets().size(), 1u);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

// What a later issue will do: append a step. Old files pick it up; this binary then refuses
// the migrated file as newer.
TEST(MigrationTest, AppendedStepMigratesOldFiles) {
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  const int64_t set = OpenSqliteProject(path)->AddImageSet("real", "", SetRole::kReal);

  auto steps = internal::ProjectMigrations();
  const int next = LatestSchemaVersion() + 1;
  steps.push_back({next, "labels",
                   "CREATE TABLE labels (id INTEGER PRIMARY KEY, "
                   "set_id INTEGER NOT NULL REFERENCES image_sets(id), tag TEXT NOT NULL);"});
  auto project = internal::OpenSqliteProjectWithMigrations(path, ProjectOpenOptions{}, steps);
  EXPECT_EQ(project->SchemaVersion(), next);
  ASSERT_TRUE(project->GetImageSet(set).has_value());
  project.reset();
  EXPECT_EQ(RawInt(path, "SELECT count(*) FROM sqlite_master WHERE name = 'labels'"), 1);
  EXPECT_THAT(ErrorOf([&] { OpenSqliteProject(path); }), HasSubstr("newer"));
}

}  // namespace
}  // namespace synthlens
