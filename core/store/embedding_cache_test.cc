// The embedding cache of the project store: round trips across chunks and reopening, exact-key
// lookups, replacement, deletion, refused records, and detection of damaged entries.
#include <SQLiteCpp/SQLiteCpp.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "core/store/project.h"
#include "core/store/schema.h"
#include "core/util/check.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::HasSubstr;

using testing::ErrorOf;

// Lowers the chunk size for one test so small matrices span several chunks.
class ChunkBytes {
 public:
  explicit ChunkBytes(size_t bytes) : previous_(internal::SetEmbeddingChunkBytesForTesting(bytes)) {}
  ~ChunkBytes() { internal::SetEmbeddingChunkBytesForTesting(previous_); }

 private:
  size_t previous_;
};

EmbeddingSetKey MakeKey(const std::string& source = "/data/cats") {
  EmbeddingSetKey key;
  key.source = source;
  key.listing_hash = std::string(64, 'a');
  key.encoder_hash = std::string(64, 'b');
  key.preprocessing = R"({"resize":{"definition":"pillow","filter":"bilinear"},"size":[28,28]})";
  key.compute = "cpu fp32";
  return key;
}

// rows x dims with distinct values (including -0.0, denormals and infinities would also
// round-trip: the bytes are stored as they are).
EmbeddingSetRecord MakeRecord(int rows, int dims, float offset = 0.0f) {
  EmbeddingSetRecord r;
  r.key = MakeKey();
  r.encoder_name = "tiny";
  r.rows = rows;
  r.dims = dims;
  r.matrix.create(rows, dims, CV_32F);
  for (int i = 0; i < rows; ++i) {
    for (int j = 0; j < dims; ++j) r.matrix.at<float>(i, j) = offset + i * 1000.0f + j * 0.125f;
    // Ids are arbitrary strings: tabs, newlines, non-ASCII.
    r.ids.push_back(i % 3 == 0 ? "cls/img\t" + std::to_string(i) + "\n.png"
                               : "train:" + std::to_string(i) + " é");
    r.labels.push_back(i % 4 == 0 ? -1 : i % 10);
  }
  r.issues = {{"cls/broken.png", "cls/broken.png: not an image"}, {"x.jpg", "truncated"}};
  r.seconds = 1.5;
  return r;
}

void ExpectSameSet(const EmbeddingSetRecord& a, const EmbeddingSetRecord& b) {
  EXPECT_TRUE(a.key == b.key);
  EXPECT_EQ(a.encoder_name, b.encoder_name);
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.dims, b.dims);
  ASSERT_EQ(a.matrix.size(), b.matrix.size());
  if (a.rows > 0) {
    EXPECT_EQ(std::memcmp(a.matrix.data, b.matrix.data, a.matrix.total() * sizeof(float)), 0);
  }
  EXPECT_EQ(a.ids, b.ids);
  EXPECT_EQ(a.labels, b.labels);
  ASSERT_EQ(a.issues.size(), b.issues.size());
  for (size_t i = 0; i < a.issues.size(); ++i) {
    EXPECT_EQ(a.issues[i].file, b.issues[i].file);
    EXPECT_EQ(a.issues[i].reason, b.issues[i].reason);
  }
  EXPECT_DOUBLE_EQ(a.seconds, b.seconds);
}

int64_t RawCount(const std::string& path, const char* sql) {
  SQLite::Database db(path, SQLite::OPEN_READONLY);
  return db.execAndGet(sql).getInt64();
}

TEST(EmbeddingCacheTest, RoundTripAcrossChunksAndReopen) {
  ChunkBytes small(3 * 5 * sizeof(float));  // 3 rows of 5 floats per chunk
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  const EmbeddingSetRecord saved = MakeRecord(10, 5);
  int64_t id = 0;
  {
    auto project = OpenSqliteProject(path);
    id = project->SaveEmbeddings(saved);
    EXPECT_GT(id, 0);
  }
  EXPECT_EQ(RawCount(path, "SELECT count(*) FROM embedding_chunks"), 4);  // 3 + 3 + 3 + 1 rows
  auto project = OpenSqliteProject(path);
  auto found = project->FindEmbeddings(saved.key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, id);
  EXPECT_FALSE(found->created_at.empty());
  ExpectSameSet(*found, saved);

  const auto listing = project->EmbeddingSets();
  ASSERT_EQ(listing.size(), 1u);
  EXPECT_EQ(listing[0].rows, 10);
  EXPECT_EQ(listing[0].dims, 5);
  EXPECT_TRUE(listing[0].matrix.empty());
  EXPECT_TRUE(listing[0].ids.empty());
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(EmbeddingCacheTest, OnlyTheExactKeyMatches) {
  auto project = OpenSqliteProject(":memory:");
  const EmbeddingSetRecord saved = MakeRecord(4, 3);
  project->SaveEmbeddings(saved);
  ASSERT_TRUE(project->FindEmbeddings(saved.key).has_value());
  std::vector<EmbeddingSetKey> others(5, saved.key);
  others[0].source = "/data/dogs";
  others[1].listing_hash = std::string(64, 'c');
  others[2].encoder_hash = std::string(64, 'd');
  others[3].preprocessing = R"({"resize":{"definition":"pillow","filter":"bicubic"},"size":[28,28]})";
  others[4].compute = "cuda fp16";
  for (const EmbeddingSetKey& key : others) EXPECT_FALSE(project->FindEmbeddings(key).has_value());
}

TEST(EmbeddingCacheTest, SavingTheSameKeyReplacesAndDeleteRemovesChunks) {
  ChunkBytes small(2 * 3 * sizeof(float));
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  auto project = OpenSqliteProject(path);
  project->SaveEmbeddings(MakeRecord(5, 3));
  const EmbeddingSetRecord second = MakeRecord(7, 3, /*offset=*/0.5f);
  const int64_t replaced = project->SaveEmbeddings(second);
  ASSERT_EQ(project->EmbeddingSets().size(), 1u);
  ExpectSameSet(*project->FindEmbeddings(second.key), second);
  EXPECT_EQ(RawCount(path, "SELECT count(*) FROM embedding_chunks"), 4);  // only the new set's

  EmbeddingSetRecord other = MakeRecord(2, 3);
  other.key.source = "/data/dogs";
  const int64_t other_id = project->SaveEmbeddings(other);
  EXPECT_TRUE(project->DeleteEmbeddings(replaced));
  EXPECT_FALSE(project->DeleteEmbeddings(replaced));
  EXPECT_FALSE(project->FindEmbeddings(second.key).has_value());
  const std::string others_chunks =
      "SELECT count(*) FROM embedding_chunks WHERE set_id <> " + std::to_string(other_id);
  EXPECT_EQ(RawCount(path, others_chunks.c_str()), 0);
  ExpectSameSet(*project->FindEmbeddings(other.key), other);
  EXPECT_EQ(project->IntegrityCheck(), "ok");
}

TEST(EmbeddingCacheTest, EmptySetRoundTrips) {
  auto project = OpenSqliteProject(":memory:");
  EmbeddingSetRecord empty;
  empty.key = MakeKey();
  empty.dims = 6;
  empty.issues = {{"a.png", "not an image"}};
  project->SaveEmbeddings(empty);
  auto found = project->FindEmbeddings(empty.key);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->rows, 0);
  EXPECT_EQ(found->dims, 6);
  EXPECT_TRUE(found->ids.empty());
  ASSERT_EQ(found->issues.size(), 1u);
  EXPECT_EQ(found->issues[0].reason, "not an image");
}

TEST(EmbeddingCacheTest, InconsistentRecordsAreRefusedAndNothingIsSaved) {
  auto project = OpenSqliteProject(":memory:");
  EmbeddingSetRecord r = MakeRecord(3, 2);
  r.ids.pop_back();
  EXPECT_THAT(ErrorOf([&] { project->SaveEmbeddings(r); }), HasSubstr("2 ids and 3 labels"));
  r = MakeRecord(3, 2);
  r.matrix = cv::Mat(3, 2, CV_64F, 0.0);
  EXPECT_THROW(project->SaveEmbeddings(r), Error);
  r = MakeRecord(3, 2);
  r.key.preprocessing = "{not json";
  EXPECT_THAT(ErrorOf([&] { project->SaveEmbeddings(r); }), HasSubstr("not valid JSON"));
  r = MakeRecord(3, 2);
  r.key.encoder_hash.clear();
  EXPECT_THROW(project->SaveEmbeddings(r), Error);
  EXPECT_TRUE(project->EmbeddingSets().empty());
}

TEST(EmbeddingCacheTest, DamagedEntriesAreReportedNotMisread) {
  ChunkBytes small(2 * 4 * sizeof(float));
  testing::TempDir dir;
  const std::string path = dir.Join("p.slproj");
  const EmbeddingSetRecord saved = MakeRecord(6, 4);
  OpenSqliteProject(path)->SaveEmbeddings(saved);
  {
    SQLite::Database db(path, SQLite::OPEN_READWRITE);
    db.exec("DELETE FROM embedding_chunks WHERE chunk = 1");
  }
  auto project = OpenSqliteProject(path);
  const std::string message = ErrorOf([&] { project->FindEmbeddings(saved.key); });
  EXPECT_THAT(message, HasSubstr(path));
  EXPECT_THAT(message, HasSubstr("inconsistent"));
  // Saving again repairs it.
  project->SaveEmbeddings(saved);
  ExpectSameSet(*project->FindEmbeddings(saved.key), saved);
}

}  // namespace
}  // namespace synthlens
