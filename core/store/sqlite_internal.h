#pragma once

// Internal to the store module's .cc files (and its tests): the SQLite helpers shared by the
// Project and LabelStore implementations. Includes SQLite headers, so never include it from a
// public header.

#include <SQLiteCpp/SQLiteCpp.h>
#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/store/project.h"
#include "core/store/schema.h"
#include "core/util/logging.h"

namespace synthlens::internal {

// Turns an SQLite failure into a message for users: the file, what we were doing, why.
[[noreturn]] void ThrowSqlError(const std::string& path, const std::string& action,
                                const SQLite::Exception& e, int busy_timeout_ms);

// One write transaction per user action. BEGIN IMMEDIATE takes the write lock up front, so a
// second writer waits in the busy handler instead of failing on a read-to-write upgrade (which
// in WAL mode returns SQLITE_BUSY without waiting). Rolls back unless committed.
class WriteTransaction {
 public:
  explicit WriteTransaction(SQLite::Database& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }
  ~WriteTransaction() {
    if (committed_ || sqlite3_get_autocommit(db_.getHandle())) return;
    try {
      db_.exec("ROLLBACK");
    } catch (const SQLite::Exception& e) {
      SL_LOG_WARNING("rollback failed: " << e.what());
    }
  }
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  void Commit() {
    db_.exec("COMMIT");
    committed_ = true;
  }

 private:
  SQLite::Database& db_;
  bool committed_ = false;
};

int64_t QueryInt(SQLite::Database& db, const char* sql);

// Opens (creating if allowed) and migrates a project file with the given steps: the checks,
// pragmas (foreign keys, WAL, synchronous) and migrations of OpenSqliteProject. Throws
// synthlens::Error naming the file.
std::unique_ptr<SQLite::Database> OpenProjectDatabase(const std::string& path,
                                                      const ProjectOpenOptions& options,
                                                      const std::vector<MigrationStep>& steps);

// "ok", or the problems found by PRAGMA integrity_check and foreign_key_check.
std::string CheckDatabaseIntegrity(SQLite::Database& db);

}  // namespace synthlens::internal
