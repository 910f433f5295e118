// The SQLite implementation of Project. The only file of the module that sees SQLite.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <thread>
#include <type_traits>
#include <utility>

#include "core/store/project.h"
#include "core/store/schema.h"
#include "core/store/sqlite_internal.h"
#include "core/util/check.h"
#include "core/util/logging.h"

// Cached embeddings store floats and int32 labels in host byte order and document them as
// little-endian; refuse to build where that would be a lie.
static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the embedding cache assumes little-endian");

namespace synthlens {
namespace internal {

namespace {

// Version 1: image sets, their images, settings. Released schema text: never edit, add a step.
constexpr char kSchemaV1[] = R"sql(
CREATE TABLE settings (
  key   TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE image_sets (
  id         INTEGER PRIMARY KEY,
  name       TEXT NOT NULL UNIQUE,
  source     TEXT NOT NULL DEFAULT '',
  role       TEXT NOT NULL CHECK (role IN ('real', 'synthetic', 'augmented')),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE images (
  id       INTEGER PRIMARY KEY,
  set_id   INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  image_id TEXT NOT NULL,
  label    TEXT NOT NULL DEFAULT '',
  UNIQUE (set_id, image_id)
);
)sql";

// Version 2: per-view provenance. The UNIQUE key doubles as the "views of X in set S" index;
// views_by_source answers "views of image X" across all output sets.
constexpr char kSchemaV2[] = R"sql(
CREATE TABLE views (
  id            INTEGER PRIMARY KEY,
  set_id        INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  source_set_id INTEGER NOT NULL REFERENCES image_sets(id) ON DELETE CASCADE,
  source_id     TEXT NOT NULL,
  view_index    INTEGER NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('classic', 'generative')),
  recipe        TEXT NOT NULL DEFAULT '',
  model         TEXT NOT NULL DEFAULT '',
  seed          INTEGER NOT NULL DEFAULT 0,
  params_json   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params_json)),
  output_path   TEXT NOT NULL DEFAULT '',
  blob          BLOB,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (set_id, source_id, view_index)
);
CREATE INDEX views_by_source ON views (source_set_id, source_id);
)sql";

// Version 3: the embedding cache. A set is keyed by everything that determines its numbers; its
// matrix is split into chunks (embedding_chunks) so no single blob approaches SQLite's 1 GB limit
// and a save streams from the caller's matrix. Ids are NUL-terminated strings, labels int32, the
// matrix float32 (both little-endian, row-major); issues are NUL-terminated (file, reason) pairs.
constexpr char kSchemaV3[] = R"sql(
CREATE TABLE embedding_sets (
  id            INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,
  listing_hash  TEXT NOT NULL,
  encoder_hash  TEXT NOT NULL,
  preprocessing TEXT NOT NULL CHECK (json_valid(preprocessing)),
  compute       TEXT NOT NULL DEFAULT '',
  encoder_name  TEXT NOT NULL DEFAULT '',
  rows          INTEGER NOT NULL CHECK (rows >= 0),
  dims          INTEGER NOT NULL CHECK (dims > 0),
  issues        BLOB NOT NULL DEFAULT x'',
  seconds       REAL NOT NULL DEFAULT 0,
  created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (source, listing_hash, encoder_hash, preprocessing, compute)
);
CREATE TABLE embedding_chunks (
  id        INTEGER PRIMARY KEY,
  set_id    INTEGER NOT NULL REFERENCES embedding_sets(id) ON DELETE CASCADE,
  chunk     INTEGER NOT NULL CHECK (chunk >= 0),
  first_row INTEGER NOT NULL CHECK (first_row >= 0),
  rows      INTEGER NOT NULL CHECK (rows > 0),
  matrix    BLOB NOT NULL,
  ids       BLOB NOT NULL,
  labels    BLOB NOT NULL,
  UNIQUE (set_id, chunk)
);
)sql";

// Version 4: hand labels. An editable taxonomy (label_categories, seeded with the default artifact
// categories), per-image labels (image_labels: clean mark, note, known size; one row per labelled
// image, kept once created), image-level categories (label_assignments) and boxes (label_boxes),
// and the stored undo/redo log: each action (label_actions) lists its row changes in order
// (label_changes: kind, key, before and after as JSON, NULL = row absent). Undo applies the
// befores in reverse order, redo the afters in order.
constexpr char kSchemaV4[] = R"sql(
CREATE TABLE label_categories (
  id          INTEGER PRIMARY KEY,
  name        TEXT NOT NULL CHECK (name <> ''),
  description TEXT NOT NULL DEFAULT '',
  color       TEXT NOT NULL DEFAULT '#808080',
  position    INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX label_categories_by_name ON label_categories (name COLLATE NOCASE);
CREATE TABLE image_labels (
  id         INTEGER PRIMARY KEY,
  source     TEXT NOT NULL,
  image_id   TEXT NOT NULL,
  clean      INTEGER NOT NULL DEFAULT 0 CHECK (clean IN (0, 1)),
  note       TEXT NOT NULL DEFAULT '',
  width      INTEGER NOT NULL DEFAULT 0 CHECK (width >= 0),
  height     INTEGER NOT NULL DEFAULT 0 CHECK (height >= 0),
  updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (source, image_id)
);
CREATE TABLE label_assignments (
  label_id    INTEGER NOT NULL REFERENCES image_labels(id),
  category_id INTEGER NOT NULL REFERENCES label_categories(id),
  PRIMARY KEY (label_id, category_id)
) WITHOUT ROWID;
CREATE INDEX label_assignments_by_category ON label_assignments (category_id);
CREATE TABLE label_boxes (
  id          INTEGER PRIMARY KEY,
  label_id    INTEGER NOT NULL REFERENCES image_labels(id),
  category_id INTEGER NOT NULL REFERENCES label_categories(id),
  x           REAL NOT NULL,
  y           REAL NOT NULL,
  width       REAL NOT NULL CHECK (width >= 0),
  height      REAL NOT NULL CHECK (height >= 0)
);
CREATE INDEX label_boxes_by_label ON label_boxes (label_id);
CREATE INDEX label_boxes_by_category ON label_boxes (category_id);
CREATE TABLE label_actions (
  id         INTEGER PRIMARY KEY,
  text       TEXT NOT NULL,
  undone     INTEGER NOT NULL DEFAULT 0 CHECK (undone IN (0, 1)),
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE TABLE label_changes (
  action_id INTEGER NOT NULL REFERENCES label_actions(id) ON DELETE CASCADE,
  seq       INTEGER NOT NULL,
  kind      TEXT NOT NULL CHECK (kind IN ('category', 'label', 'assignment', 'box')),
  key       TEXT NOT NULL CHECK (json_valid(key)),
  before    TEXT CHECK (before IS NULL OR json_valid(before)),
  after     TEXT CHECK (after IS NULL OR json_valid(after)),
  PRIMARY KEY (action_id, seq)
) WITHOUT ROWID;
CREATE TABLE label_meta (
  key   TEXT PRIMARY KEY NOT NULL,
  value INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO label_meta (key, value) VALUES ('revision', 0);
INSERT INTO label_categories (id, name, description, color, position) VALUES
  (1, 'distorted shape', 'warped or implausible object geometry', '#e6194b', 0),
  (2, 'texture/pattern artifact', 'repeated, smeared or unnatural texture', '#f58231', 1),
  (3, 'colour shift', 'colours off compared to real images', '#ffe119', 2),
  (4, 'blur', 'lost detail or soft edges', '#4363d8', 3),
  (5, 'noise', 'grain, speckles or high-frequency noise', '#911eb4', 4),
  (6, 'semantic change of class', 'no longer shows its labelled class', '#3cb44b', 5),
  (7, 'duplicate or copy', 'near copy of a training or another generated image', '#42d4f4', 6),
  (8, 'other', 'any other problem (describe it in the note)', '#a9a9a9', 7);
)sql";

}  // namespace

// Matrix bytes per chunk row: small enough for any SQLite build (1 GB blob limit), large enough
// that a set is a few rows.
std::atomic<size_t> g_embedding_chunk_bytes{size_t{16} << 20};

size_t SetEmbeddingChunkBytesForTesting(size_t bytes) {
  return g_embedding_chunk_bytes.exchange(std::max<size_t>(bytes, 1));
}

const std::vector<MigrationStep>& ProjectMigrations() {
  static const std::vector<MigrationStep> steps = {
      {1, "image sets, images, settings", kSchemaV1},
      {2, "views", kSchemaV2},
      {3, "embedding cache", kSchemaV3},
      {4, "hand labels", kSchemaV4},
  };
  return steps;
}

}  // namespace internal

namespace internal {

void ThrowSqlError(const std::string& path, const std::string& action,
                                const SQLite::Exception& e, int busy_timeout_ms) {
  const int code = e.getErrorCode() & 0xff;
  std::ostringstream why;
  switch (code) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      why << "the project is busy: another process kept it locked for more than " << busy_timeout_ms
          << " ms";
      break;
    case SQLITE_NOTADB:
      why << "not a SynthLens project: the file is not an SQLite database";
      break;
    case SQLITE_CORRUPT:
      why << "the file is corrupted (" << e.what() << ")";
      break;
    case SQLITE_READONLY:
      why << "the file or its folder is read-only (" << e.what() << ")";
      break;
    case SQLITE_CANTOPEN:
      why << "cannot open the file: missing folder or no permission (" << e.what() << ")";
      break;
    case SQLITE_FULL:
      why << "the disk is full";
      break;
    case SQLITE_IOERR:
      why << "I/O error (" << e.what() << ")";
      break;
    default:
      why << e.what();
  }
  SL_THROW(path << ": " << action << " failed: " << why.str());
}

int64_t QueryInt(SQLite::Database& db, const char* sql) {
  SQLite::Statement query(db, sql);
  SL_CHECK(query.executeStep(), "no row from " << sql);
  return query.getColumn(0).getInt64();
}

}  // namespace internal

int LatestSchemaVersion() { return internal::ProjectMigrations().back().version; }

namespace {

using internal::MigrationStep;
using internal::QueryInt;
using internal::ThrowSqlError;
using internal::WriteTransaction;

constexpr char kNowSql[] = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

bool IsBusy(int code) { return (code & 0xff) == SQLITE_BUSY || (code & 0xff) == SQLITE_LOCKED; }

std::string ColumnBytes(const SQLite::Column& column) {
  if (column.isNull()) return {};
  const int size = column.getBytes();
  const void* data = column.getBlob();
  return size > 0 ? std::string(static_cast<const char*>(data), static_cast<size_t>(size))
                  : std::string();
}

// Refuses what SQLite would misread, before SQLite touches the file.
void PrecheckFile(const std::string& path, const ProjectOpenOptions& options) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::file_status status = fs::status(path, ec);
  if (fs::exists(status)) {
    if (fs::is_directory(status)) SL_THROW(path << ": cannot open project: it is a directory");
    std::ifstream in(path, std::ios::binary);
    if (!in) SL_THROW(path << ": cannot open project: the file is not readable");
    char header[16] = {};
    in.read(header, sizeof(header));
    const std::streamsize n = in.gcount();
    if (n == 0) return;  // zero bytes: SQLite treats it as a new, empty database
    if (n < 16 || std::memcmp(header, "SQLite format 3", 16) != 0) {
      SL_THROW(path << ": not a SynthLens project: the file is not an SQLite database");
    }
    return;
  }
  if (!options.create_if_missing) SL_THROW(path << ": no such project file");
  fs::path parent = fs::path(path).parent_path();
  if (parent.empty()) parent = ".";
  if (!fs::is_directory(parent, ec)) {
    SL_THROW(path << ": cannot create project: folder '" << parent.string() << "' does not exist");
  }
  if (::access(parent.c_str(), W_OK) != 0) {
    SL_THROW(path << ": cannot create project: folder '" << parent.string() << "' is not writable");
  }
}

// Switching to WAL needs an exclusive lock for a moment; when two processes create the same
// project at once, retry until the busy timeout instead of failing.
void EnableWal(SQLite::Database& db, const std::string& path, int busy_timeout_ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(busy_timeout_ms);
  while (true) {
    try {
      SQLite::Statement pragma(db, "PRAGMA journal_mode = WAL");
      std::string mode = pragma.executeStep() ? pragma.getColumn(0).getString() : "";
      if (mode != "wal") {
        SL_LOG_WARNING(path << ": WAL journal not available (mode '" << mode
                            << "'); concurrent access will block more");
      }
      return;
    } catch (const SQLite::Exception& e) {
      if (!IsBusy(e.getErrorCode()) || std::chrono::steady_clock::now() > deadline) throw;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
}

void Migrate(SQLite::Database& db, const std::string& path, const std::vector<MigrationStep>& steps,
             int busy_timeout_ms) {
  const int64_t initial = QueryInt(db, "PRAGMA user_version");
  for (const MigrationStep& step : steps) {
    // Cheap check without the write lock, so an up-to-date file opens without any write.
    if (QueryInt(db, "PRAGMA user_version") >= step.version) continue;
    try {
      WriteTransaction transaction(db);
      // Another process may have migrated while we waited for the lock.
      const int64_t current = QueryInt(db, "PRAGMA user_version");
      if (current >= step.version) continue;
      SL_CHECK(current == step.version - 1,
               "schema version " << current << " cannot take step " << step.version);
      db.exec(step.sql);
      db.exec("PRAGMA application_id = " + std::to_string(internal::kProjectApplicationId));
      db.exec("PRAGMA user_version = " + std::to_string(step.version));
      transaction.Commit();
    } catch (const SQLite::Exception& e) {
      std::ostringstream action;
      action << "migrating to schema version " << step.version << " (" << step.description
             << "); the file is left at version " << step.version - 1 << ";";
      ThrowSqlError(path, action.str(), e, busy_timeout_ms);
    }
    if (initial > 0) {
      SL_LOG_INFO(path << ": migrated project to schema version " << step.version << " ("
                       << step.description << ")");
    } else if (step.version == steps.back().version) {
      SL_LOG_DEBUG(path << ": created project (schema version " << step.version << ")");
    }
  }
}

class SqliteProject : public Project {
 public:
  SqliteProject(std::string path, ProjectOpenOptions options, std::unique_ptr<SQLite::Database> db,
                int schema_version)
      : path_(std::move(path)),
        options_(options),
        db_(std::move(db)),
        schema_version_(schema_version) {}

  std::string path() const override { return path_; }
  int SchemaVersion() const override { return schema_version_; }

  int64_t AddImageSet(const std::string& name, const std::string& source, SetRole role) override {
    return Locked("adding image set '" + name + "'", [&] {
      WriteTransaction transaction(*db_);
      const int64_t id = InsertImageSet(name, source, role);
      transaction.Commit();
      return id;
    });
  }

  int64_t GetOrAddImageSet(const std::string& name, const std::string& source,
                           SetRole role) override {
    return Locked("adding image set '" + name + "'", [&] {
      WriteTransaction transaction(*db_);
      if (auto existing = FindImageSetLocked(name)) {
        if (existing->role != role) {
          SL_THROW(path_ << ": image set '" << name << "' exists with role "
                         << SetRoleName(existing->role) << ", not " << SetRoleName(role));
        }
        return existing->id;
      }
      const int64_t id = InsertImageSet(name, source, role);
      transaction.Commit();
      return id;
    });
  }

  std::optional<ImageSetRecord> FindImageSet(const std::string& name) const override {
    return Locked("reading image set '" + name + "'", [&] { return FindImageSetLocked(name); });
  }

  std::optional<ImageSetRecord> GetImageSet(int64_t set_id) const override {
    return Locked("reading image set", [&]() -> std::optional<ImageSetRecord> {
      SQLite::Statement query(*db_, std::string(kSelectSet) + " WHERE id = ?");
      query.bind(1, set_id);
      if (!query.executeStep()) return std::nullopt;
      return ReadSet(query);
    });
  }

  std::vector<ImageSetRecord> ImageSets() const override {
    return Locked("listing image sets", [&] {
      SQLite::Statement query(*db_, std::string(kSelectSet) + " ORDER BY id");
      std::vector<ImageSetRecord> sets;
      while (query.executeStep()) sets.push_back(ReadSet(query));
      return sets;
    });
  }

  void AddImages(int64_t set_id, const std::vector<StoredImage>& images) override {
    Locked("adding images", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement insert(*db_,
                               "INSERT INTO images (set_id, image_id, label) VALUES (?, ?, ?)");
      for (size_t i = 0; i < images.size(); ++i) {
        insert.reset();
        insert.bind(1, set_id);
        insert.bind(2, images[i].image_id);
        insert.bind(3, images[i].label);
        try {
          insert.exec();
        } catch (const SQLite::Exception& e) {
          const int code = e.getExtendedErrorCode();
          if (code == SQLITE_CONSTRAINT_FOREIGNKEY) {
            SL_THROW(path_ << ": adding images failed: image set id " << set_id
                           << " does not exist; nothing was added");
          }
          if (code == SQLITE_CONSTRAINT_UNIQUE) {
            SL_THROW(path_ << ": adding images failed: image '" << images[i].image_id
                           << "' is already in set " << set_id << "; nothing was added");
          }
          throw;
        }
      }
      transaction.Commit();
      return 0;
    });
  }

  std::vector<StoredImage> Images(int64_t set_id) const override {
    return Locked("listing images", [&] {
      SQLite::Statement query(*db_,
                              "SELECT image_id, label FROM images WHERE set_id = ? ORDER BY id");
      query.bind(1, set_id);
      std::vector<StoredImage> images;
      while (query.executeStep()) {
        images.push_back({query.getColumn(0).getString(), query.getColumn(1).getString()});
      }
      return images;
    });
  }

  int64_t CountImages(int64_t set_id) const override {
    return Locked("counting images", [&] {
      SQLite::Statement query(*db_, "SELECT count(*) FROM images WHERE set_id = ?");
      query.bind(1, set_id);
      query.executeStep();
      return query.getColumn(0).getInt64();
    });
  }

  std::vector<int64_t> AddViews(const std::vector<ViewRecord>& views) override {
    return Locked("adding views", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement insert(
          *db_, std::string("INSERT INTO views (set_id, source_set_id, source_id, view_index, "
                            "kind, recipe, model, seed, params_json, output_path, blob, "
                            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
                            "coalesce(nullif(?, ''), ") +
                    kNowSql + "))");
      std::vector<int64_t> ids;
      ids.reserve(views.size());
      for (size_t i = 0; i < views.size(); ++i) {
        const ViewRecord& v = views[i];
        insert.reset();
        insert.clearBindings();
        insert.bind(1, v.set_id);
        insert.bind(2, v.source_set_id);
        insert.bind(3, v.source_id);
        insert.bind(4, v.view_index);
        insert.bind(5, ViewKindName(v.kind));
        insert.bind(6, v.recipe);
        insert.bind(7, v.model);
        insert.bind(8, static_cast<int64_t>(v.seed));  // bit pattern; read back as uint64
        insert.bind(9, v.params_json.empty() ? std::string("{}") : v.params_json);
        insert.bind(10, v.output_path);
        if (!v.blob.empty()) insert.bind(11, v.blob.data(), static_cast<int>(v.blob.size()));
        insert.bind(12, v.created_at);
        try {
          insert.exec();
        } catch (const SQLite::Exception& e) {
          ThrowViewError(i, v, e);
        }
        ids.push_back(db_->getLastInsertRowid());
      }
      transaction.Commit();
      return ids;
    });
  }

  std::vector<ViewRecord> Views(int64_t set_id, const std::string& source_id) const override {
    return Locked("listing views", [&] {
      std::string sql = std::string(kSelectView) + " WHERE set_id = ?";
      if (!source_id.empty()) sql += " AND source_id = ?";
      sql += " ORDER BY source_id, view_index";
      SQLite::Statement query(*db_, sql);
      query.bind(1, set_id);
      if (!source_id.empty()) query.bind(2, source_id);
      return ReadViews(query);
    });
  }

  std::vector<ViewRecord> ViewsOfImage(int64_t source_set_id,
                                       const std::string& source_id) const override {
    return Locked("listing views of image '" + source_id + "'", [&] {
      SQLite::Statement query(*db_, std::string(kSelectView) +
                                        " WHERE source_set_id = ? AND source_id = ?"
                                        " ORDER BY set_id, view_index");
      query.bind(1, source_set_id);
      query.bind(2, source_id);
      return ReadViews(query);
    });
  }

  int64_t CountViews(int64_t set_id) const override {
    return Locked("counting views", [&] {
      if (set_id < 0) return QueryInt(*db_, "SELECT count(*) FROM views");
      SQLite::Statement query(*db_, "SELECT count(*) FROM views WHERE set_id = ?");
      query.bind(1, set_id);
      query.executeStep();
      return query.getColumn(0).getInt64();
    });
  }

  int64_t DeleteViews(int64_t set_id, const std::string& source_id) override {
    return Locked("deleting views", [&] {
      WriteTransaction transaction(*db_);
      std::string sql = "DELETE FROM views WHERE set_id = ?";
      if (!source_id.empty()) sql += " AND source_id = ?";
      SQLite::Statement del(*db_, sql);
      del.bind(1, set_id);
      if (!source_id.empty()) del.bind(2, source_id);
      const int64_t deleted = del.exec();
      transaction.Commit();
      return deleted;
    });
  }

  int64_t SaveEmbeddings(const EmbeddingSetRecord& record) override {
    CheckEmbeddingRecord(record);
    return Locked("saving embeddings of '" + record.key.source + "'", [&] {
      WriteTransaction transaction(*db_);
      // Replace: a second process may have saved the same key meanwhile; chunks cascade.
      SQLite::Statement del(*db_, std::string("DELETE FROM embedding_sets WHERE ") + kKeyWhere);
      BindKey(del, record.key);
      del.exec();
      SQLite::Statement insert(
          *db_,
          "INSERT INTO embedding_sets (source, listing_hash, encoder_hash, preprocessing, "
          "compute, encoder_name, rows, dims, issues, seconds) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
      BindKey(insert, record.key);
      insert.bind(6, record.encoder_name);
      insert.bind(7, static_cast<int64_t>(record.rows));
      insert.bind(8, record.dims);
      std::string issues;
      for (const EmbeddingIssue& issue : record.issues) {
        issues += issue.file + '\0' + issue.reason + '\0';
      }
      insert.bind(9, issues.data(), static_cast<int>(issues.size()));
      insert.bind(10, record.seconds);
      try {
        insert.exec();
      } catch (const SQLite::Exception& e) {
        if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_CHECK) {
          SL_THROW(path_ << ": saving embeddings failed: the preprocessing is not valid JSON");
        }
        throw;
      }
      const int64_t set_id = db_->getLastInsertRowid();
      SQLite::Statement chunk_insert(
          *db_,
          "INSERT INTO embedding_chunks (set_id, chunk, first_row, rows, matrix, ids, labels) "
          "VALUES (?, ?, ?, ?, ?, ?, ?)");
      const size_t row_bytes = static_cast<size_t>(record.dims) * sizeof(float);
      const int64_t chunk_rows = std::max<int64_t>(
          1, static_cast<int64_t>(internal::g_embedding_chunk_bytes.load() / row_bytes));
      std::string ids, labels;
      for (int64_t first = 0, chunk = 0; first < record.rows; first += chunk_rows, ++chunk) {
        const int64_t n = std::min(chunk_rows, record.rows - first);
        ids.clear();
        for (int64_t i = first; i < first + n; ++i) {
          ids += record.ids[static_cast<size_t>(i)];
          ids += '\0';
        }
        labels.assign(static_cast<size_t>(n) * sizeof(int32_t), '\0');
        for (int64_t i = 0; i < n; ++i) {
          const int32_t label = record.labels[static_cast<size_t>(first + i)];
          std::memcpy(&labels[static_cast<size_t>(i) * sizeof(int32_t)], &label, sizeof(label));
        }
        chunk_insert.reset();
        chunk_insert.bind(1, set_id);
        chunk_insert.bind(2, chunk);
        chunk_insert.bind(3, first);
        chunk_insert.bind(4, n);
        // No copy of the matrix: SQLite reads the rows in place (they outlive exec()).
        chunk_insert.bindNoCopy(5, record.matrix.ptr<float>(static_cast<int>(first)),
                                static_cast<int>(static_cast<size_t>(n) * row_bytes));
        chunk_insert.bindNoCopy(6, ids.data(), static_cast<int>(ids.size()));
        chunk_insert.bindNoCopy(7, labels.data(), static_cast<int>(labels.size()));
        chunk_insert.exec();
      }
      transaction.Commit();
      return set_id;
    });
  }

  std::optional<EmbeddingSetRecord> FindEmbeddings(const EmbeddingSetKey& key) const override {
    return Locked("reading embeddings of '" + key.source + "'",
                  [&]() -> std::optional<EmbeddingSetRecord> {
      // One read transaction: a concurrent replace cannot mix two versions of the set.
      db_->exec("BEGIN");
      ReadTransactionEnd end(*db_);
      SQLite::Statement query(*db_, std::string(kSelectEmbeddingSet) + " WHERE " + kKeyWhere);
      BindKey(query, key);
      if (!query.executeStep()) return std::nullopt;
      EmbeddingSetRecord record = ReadEmbeddingSet(query);
      const size_t row_bytes = static_cast<size_t>(record.dims) * sizeof(float);
      record.matrix.create(static_cast<int>(record.rows), record.dims, CV_32F);
      record.ids.reserve(static_cast<size_t>(record.rows));
      record.labels.reserve(static_cast<size_t>(record.rows));
      SQLite::Statement chunks(*db_,
                               "SELECT first_row, rows, matrix, ids, labels FROM embedding_chunks "
                               "WHERE set_id = ? ORDER BY chunk");
      chunks.bind(1, record.id);
      int64_t next = 0;
      auto corrupt = [&](const std::string& why) {
        SL_THROW(path_ << ": cached embedding set " << record.id << " is inconsistent (" << why
                       << "); delete it to recompute");
      };
      while (chunks.executeStep()) {
        const int64_t first = chunks.getColumn(0).getInt64();
        const int64_t n = chunks.getColumn(1).getInt64();
        if (first != next || n <= 0 || first + n > record.rows) corrupt("chunk rows");
        const SQLite::Column matrix = chunks.getColumn(2);
        if (static_cast<size_t>(matrix.getBytes()) != static_cast<size_t>(n) * row_bytes) {
          corrupt("matrix size");
        }
        if (n > 0 && row_bytes > 0) {
          std::memcpy(record.matrix.ptr<float>(static_cast<int>(first)), matrix.getBlob(),
                      static_cast<size_t>(n) * row_bytes);
        }
        const std::string ids = ColumnBytes(chunks.getColumn(3));
        size_t start = 0;
        for (size_t end = ids.find('\0'); end != std::string::npos; end = ids.find('\0', start)) {
          record.ids.push_back(ids.substr(start, end - start));
          start = end + 1;
        }
        if (start != ids.size() || record.ids.size() != static_cast<size_t>(first + n)) {
          corrupt("ids");
        }
        const std::string labels = ColumnBytes(chunks.getColumn(4));
        if (labels.size() != static_cast<size_t>(n) * sizeof(int32_t)) corrupt("labels");
        for (int64_t i = 0; i < n; ++i) {
          int32_t label = 0;
          std::memcpy(&label, &labels[static_cast<size_t>(i) * sizeof(int32_t)], sizeof(label));
          record.labels.push_back(label);
        }
        next = first + n;
      }
      if (next != record.rows) corrupt("missing rows");
      return record;
    });
  }

  std::vector<EmbeddingSetRecord> EmbeddingSets() const override {
    return Locked("listing embedding sets", [&] {
      SQLite::Statement query(*db_, std::string(kSelectEmbeddingSet) + " ORDER BY id");
      std::vector<EmbeddingSetRecord> sets;
      while (query.executeStep()) sets.push_back(ReadEmbeddingSet(query));
      return sets;
    });
  }

  bool DeleteEmbeddings(int64_t id) override {
    return Locked("deleting embedding set", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement del(*db_, "DELETE FROM embedding_sets WHERE id = ?");
      del.bind(1, id);
      const bool deleted = del.exec() > 0;
      transaction.Commit();
      return deleted;
    });
  }

  std::string IntegrityCheck() const override {
    return Locked("checking integrity", [&] { return internal::CheckDatabaseIntegrity(*db_); });
  }

  std::vector<std::string> SourceNames() const override {
    return Locked("listing sources", [&] {
      std::vector<std::string> names;
      SQLite::Statement query(*db_,
                              "SELECT source FROM image_sets WHERE source <> '' UNION "
                              "SELECT source FROM embedding_sets UNION "
                              "SELECT source FROM image_labels ORDER BY 1");
      while (query.executeStep()) names.push_back(query.getColumn(0).getString());
      return names;
    });
  }

  int64_t RenameSource(const std::string& from, const std::string& to) override {
    return Locked("renaming source '" + from + "'", [&] {
      WriteTransaction transaction(*db_);
      int64_t changed = 0;
      auto run = [&](const char* sql, auto... values) {
        SQLite::Statement statement(*db_, sql);
        int i = 0;
        (statement.bind(++i, values), ...);
        changed += statement.exec();
      };
      // Set names: the source itself, or a views set named "<kind>:...:" + source.
      run("UPDATE OR IGNORE image_sets SET name = ? WHERE name = ?", to, from);
      run("UPDATE OR IGNORE image_sets SET name = substr(name, 1, length(name) - length(?)) || ? "
          "WHERE source = ? AND length(name) > length(?) AND substr(name, length(name) - length(?) + 1) = ? "
          "AND substr(name, length(name) - length(?), 1) = ':'",
          from, to, from, from, from, from, from);
      run("UPDATE image_sets SET source = ? WHERE source = ?", to, from);
      run("UPDATE OR IGNORE embedding_sets SET source = ? WHERE source = ?", to, from);
      run("UPDATE OR IGNORE image_labels SET source = ? WHERE source = ?", to, from);
      transaction.Commit();
      return changed;
    });
  }

  void SetSetting(const std::string& key, const std::string& value) override {
    Locked("saving setting '" + key + "'", [&] {
      WriteTransaction transaction(*db_);
      SQLite::Statement upsert(*db_,
                               "INSERT INTO settings (key, value) VALUES (?, ?) "
                               "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
      upsert.bind(1, key);
      upsert.bind(2, value);
      upsert.exec();
      transaction.Commit();
      return 0;
    });
  }

  std::optional<std::string> Setting(const std::string& key) const override {
    return Locked("reading setting '" + key + "'", [&]() -> std::optional<std::string> {
      SQLite::Statement query(*db_, "SELECT value FROM settings WHERE key = ?");
      query.bind(1, key);
      if (!query.executeStep()) return std::nullopt;
      return query.getColumn(0).getString();
    });
  }

 private:
  static constexpr char kSelectSet[] = "SELECT id, name, source, role, created_at FROM image_sets";
  static constexpr char kSelectView[] =
      "SELECT id, set_id, source_set_id, source_id, view_index, kind, recipe, model, seed, "
      "params_json, output_path, blob, created_at FROM views";

  static constexpr char kSelectEmbeddingSet[] =
      "SELECT id, source, listing_hash, encoder_hash, preprocessing, compute, encoder_name, rows, "
      "dims, issues, seconds, created_at FROM embedding_sets";
  static constexpr char kKeyWhere[] =
      "source = ? AND listing_hash = ? AND encoder_hash = ? AND preprocessing = ? AND compute = ?";

  // Ends the read transaction of FindEmbeddings however the lookup leaves.
  class ReadTransactionEnd {
   public:
    explicit ReadTransactionEnd(SQLite::Database& db) : db_(db) {}
    ~ReadTransactionEnd() {
      if (sqlite3_get_autocommit(db_.getHandle())) return;
      try {
        db_.exec("COMMIT");
      } catch (const SQLite::Exception& e) {
        SL_LOG_WARNING("ending a read transaction failed: " << e.what());
      }
    }
    ReadTransactionEnd(const ReadTransactionEnd&) = delete;
    ReadTransactionEnd& operator=(const ReadTransactionEnd&) = delete;

   private:
    SQLite::Database& db_;
  };

  static void BindKey(SQLite::Statement& statement, const EmbeddingSetKey& key) {
    statement.bind(1, key.source);
    statement.bind(2, key.listing_hash);
    statement.bind(3, key.encoder_hash);
    statement.bind(4, key.preprocessing);
    statement.bind(5, key.compute);
  }

  // Contract checks before any SQL: a record whose parts disagree is a caller bug.
  void CheckEmbeddingRecord(const EmbeddingSetRecord& r) const {
    SL_CHECK(r.dims > 0 && r.rows >= 0, "SaveEmbeddings: rows " << r.rows << ", dims " << r.dims);
    SL_CHECK((r.rows == 0 && r.matrix.empty()) ||
                 (r.matrix.type() == CV_32FC1 && r.matrix.isContinuous() &&
                  r.matrix.rows == r.rows && r.matrix.cols == r.dims),
             "SaveEmbeddings: the matrix must be a continuous " << r.rows << " x " << r.dims
                 << " CV_32F, got " << r.matrix.rows << " x " << r.matrix.cols << " type "
                 << r.matrix.type());
    SL_CHECK(r.ids.size() == static_cast<size_t>(r.rows) &&
                 r.labels.size() == static_cast<size_t>(r.rows),
             "SaveEmbeddings: " << r.ids.size() << " ids and " << r.labels.size()
                                << " labels for " << r.rows << " rows");
    for (const std::string& id : r.ids) {
      SL_CHECK(id.find('\0') == std::string::npos, "SaveEmbeddings: an id contains a NUL byte");
    }
    SL_CHECK(!r.key.source.empty() && !r.key.listing_hash.empty() && !r.key.encoder_hash.empty(),
             "SaveEmbeddings: incomplete key (source, listing hash and encoder hash are needed)");
  }

  EmbeddingSetRecord ReadEmbeddingSet(SQLite::Statement& query) const {
    EmbeddingSetRecord r;
    r.id = query.getColumn(0).getInt64();
    r.key.source = query.getColumn(1).getString();
    r.key.listing_hash = query.getColumn(2).getString();
    r.key.encoder_hash = query.getColumn(3).getString();
    r.key.preprocessing = query.getColumn(4).getString();
    r.key.compute = query.getColumn(5).getString();
    r.encoder_name = query.getColumn(6).getString();
    r.rows = query.getColumn(7).getInt64();
    r.dims = query.getColumn(8).getInt();
    const std::string issues = ColumnBytes(query.getColumn(9));
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t end = issues.find('\0'); end != std::string::npos; end = issues.find('\0', start)) {
      parts.push_back(issues.substr(start, end - start));
      start = end + 1;
    }
    for (size_t i = 0; i + 1 < parts.size(); i += 2) r.issues.push_back({parts[i], parts[i + 1]});
    r.seconds = query.getColumn(10).getDouble();
    r.created_at = query.getColumn(11).getString();
    return r;
  }

  // Serialises calls (one connection, possibly shared by the GUI and a worker thread) and turns
  // SQLite failures into synthlens::Error naming the file and the action.
  template <typename Fn>
  std::invoke_result_t<Fn&> Locked(const std::string& action, Fn&& fn) const {
    std::lock_guard<std::mutex> lock(mutex_);
    try {
      return fn();
    } catch (const SQLite::Exception& e) {
      ThrowSqlError(path_, action, e, options_.busy_timeout_ms);
    }
  }

  int64_t InsertImageSet(const std::string& name, const std::string& source, SetRole role) {
    SQLite::Statement insert(*db_, "INSERT INTO image_sets (name, source, role) VALUES (?, ?, ?)");
    insert.bind(1, name);
    insert.bind(2, source);
    insert.bind(3, SetRoleName(role));
    try {
      insert.exec();
    } catch (const SQLite::Exception& e) {
      if (e.getExtendedErrorCode() == SQLITE_CONSTRAINT_UNIQUE) {
        SL_THROW(path_ << ": an image set named '" << name << "' already exists");
      }
      throw;
    }
    return db_->getLastInsertRowid();
  }

  std::optional<ImageSetRecord> FindImageSetLocked(const std::string& name) const {
    SQLite::Statement query(*db_, std::string(kSelectSet) + " WHERE name = ?");
    query.bind(1, name);
    if (!query.executeStep()) return std::nullopt;
    return ReadSet(query);
  }

  ImageSetRecord ReadSet(SQLite::Statement& query) const {
    ImageSetRecord set;
    set.id = query.getColumn(0).getInt64();
    set.name = query.getColumn(1).getString();
    set.source = query.getColumn(2).getString();
    const std::string role = query.getColumn(3).getString();
    auto parsed = ParseSetRole(role);
    if (!parsed)
      SL_THROW(path_ << ": image set '" << set.name << "' has unknown role '" << role << "'");
    set.role = *parsed;
    set.created_at = query.getColumn(4).getString();
    return set;
  }

  std::vector<ViewRecord> ReadViews(SQLite::Statement& query) const {
    std::vector<ViewRecord> views;
    while (query.executeStep()) {
      ViewRecord v;
      v.id = query.getColumn(0).getInt64();
      v.set_id = query.getColumn(1).getInt64();
      v.source_set_id = query.getColumn(2).getInt64();
      v.source_id = query.getColumn(3).getString();
      v.view_index = query.getColumn(4).getInt64();
      const std::string kind = query.getColumn(5).getString();
      auto parsed = ParseViewKind(kind);
      if (!parsed) SL_THROW(path_ << ": view " << v.id << " has unknown kind '" << kind << "'");
      v.kind = *parsed;
      v.recipe = query.getColumn(6).getString();
      v.model = query.getColumn(7).getString();
      v.seed = static_cast<uint64_t>(query.getColumn(8).getInt64());
      v.params_json = query.getColumn(9).getString();
      v.output_path = query.getColumn(10).getString();
      v.blob = ColumnBytes(query.getColumn(11));
      v.created_at = query.getColumn(12).getString();
      views.push_back(std::move(v));
    }
    return views;
  }

  [[noreturn]] void ThrowViewError(size_t index, const ViewRecord& v,
                                   const SQLite::Exception& e) const {
    std::ostringstream what;
    what << path_ << ": adding views failed, nothing was added: view #" << index << " (set "
         << v.set_id << ", source '" << v.source_id << "', index " << v.view_index << ") ";
    switch (e.getExtendedErrorCode()) {
      case SQLITE_CONSTRAINT_FOREIGNKEY:
        what << "refers to an image set that does not exist (set " << v.set_id << " or source set "
             << v.source_set_id << ")";
        break;
      case SQLITE_CONSTRAINT_UNIQUE:
        what << "already exists";
        break;
      case SQLITE_CONSTRAINT_CHECK:
        what << "has params_json that is not valid JSON";
        break;
      default:
        throw e;
    }
    throw Error(what.str());
  }

  const std::string path_;
  const ProjectOpenOptions options_;
  std::unique_ptr<SQLite::Database> db_;
  const int schema_version_;
  mutable std::mutex mutex_;
};

}  // namespace

namespace internal {

std::unique_ptr<SQLite::Database> OpenProjectDatabase(const std::string& path,
                                                      const ProjectOpenOptions& options,
                                                      const std::vector<MigrationStep>& steps) {
  SL_CHECK(options.Check(), "invalid ProjectOpenOptions: busy_timeout_ms "
                                << options.busy_timeout_ms << " must be >= 0");
  SL_CHECK(!steps.empty(), "no migration steps");
  for (size_t i = 0; i < steps.size(); ++i) {
    SL_CHECK(steps[i].version == static_cast<int>(i) + 1,
             "migration step " << i << " has version " << steps[i].version);
  }
  if (path.empty()) SL_THROW("cannot open a project: empty path");
  const bool in_memory = path == ":memory:";
  if (!in_memory) PrecheckFile(path, options);
  const int latest = steps.back().version;

  std::unique_ptr<SQLite::Database> db;
  try {
    const int flags =
        SQLite::OPEN_READWRITE | (options.create_if_missing ? SQLite::OPEN_CREATE : 0);
    db = std::make_unique<SQLite::Database>(path, flags, options.busy_timeout_ms);

    db->exec("PRAGMA foreign_keys = ON");
    if (QueryInt(*db, "PRAGMA foreign_keys") != 1) {
      SL_THROW(path << ": cannot open project: this SQLite build does not enforce foreign keys");
    }
    // Everything before EnableWal only reads, so a file refused here stays byte-identical.
    // One statement, so one snapshot: another process may be creating the file right now.
    SQLite::Statement header(*db,
                             "SELECT (SELECT user_version FROM pragma_user_version), "
                             "(SELECT application_id FROM pragma_application_id), "
                             "(SELECT count(*) FROM sqlite_master)");
    header.executeStep();
    const int64_t version = header.getColumn(0).getInt64();
    const int64_t application_id = header.getColumn(1).getInt64();
    const int64_t objects = header.getColumn(2).getInt64();
    header.reset();
    if (version > latest) {
      SL_THROW(path << ": the project has schema version " << version
                    << ", newer than this SynthLens supports (" << latest
                    << "); open it with a newer SynthLens");
    }
    if (application_id != kProjectApplicationId &&
        (application_id != 0 || version != 0 || objects != 0)) {
      SL_THROW(path << ": not a SynthLens project: an SQLite database of another application");
    }
    if (!in_memory) EnableWal(*db, path, options.busy_timeout_ms);
    db->exec(options.durable_against_power_loss ? "PRAGMA synchronous = FULL"
                                                : "PRAGMA synchronous = NORMAL");
    Migrate(*db, path, steps, options.busy_timeout_ms);
  } catch (const SQLite::Exception& e) {
    ThrowSqlError(path, "opening the project", e, options.busy_timeout_ms);
  }
  return db;
}

std::string CheckDatabaseIntegrity(SQLite::Database& db) {
  std::string problems;
  SQLite::Statement integrity(db, "PRAGMA integrity_check");
  while (integrity.executeStep()) {
    const std::string line = integrity.getColumn(0).getString();
    if (line != "ok") problems += line + "\n";
  }
  SQLite::Statement foreign(db, "PRAGMA foreign_key_check");
  while (foreign.executeStep()) {
    problems += "foreign key violation in table " + foreign.getColumn(0).getString() + " row " +
                std::to_string(foreign.getColumn(1).getInt64()) + " -> " +
                foreign.getColumn(2).getString() + "\n";
  }
  if (problems.empty()) return "ok";
  problems.pop_back();
  return problems;
}

std::unique_ptr<Project> OpenSqliteProjectWithMigrations(const std::string& path,
                                                         const ProjectOpenOptions& options,
                                                         const std::vector<MigrationStep>& steps) {
  std::unique_ptr<SQLite::Database> db = OpenProjectDatabase(path, options, steps);
  return std::make_unique<SqliteProject>(path, options, std::move(db), steps.back().version);
}

}  // namespace internal

std::unique_ptr<Project> OpenSqliteProject(const std::string& path,
                                           const ProjectOpenOptions& options) {
  return internal::OpenSqliteProjectWithMigrations(path, options, internal::ProjectMigrations());
}

}  // namespace synthlens
