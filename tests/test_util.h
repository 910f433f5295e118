#pragma once

#include <string>

namespace synthlens::testing {

// A fresh empty folder under the system temp dir, removed when the object dies.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string Join(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Writes bytes to a file (creating parent folders); throws on failure.
void WriteFile(const std::string& path, const std::string& bytes);

// Runs a shell command, returns its exit status and fills stdout/stderr.
int RunCommand(const std::string& command, std::string* out = nullptr, std::string* err = nullptr);

// Path of a built binary in the app folder (from SYNTHLENS_BIN_DIR set by ctest).
std::string BinaryPath(const std::string& name);

}  // namespace synthlens::testing
