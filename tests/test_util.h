#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include <gtest/gtest.h>

#include "core/util/check.h"

namespace synthlens::testing {

// The message of the synthlens::Error that fn throws; a test failure (and "") when it throws none.
template <typename Fn>
std::string ErrorOf(Fn&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected synthlens::Error";
  return "";
}

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

// Writes an IDX pair of n 28x28 grey images to `images_path` / `labels_path` (IDX3 ubyte + IDX1
// ubyte, big-endian headers) and returns the source spec "idx:IMAGES,LABELS". pixel(i, y, x) is
// called in storage order (image by image, row by row), so it may draw from a random stream.
std::string WriteIdxPair(const std::string& images_path, const std::string& labels_path, int n,
                         const std::function<uint8_t(int i, int y, int x)>& pixel,
                         const std::function<int(int i)>& label);

// Runs a shell command, returns its exit status and fills stdout/stderr.
int RunCommand(const std::string& command, std::string* out = nullptr, std::string* err = nullptr);

// A child process killed with SIGKILL while it works (the store's crash tests).
struct KilledChild {
  int64_t reported = 0;  // the last count the child wrote on its pipe before it died
  int status = 0;        // waitpid status
  bool killed() const;   // died of a signal, not by itself
};

// Forks; the child runs child(write_fd), which writes an int64_t count after each commit (8-byte
// pipe writes are atomic) and must not return. The parent reads counts until one is >= target
// (or the pipe closes), sleeps delay_us, SIGKILLs the child, reaps it and reads the counts the
// child reported after that last read.
KilledChild RunAndKill(const std::function<void(int write_fd)>& child, int64_t target,
                       int delay_us);

// Path of a built binary in the app folder (from SYNTHLENS_BIN_DIR set by ctest).
std::string BinaryPath(const std::string& name);

}  // namespace synthlens::testing
