#include "core/jobs/project_open.h"

#include "core/io/image_source.h"
#include "core/util/logging.h"

namespace synthlens {

int64_t MigrateSourceKeys(Project& project) {
  if (project.Setting("source_keys") == std::optional<std::string>("1")) return 0;
  int64_t renamed = 0;
  for (const std::string& name : project.SourceNames()) {
    const std::string key = SourceKey(name);
    if (key == name) continue;
    const int64_t n = project.RenameSource(name, key);
    if (n > 0) SL_LOG_INFO(project.path() << ": source '" << name << "' is now '" << key << "' (" << n << " rows)");
    renamed += n;
  }
  project.SetSetting("source_keys", "1");
  return renamed;
}

std::unique_ptr<Project> OpenProject(const std::string& path, const ProjectOpenOptions& options) {
  std::unique_ptr<Project> project = OpenSqliteProject(path, options);
  MigrateSourceKeys(*project);
  return project;
}

}  // namespace synthlens
