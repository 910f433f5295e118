#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/progress_bar.h"

namespace synthlens::cli {

int RunViewJobCommand(const std::string& name, const std::string& out_dir, bool strict,
                      const ViewJobFn& job) {
  ProgressBar bar(name);
  auto summary = job(bar.Callback(), [&](const SourceIssue& issue) {
    bar.Finish();
    std::cerr << "skipped: " << issue.file << ": " << issue.reason << std::endl;
  });
  bar.Finish();
  if (!summary.ok()) {
    std::cerr << "synthlens " << name << ": " << summary.error() << std::endl;
    return kExitFailure;
  }
  std::cerr << name << ": " << summary->views_written << " views of " << summary->images
            << " images written to " << out_dir << ", " << summary->skipped
            << " unreadable input(s) skipped" << (summary->cancelled ? " (cancelled)" : "")
            << std::endl;
  if (summary->cancelled) return kExitFailure;
  if (strict && summary->skipped > 0) return kExitFailure;
  return kExitOk;
}

}  // namespace synthlens::cli
