#include "app/cli/progress_bar.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

namespace synthlens::cli {
namespace {

std::atomic<bool> g_interrupted{false};

void OnSigint(int) {
  if (g_interrupted.exchange(true)) std::_Exit(130);  // second Ctrl-C: leave now
}

}  // namespace

ProgressBar::ProgressBar(std::string label)
    : label_(std::move(label)),
      enabled_(::isatty(STDERR_FILENO) == 1),
      start_(std::chrono::steady_clock::now()) {
  std::signal(SIGINT, OnSigint);
}

ProgressBar::~ProgressBar() {
  Finish();
  std::signal(SIGINT, SIG_DFL);
}

bool ProgressBar::Interrupted() { return g_interrupted.load(); }

ProgressFn ProgressBar::Callback() {
  return [this](double fraction) { return Update(fraction); };
}

bool ProgressBar::Update(double fraction) {
  if (enabled_) {
    const int permille = static_cast<int>(fraction * 1000.0);
    if (permille != last_permille_) {
      last_permille_ = permille;
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
      const int width = 30;
      const int filled = static_cast<int>(fraction * width);
      std::string bar(static_cast<size_t>(filled), '#');
      bar.append(static_cast<size_t>(width - filled), '.');
      const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
      std::fprintf(stderr, "\r%s [%s] %5.1f%%  %.0fs elapsed, %.0fs left ", label_.c_str(),
                   bar.c_str(), fraction * 100.0, elapsed, eta);
      std::fflush(stderr);
    }
  }
  return !g_interrupted.load();
}

void ProgressBar::Finish() {
  if (enabled_ && !finished_ && last_permille_ >= 0) std::fprintf(stderr, "\n");
  finished_ = true;
}

}  // namespace synthlens::cli
