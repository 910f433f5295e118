#pragma once

#include <chrono>
#include <string>

#include "core/util/progress.h"

namespace synthlens::cli {

// A progress bar on stderr when stderr is a terminal; silent otherwise (CLI.md). Also turns
// Ctrl-C into a cancellation: the running job stops after its current batch, keeping its output.
class ProgressBar {
 public:
  explicit ProgressBar(std::string label);
  ~ProgressBar();
  ProgressFn Callback();
  void Finish();
  static bool Interrupted();

 private:
  bool Update(double fraction);
  std::string label_;
  bool enabled_;
  bool finished_ = false;
  int last_permille_ = -1;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace synthlens::cli
