#pragma once

#include <string>
#include <vector>

namespace synthlens {

// `,"class_name":"NAME"` for a manifest line when the source names class `label`, else "". A
// folder of views is then read back with its classes by name (OpenImageSource, manifest.jsonl).
std::string ClassNameField(const std::vector<std::string>& class_names, int label);

// Appends lines to an output folder's manifest.jsonl and syncs after each append, so a killed
// run keeps every line it appended. Callers append a batch's lines only after the batch's files
// exist, so every listed file is on disk.
class ManifestWriter {
 public:
  ManifestWriter() = default;
  ~ManifestWriter();
  ManifestWriter(const ManifestWriter&) = delete;
  ManifestWriter& operator=(const ManifestWriter&) = delete;

  // Empty on success, else the error naming the file.
  std::string Open(const std::string& path);
  std::string Append(const std::string& lines);

 private:
  std::string path_;
  int fd_ = -1;
};

}  // namespace synthlens
