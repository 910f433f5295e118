#pragma once

#include <QPlainTextEdit>

namespace synthlens::ui {

// Shows core's log (the one logging facade) in the studio. Messages logged on worker threads are
// queued to the GUI thread.
class LogPanel : public QPlainTextEdit {
  Q_OBJECT

 public:
  explicit LogPanel(QWidget* parent = nullptr);
  ~LogPanel() override;

 public slots:
  void Append(int level, const QString& message);
};

}  // namespace synthlens::ui
