#pragma once
// The status row of a panel that runs background work: a status text, a 0…1000 progress bar and a
// Cancel button (both hidden while idle), and a timer that copies the worker's progress into the
// bar, so every panel shows long work the same way.

#include <QString>
#include <atomic>
#include <functional>
#include <memory>

class QBoxLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QTimer;
class QWidget;

namespace synthlens::ui {

struct JobStatusRow {
  QLabel* label = nullptr;
  QProgressBar* progress = nullptr;  // range 0…1000 (per mille)
  QPushButton* cancel = nullptr;
  QTimer* poll = nullptr;  // every 50 ms while running: progress <- *permille()
};

// Builds the row at the end of `layout` (children of `owner`). `permille` returns the running
// job's progress counter (null while none runs); it is read on the GUI thread only.
JobStatusRow AddJobStatusRow(QWidget* owner, QBoxLayout* layout, const QString& text,
                             std::function<std::shared_ptr<std::atomic<int>>()> permille);

// Shows the progress bar and Cancel at 0 and starts polling; Hide stops and hides them.
void ShowJobProgress(const JobStatusRow& row);
void HideJobProgress(const JobStatusRow& row);

}  // namespace synthlens::ui
