#pragma once

// Internal to the store module and its tests: the ordered schema migrations. Not included by
// project.h so callers never depend on the schema.

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "core/store/project.h"

namespace synthlens::internal {

// PRAGMA application_id of SynthLens projects ("SLNS"), so a foreign SQLite file is refused
// instead of being "migrated".
inline constexpr int kProjectApplicationId = 0x534C4E53;

// One schema step: SQL that takes the file from version - 1 to version. Each step runs in its
// own transaction together with PRAGMA user_version = version, so a failed step leaves the file
// at the previous version. Steps are never edited once released; changes go in a new step.
struct MigrationStep {
  int version = 0;
  std::string description;
  std::string sql;
};

// The steps of this binary, ordered, versions 1..LatestSchemaVersion().
const std::vector<MigrationStep>& ProjectMigrations();

// OpenSqliteProject with another list of steps (versions must be 1..N without gaps); lets tests
// exercise failing and future steps.
std::unique_ptr<Project> OpenSqliteProjectWithMigrations(const std::string& path,
                                                         const ProjectOpenOptions& options,
                                                         const std::vector<MigrationStep>& steps);

// Matrix bytes per stored embedding chunk (default 16 MiB); tests lower it to exercise sets that
// span many chunks without allocating large matrices. Returns the previous value.
size_t SetEmbeddingChunkBytesForTesting(size_t bytes);

}  // namespace synthlens::internal
