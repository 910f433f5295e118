#include "ui/log_panel.h"

#include <QMetaObject>

#include "core/util/logging.h"

namespace synthlens::ui {

LogPanel::LogPanel(QWidget* parent) : QPlainTextEdit(parent) {
  setReadOnly(true);
  setMaximumBlockCount(5000);
  // The destructor removes the sink under the logging mutex, so `this` outlives every call.
  SetLogSink([this](LogLevel level, const std::string& message) {
    QMetaObject::invokeMethod(this, "Append", Qt::QueuedConnection,
                              Q_ARG(int, static_cast<int>(level)),
                              Q_ARG(QString, QString::fromStdString(message)));
  });
}

LogPanel::~LogPanel() { SetLogSink(nullptr); }

void LogPanel::Append(int level, const QString& message) {
  appendPlainText(QStringLiteral("[%1] %2")
                      .arg(QString::fromLatin1(LogLevelName(static_cast<LogLevel>(level))),
                           message));
}

}  // namespace synthlens::ui
