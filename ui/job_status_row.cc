#include "ui/job_status_row.h"

#include <QBoxLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QTimer>

namespace synthlens::ui {

JobStatusRow AddJobStatusRow(QWidget* owner, QBoxLayout* layout, const QString& text,
                             std::function<std::shared_ptr<std::atomic<int>>()> permille) {
  JobStatusRow row;
  auto* status = new QHBoxLayout();
  row.label = new QLabel(text, owner);
  row.label->setWordWrap(true);
  row.progress = new QProgressBar(owner);
  row.progress->setRange(0, 1000);
  row.progress->setVisible(false);
  row.cancel = new QPushButton(QObject::tr("Cancel"), owner);
  row.cancel->setVisible(false);
  // The row keeps its height and the label its width while the bar comes and goes: the layout
  // never jumps when work starts or ends.
  for (QWidget* w : {static_cast<QWidget*>(row.progress), static_cast<QWidget*>(row.cancel)}) {
    QSizePolicy policy = w->sizePolicy();
    policy.setRetainSizeWhenHidden(true);
    w->setSizePolicy(policy);
  }
  status->addWidget(row.label, 2);
  status->addWidget(row.progress, 1);
  status->addWidget(row.cancel);
  layout->addLayout(status);
  row.poll = new QTimer(owner);
  row.poll->setInterval(50);
  QProgressBar* bar = row.progress;
  QObject::connect(row.poll, &QTimer::timeout, owner, [bar, permille = std::move(permille)] {
    if (auto counter = permille()) bar->setValue(counter->load());
  });
  return row;
}

void ShowJobProgress(const JobStatusRow& row) {
  row.progress->setValue(0);
  row.progress->setVisible(true);
  row.cancel->setVisible(true);
  row.poll->start();
}

void HideJobProgress(const JobStatusRow& row) {
  row.poll->stop();
  row.progress->setVisible(false);
  row.cancel->setVisible(false);
}

}  // namespace synthlens::ui
