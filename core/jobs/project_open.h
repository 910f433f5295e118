#pragma once
// Opening a project for the studio and the CLI: the store's schema migrations, then the one-time
// move of its source names to SourceKey (core/io/image_source.h). Older builds wrote sources as
// typed ("data/imgs/", "./views"); every reader and writer now uses SourceKey, so a project written
// by an older build is renamed once, on first open.

#include <memory>
#include <string>

#include "core/store/project.h"

namespace synthlens {

// OpenSqliteProject + MigrateSourceKeys. Throws as OpenSqliteProject.
std::unique_ptr<Project> OpenProject(const std::string& path, const ProjectOpenOptions& options = {});

// Renames every source name that is not its SourceKey (relative paths resolved from the working
// folder, so open an older project from the folder its commands ran in), once per project (the
// setting "source_keys" records it). Returns the rows renamed.
int64_t MigrateSourceKeys(Project& project);

}  // namespace synthlens
