#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/io/image_source.h"
#include "core/jobs/job.h"
#include "core/jobs/manifest_writer.h"
#include "core/store/project.h"
#include "core/util/result.h"

namespace synthlens {

// What every view-writing job (augment, generate) opens before its first batch and commits after
// each: the image source, the output folder with its manifest.jsonl, and optionally the project
// that records each view's provenance.
class ViewJobOutput {
 public:
  // Opens SRC (first `limit` images), creates out_dir and its manifest, and when project_path is
  // set opens the project with the source set (role real) and the output set (role augmented).
  static Result<std::unique_ptr<ViewJobOutput>> Open(const std::string& input,
                                                     SourceOptions source_options, int64_t limit,
                                                     const std::string& out_dir,
                                                     const std::string& project_path,
                                                     const std::string& out_set_name);

  const ImageSource& source() const { return *source_; }
  const std::string& out_dir() const { return out_dir_; }
  bool has_project() const { return project_ != nullptr; }

  // Reports the inputs skipped while opening the source and counts them in the summary.
  void ReportSourceIssues(JobSummary& summary, const IssueFn& on_issue) const;

  // Appends a batch's manifest lines (after its files exist), then records its views in the
  // project in one transaction, filling in the set ids. Empty on success, else the error.
  std::string Commit(const std::string& manifest_lines, std::vector<ViewRecord> records);

 private:
  ViewJobOutput() = default;
  std::unique_ptr<ImageSource> source_;
  std::string out_dir_;
  ManifestWriter manifest_;
  std::unique_ptr<Project> project_;
  int64_t source_set_id_ = 0;
  int64_t out_set_id_ = 0;
};

}  // namespace synthlens
