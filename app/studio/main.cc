// synthlens-studio: the GUI. With no arguments it opens the demo (Fashion-MNIST test set);
// with one argument it opens that SRC (folder, fashion-mnist:train|test, idx:FILE, .csv).
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QStandardPaths>
#include <QTimer>
#include <memory>

#include "core/infer/device.h"
#include "core/util/parallel.h"
#include "core/util/version.h"
#include "ui/bias_view.h"
#include "ui/comparison_panel.h"
#include "ui/detector_view.h"
#include "ui/embedding_view.h"
#include "ui/generative_panel.h"
#include "ui/learned_detector.h"
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
  QCommandLineOption project(QStringLiteral("project"),
                             QStringLiteral("Project file that keeps generated views (default: "
                                            "studio.synthlens in the app data folder)"),
                             QStringLiteral("FILE"));
  parser.addOption(project);
  QCommandLineOption model(QStringLiteral("model"),
                           QStringLiteral("Diffusion model package for the generative views "
                                          "(default: builtin)"),
                           QStringLiteral("PKG"), QStringLiteral("builtin"));
  parser.addOption(model);
  QCommandLineOption embeddings(QStringLiteral("embeddings"),
                                QStringLiteral("Open on the Embeddings tab (the screenshot then "
                                               "waits for the projection)"));
  parser.addOption(embeddings);
  QCommandLineOption labels(QStringLiteral("labels"),
                            QStringLiteral("Open on the Labels tab (hand labelling)"));
  parser.addOption(labels);
  QCommandLineOption detectors(QStringLiteral("detectors"),
                               QStringLiteral("Open on the Detectors tab and run the detectors once "
                                              "the source is open (the screenshot waits for them)"));
  parser.addOption(detectors);
  QCommandLineOption bias(QStringLiteral("bias"),
                          QStringLiteral("Open on the Bias tab and run the bias report once the "
                                         "source is open (the screenshot waits for it)"));
  parser.addOption(bias);
  QCommandLineOption reference(QStringLiteral("reference"),
                               QStringLiteral("Reference (real) set of the Detectors and Bias tabs "
                                              "(default: fashion-mnist:test; 'same' for the source "
                                              "itself)"),
                               QStringLiteral("SRC"));
  parser.addOption(reference);
  QCommandLineOption synthetic(QStringLiteral("synthetic"),
                               QStringLiteral("A synthetic image set (SRC) to plot and compare in "
                                              "the Embeddings tab"),
                               QStringLiteral("SRC"));
  parser.addOption(synthetic);
  QCommandLineOption method(QStringLiteral("projection"),
                            QStringLiteral("Projection of the Embeddings tab: pca, tsne, umap "
                                           "(default: pca)"),
                            QStringLiteral("METHOD"), QStringLiteral("pca"));
  parser.addOption(method);
  QCommandLineOption sweep(QStringLiteral("sweep"),
                           QStringLiteral("Run the Embeddings tab's strength sweep over N images "
                                          "once the projection is ready"),
                           QStringLiteral("N"));
  parser.addOption(sweep);
  parser.process(app);

  synthlens::SetNumThreads(0);
  synthlens::SetBackendThreads(0);

  synthlens::ui::MainWindow window;
  window.show();
  QString project_path = parser.value(project);
  if (project_path.isEmpty()) {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    project_path = dir + QStringLiteral("/studio.synthlens");
  }
  window.OpenProject(project_path);
  window.OpenModel(parser.value(model));
  if (!window.embeddings()->SetMethodByName(parser.value(method))) {
    qWarning("unknown projection '%s' (pca, tsne, umap)", qPrintable(parser.value(method)));
  }
  if (parser.isSet(synthetic)) window.embeddings()->SetSyntheticSource(parser.value(synthetic));
  if (parser.isSet(sweep)) {
    const int images = parser.value(sweep).toInt();
    auto* view = window.embeddings();
    auto once = std::make_shared<QMetaObject::Connection>();
    *once = QObject::connect(view, &synthlens::ui::EmbeddingView::ProjectionReady, view,
                             [view, images, once] {
                               QObject::disconnect(*once);
                               view->RunSweep(images, 10);
                             });
  }
  const bool on_embeddings = parser.isSet(embeddings);
  if (on_embeddings) window.ShowEmbeddings();
  if (parser.isSet(labels)) window.ShowLabels();
  if (parser.isSet(reference)) {
    const QString spec = parser.value(reference) == QStringLiteral("same") ? QString()
                                                                          : parser.value(reference);
    window.detectors()->SetReference(spec);
    window.bias()->SetReference(spec);
  }
  const bool run_detectors = parser.isSet(detectors);
  const bool run_bias = parser.isSet(bias);
  if (run_bias) window.ShowBias();
  if (run_detectors) window.ShowDetectors();
  if (run_detectors || run_bias) {
    QObject::connect(&window, &synthlens::ui::MainWindow::SourceOpened, &window,
                     [&window, run_detectors, run_bias] {
                       if (run_detectors) window.detectors()->Run();
                       if (run_bias) window.bias()->Run();
                     });
  }
  const QStringList args = parser.positionalArguments();
  window.OpenSource(args.isEmpty() ? QStringLiteral("fashion-mnist:test") : args.front());
  if (parser.isSet(screenshot)) {
    const QString file = parser.value(screenshot);
    // Grab once the classic views are shown and the generative panel is idle (or has no model).
    auto* poll = new QTimer(&window);
    QObject::connect(poll, &QTimer::timeout, &window, [&window, file, poll, on_embeddings,
                                                       run_detectors, run_bias] {
      if (window.comparison()->busy() || window.generative()->busy() ||
          window.comparison()->shown_view_count() == 0) {
        return;
      }
      if (on_embeddings && (window.embeddings()->busy() || !window.embeddings()->has_projection())) {
        return;
      }
      if (run_detectors && (window.detectors()->busy() || !window.detectors()->has_result())) {
        // A failed run leaves busy() false without a result: stop waiting once it said so.
        if (!window.detectors()->status_text().startsWith(QStringLiteral("Detectors failed"))) return;
      }
      if (run_detectors && window.detectors()->learned()->busy()) return;
      if (run_bias && (window.bias()->busy() || !window.bias()->has_report())) {
        if (!window.bias()->status_text().startsWith(QStringLiteral("Bias report failed"))) return;
      }
      poll->stop();
      QTimer::singleShot(1500, &window, [&window, file] {
        window.grab().save(file);
        QApplication::quit();
      });
    });
    poll->start(250);
  }
  return app.exec();
}
