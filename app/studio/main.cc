// synthlens-studio: the GUI. With no arguments it opens the demo (Fashion-MNIST test set);
// with one argument it opens that SRC (folder, fashion-mnist:train|test, idx:FILE, .csv).
#include <QApplication>
#include <QCommandLineParser>
#include <QTimer>

#include "core/infer/device.h"
#include "core/util/parallel.h"
#include "core/util/version.h"
#include "ui/comparison_panel.h"
#include "ui/main_window.h"

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  QApplication::setApplicationName(QStringLiteral("SynthLens Studio"));
  QApplication::setApplicationVersion(QStringLiteral(SYNTHLENS_VERSION));
  QCommandLineParser parser;
  parser.setApplicationDescription(QStringLiteral("Classic and generative SSL views, side by side"));
  parser.addHelpOption();
  parser.addVersionOption();
  parser.addPositionalArgument(QStringLiteral("source"),
                               QStringLiteral("Image source (default: fashion-mnist:test)"));
  QCommandLineOption screenshot(QStringLiteral("screenshot"),
                                QStringLiteral("Save a screenshot of the window to FILE after "
                                               "the views appear, then quit"),
                                QStringLiteral("FILE"));
  parser.addOption(screenshot);
  parser.process(app);

  synthlens::SetNumThreads(0);
  synthlens::SetBackendThreads(0);

  synthlens::ui::MainWindow window;
  window.show();
  const QStringList args = parser.positionalArguments();
  window.OpenSource(args.isEmpty() ? QStringLiteral("fashion-mnist:test") : args.front());
  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    QObject::connect(window.comparison(), &synthlens::ui::ComparisonPanel::ViewsShown, &window,
                     [&window, file](int) {
                       // Let thumbnails arrive and the layout settle before grabbing.
                       QTimer::singleShot(1500, &window, [&window, file] {
                         window.grab().save(file);
                         QApplication::quit();
                       });
                     });
  }
  return app.exec();
}
