#pragma once
// One cancellable background job of a panel, restartable while it runs: the worker thread, its
// cancel flag and progress counter, and the "supersede" rule (a new run cancels the running one
// and starts once it has ended), so each view keeps only its options, texts and rendering.

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>
#include <atomic>
#include <exception>
#include <functional>
#include <memory>
#include <utility>

#include "core/util/check.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens::ui {

// Lives on the GUI thread as a member of its view; every callback runs there. `T` is the value
// of the work's Result.
template <typename T>
class BackgroundJob {
 public:
  // Runs on a worker thread: must not touch widgets; calls `progress` between batches and stops
  // when it returns false. An exception becomes a failed Result with its message.
  using Work = std::function<Result<T>(const ProgressFn& progress)>;
  // `ended`: after every job, first (hide the progress row, reset the Run button).
  // `restart`: after a superseded job (the view's Run(), which builds the next job afresh).
  // `finished`: otherwise, with the job's result and whether it was cancelled (the cancel flag
  // was set or the work failed with "cancelled").
  BackgroundJob(QObject* context, std::function<void()> ended, std::function<void()> restart,
                std::function<void(Result<T> result, bool cancelled)> finished)
      : ended_(std::move(ended)), restart_(std::move(restart)), finished_(std::move(finished)) {
    QObject::connect(&watcher_, &QFutureWatcher<std::shared_ptr<Result<T>>>::finished, context,
                     [this] { OnFinished(); });
  }
  ~BackgroundJob() {
    CancelAll();
    watcher_.waitForFinished();
  }
  BackgroundJob(const BackgroundJob&) = delete;
  BackgroundJob& operator=(const BackgroundJob&) = delete;

  bool busy() const { return running_; }
  // The running (or last) job's progress, 0…1000, for JobStatusRow's poller; null before any.
  std::shared_ptr<std::atomic<int>> permille() const { return permille_; }

  // When a job runs: cancels it, asks for `restart` once it has ended and returns true. The view
  // calls this before building its next job, so the restart sees the options as they are then.
  bool Supersede() {
    if (!running_) return false;
    rerun_ = true;
    Cancel();
    return true;
  }

  // Starts `work` on a worker thread; no job may be running (call Supersede first).
  void Start(Work work) {
    SL_CHECK(!running_, "BackgroundJob::Start while a job runs");
    cancel_ = std::make_shared<std::atomic<bool>>(false);
    permille_ = std::make_shared<std::atomic<int>>(0);
    running_ = true;
    watcher_.setFuture(QtConcurrent::run(
        [work = std::move(work), cancel = cancel_, permille = permille_]() {
          const ProgressFn progress = [cancel, permille](double f) {
            permille->store(static_cast<int>(1000.0 * std::clamp(f, 0.0, 1.0)));
            return !cancel->load();
          };
          try {
            return std::make_shared<Result<T>>(work(progress));
          } catch (const std::exception& e) {
            return std::make_shared<Result<T>>(Result<T>::Failure(e.what()));
          }
        }));
  }

  // Asks the running job to stop; a pending restart still happens.
  void Cancel() {
    if (cancel_) cancel_->store(true);
  }
  // Asks the running job to stop and drops a pending restart (Cancel button, source changed).
  void CancelAll() {
    rerun_ = false;
    Cancel();
  }

 private:
  void OnFinished() {
    running_ = false;
    if (ended_) ended_();
    std::shared_ptr<Result<T>> result = watcher_.result();
    const bool cancelled = cancel_ && cancel_->load();
    if (rerun_) {
      rerun_ = false;
      if (restart_) restart_();
      return;
    }
    if (!result) result = std::make_shared<Result<T>>(Result<T>::Failure("no result"));
    const bool failed_cancelled = !result->ok() && result->error() == "cancelled";
    if (finished_) finished_(std::move(*result), cancelled || failed_cancelled);
  }

  std::function<void()> ended_;
  std::function<void()> restart_;
  std::function<void(Result<T>, bool)> finished_;
  QFutureWatcher<std::shared_ptr<Result<T>>> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::shared_ptr<std::atomic<int>> permille_;
  bool running_ = false;
  bool rerun_ = false;
};

}  // namespace synthlens::ui
