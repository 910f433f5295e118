// Qt Test of BackgroundJob: supersede restarts once and only the new job's result arrives,
// cancel and exceptions are reported, CancelAll drops a pending restart, progress is counted.
#include <QtTest>
#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "ui/background_job.h"

using synthlens::ProgressFn;
using synthlens::Result;
using synthlens::ui::BackgroundJob;

namespace {

// Work that reports progress until cancelled or `steps` are done, then returns `value`.
BackgroundJob<int>::Work Counting(int value, int steps) {
  return [value, steps](const ProgressFn& progress) -> Result<int> {
    for (int s = 1; s <= steps; ++s) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (!progress(static_cast<double>(s) / steps)) return Result<int>::Failure("cancelled");
    }
    return value;
  };
}

}  // namespace

class BackgroundJobTest : public QObject {
  Q_OBJECT

 private slots:
  void finishesWithTheResultAndProgress() {
    QObject context;
    int ended = 0, restarted = 0, finished = 0, value = -1;
    bool was_cancelled = true;
    BackgroundJob<int> job(
        &context, [&] { ++ended; }, [&] { ++restarted; },
        [&](Result<int> r, bool cancelled) {
          ++finished;
          value = r.ok() ? *r : -2;
          was_cancelled = cancelled;
        });
    job.Start(Counting(7, 5));
    QVERIFY(job.busy());
    QTRY_COMPARE(finished, 1);
    QCOMPARE(value, 7);
    QVERIFY(!was_cancelled);
    QCOMPARE(ended, 1);
    QCOMPARE(restarted, 0);
    QCOMPARE(job.permille()->load(), 1000);
    QVERIFY(!job.busy());
  }

  void supersedeRestartsOnceWithTheNewJob() {
    QObject context;
    int finished = 0, value = -1;
    BackgroundJob<int>* self = nullptr;
    BackgroundJob<int> job(
        &context, [] {}, [&] { self->Start(Counting(2, 3)); },
        [&](Result<int> r, bool cancelled) {
          ++finished;
          value = r.ok() ? *r : -2;
          QVERIFY(!cancelled);
        });
    self = &job;
    job.Start(Counting(1, 100000));
    QVERIFY(!BackgroundJob<int>(&context, {}, {}, {}).Supersede());  // nothing runs: no-op
    QVERIFY(job.Supersede());
    QVERIFY(job.Supersede());  // asking twice still restarts once
    QTRY_COMPARE(finished, 1);
    QCOMPARE(value, 2);  // the superseded job's result never arrives
  }

  void cancelAndExceptionsAreReported() {
    QObject context;
    int finished = 0;
    bool was_cancelled = false;
    QString error;
    BackgroundJob<int> job(&context, {}, {}, [&](Result<int> r, bool cancelled) {
      ++finished;
      was_cancelled = cancelled;
      error = r.ok() ? QString() : QString::fromStdString(r.error());
    });
    job.Start(Counting(1, 100000));
    job.Cancel();
    QTRY_COMPARE(finished, 1);
    QVERIFY(was_cancelled);
    job.Start([](const ProgressFn&) -> Result<int> { throw std::runtime_error("boom"); });
    QTRY_COMPARE(finished, 2);
    QVERIFY(!was_cancelled);
    QCOMPARE(error, QStringLiteral("boom"));
  }

  void cancelAllDropsAPendingRestart() {
    QObject context;
    int finished = 0, restarted = 0;
    BackgroundJob<int> job(
        &context, {}, [&] { ++restarted; }, [&](Result<int>, bool cancelled) {
          ++finished;
          QVERIFY(cancelled);
        });
    job.Start(Counting(1, 100000));
    QVERIFY(job.Supersede());
    job.CancelAll();
    QTRY_COMPARE(finished, 1);
    QCOMPARE(restarted, 0);
  }

  void destroyingWhileRunningStopsTheWorker() {
    QObject context;
    auto job = std::make_unique<BackgroundJob<int>>(&context, nullptr, nullptr, nullptr);
    job->Start(Counting(1, 100000));
    job.reset();  // cancels and waits; must neither hang nor crash
    QVERIFY(true);
  }
};

QTEST_MAIN(BackgroundJobTest)
#include "background_job_test.moc"
