#include "core/jobs/view_job_output.h"

#include <filesystem>

#include "core/jobs/project_open.h"

namespace synthlens {
namespace fs = std::filesystem;

Result<std::unique_ptr<ViewJobOutput>> ViewJobOutput::Open(const std::string& input,
                                                           SourceOptions source_options,
                                                           int64_t limit,
                                                           const std::string& out_dir,
                                                           const std::string& project_path,
                                                           const std::string& out_set_name) {
  using R = Result<std::unique_ptr<ViewJobOutput>>;
  std::unique_ptr<ViewJobOutput> output(new ViewJobOutput());
  source_options.limit = limit;
  auto opened = OpenImageSource(input, source_options);
  if (!opened.ok()) return R::Failure(opened.error());
  output->source_ = std::move(opened).value();

  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return R::Failure(out_dir + ": cannot create output folder (" + ec.message() + ")");
  output->out_dir_ = out_dir;
  if (std::string error = output->manifest_.Open((fs::path(out_dir) / "manifest.jsonl").string());
      !error.empty()) {
    return R::Failure(error);
  }
  if (!project_path.empty()) {
    try {
      output->project_ = OpenProject(project_path);
      const std::string key = SourceKey(input);
      output->source_set_id_ = output->project_->GetOrAddImageSet(key, key, SetRole::kReal);
      output->out_set_id_ = output->project_->GetOrAddImageSet(out_set_name, key, SetRole::kAugmented);
    } catch (const Error& e) {
      return R::Failure(e.what());
    }
  }
  return output;
}

void ViewJobOutput::ReportSourceIssues(JobSummary& summary, const IssueFn& on_issue) const {
  for (const SourceIssue& issue : source_->issues()) {
    ++summary.skipped;
    if (on_issue) on_issue(issue);
  }
}

std::string ViewJobOutput::Commit(const std::string& manifest_lines,
                                  std::vector<ViewRecord> records) {
  if (std::string error = manifest_.Append(manifest_lines); !error.empty()) return error;
  if (!project_ || records.empty()) return {};
  for (ViewRecord& r : records) {
    r.set_id = out_set_id_;
    r.source_set_id = source_set_id_;
  }
  try {
    project_->AddViews(records);
  } catch (const Error& e) {
    return e.what();
  }
  return {};
}

}  // namespace synthlens
