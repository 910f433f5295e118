// synthlens-studio: the GUI. With no arguments it opens the demo (Fashion-MNIST test set);
// with one argument it opens that SRC (folder, fashion-mnist:train|test, idx:FILE, .csv).
#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QTimer>
#include <memory>
#include <string>

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

namespace {

// Every option of the studio; built before any application object, so --help and --version work
// without a display (a QCoreApplication prints them).
struct StudioOptions {
  QCommandLineOption screenshot{QStringLiteral("screenshot"),
                                QStringLiteral("Save a screenshot of the window to FILE after "
                                               "the views appear, then quit"),
                                QStringLiteral("FILE")};
  QCommandLineOption project{QStringLiteral("project"),
                             QStringLiteral("Project file that keeps generated views (default: "
                                            "studio.synthlens in the app data folder)"),
                             QStringLiteral("FILE")};
  QCommandLineOption model{QStringLiteral("model"),
                           QStringLiteral("Diffusion model package for the generative views "
                                          "(default: builtin)"),
                           QStringLiteral("PKG"), QStringLiteral("builtin")};
  QCommandLineOption embeddings{QStringLiteral("embeddings"),
                                QStringLiteral("Open on the Embeddings tab (the screenshot then "
                                               "waits for the projection)")};
  QCommandLineOption labels{QStringLiteral("labels"), QStringLiteral("Open on the Labels tab (hand labelling)")};
  QCommandLineOption detectors{QStringLiteral("detectors"),
                               QStringLiteral("Open on the Detectors tab and run the detectors once "
                                              "the source is open (the screenshot waits for them)")};
  QCommandLineOption bias{QStringLiteral("bias"),
                          QStringLiteral("Open on the Bias tab and run the bias report once the "
                                         "source is open (the screenshot waits for it)")};
  QCommandLineOption reference{QStringLiteral("reference"),
                               QStringLiteral("Reference (real) set of the Detectors and Bias tabs "
                                              "(default: fashion-mnist:test; 'same' for the source "
                                              "itself)"),
                               QStringLiteral("SRC")};
  QCommandLineOption synthetic{QStringLiteral("synthetic"),
                               QStringLiteral("A synthetic image set (SRC) to plot and compare in "
                                              "the Embeddings tab"),
                               QStringLiteral("SRC")};
  QCommandLineOption method{QStringLiteral("projection"),
                            QStringLiteral("Projection of the Embeddings tab: pca, tsne, umap "
                                           "(default: pca)"),
                            QStringLiteral("METHOD"), QStringLiteral("pca")};
  QCommandLineOption dark{QStringLiteral("dark"), QStringLiteral("Open in the dark theme (View > Dark Theme)")};
  QCommandLineOption sweep{QStringLiteral("sweep"),
                           QStringLiteral("Run the Embeddings tab's strength sweep over N images "
                                          "once the projection is ready"),
                           QStringLiteral("N")};

  void AddTo(QCommandLineParser& parser) const {
    parser.setApplicationDescription(QStringLiteral("Classic and generative SSL views, side by side"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("source"),
                                 QStringLiteral("Image source (default: fashion-mnist:test)"));
    for (const QCommandLineOption* o : {&screenshot, &project, &model, &embeddings, &labels, &detectors,
                                        &bias, &reference, &synthetic, &method, &sweep, &dark}) {
      parser.addOption(*o);
    }
  }
};

bool AsksForHelpOrVersion(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "-h" || a == "--help" || a == "--help-all" || a == "-?" || a == "-v" || a == "--version") return true;
    if (a == "--") break;
  }
  return false;
}

void SetNames() {
  QCoreApplication::setOrganizationName(QStringLiteral("SynthLens"));
  QCoreApplication::setApplicationName(QStringLiteral("SynthLens Studio"));
  QCoreApplication::setApplicationVersion(QStringLiteral(SYNTHLENS_VERSION));
}

}  // namespace

int main(int argc, char** argv) {
  const StudioOptions options;
  if (AsksForHelpOrVersion(argc, argv)) {
    QCoreApplication core(argc, argv);  // no display needed
    SetNames();
    QCommandLineParser parser;
    options.AddTo(parser);
    parser.process(core);  // prints and exits
    return 0;
  }
  QApplication app(argc, argv);
  SetNames();
  QCommandLineParser parser;
  options.AddTo(parser);
  parser.process(app);

  synthlens::SetNumThreads(0);
  synthlens::SetBackendThreads(0);

  synthlens::ui::MainWindow window;
  // The last session's window, settings and source; screenshots keep the defaults.
  if (parser.isSet(options.dark)) window.SetDarkTheme(true);
  QString last_source;
  if (!parser.isSet(options.screenshot)) {
    window.RestoreWindowState();
    last_source = window.RestoreSettings();
    // A folder or file that is gone falls back to the default rather than an error at start.
    if (!last_source.isEmpty() && !last_source.contains(QLatin1Char(':')) && !QFileInfo::exists(last_source)) {
      last_source.clear();
    }
  }
  window.show();
  QString project_path = parser.value(options.project);
  if (project_path.isEmpty()) {
    const QString dir = QStandardPaths::writableLocation(QStandardPaths::AppDataLocation);
    QDir().mkpath(dir);
    project_path = dir + QStringLiteral("/studio.synthlens");
  }
  window.OpenProject(project_path);
  window.OpenModel(parser.value(options.model));
  if (!window.embeddings()->SetMethodByName(parser.value(options.method))) {
    qWarning("unknown projection '%s' (pca, tsne, umap)", qPrintable(parser.value(options.method)));
  }
  if (parser.isSet(options.synthetic)) window.embeddings()->SetSyntheticSource(parser.value(options.synthetic));
  if (parser.isSet(options.sweep)) {
    const int images = parser.value(options.sweep).toInt();
    auto* view = window.embeddings();
    auto once = std::make_shared<QMetaObject::Connection>();
    *once = QObject::connect(view, &synthlens::ui::EmbeddingView::ProjectionReady, view,
                             [view, images, once] {
                               QObject::disconnect(*once);
                               view->RunSweep(images, 10);
                             });
  }
  const bool on_embeddings = parser.isSet(options.embeddings);
  if (on_embeddings) window.ShowEmbeddings();
  if (parser.isSet(options.labels)) window.ShowLabels();
  if (parser.isSet(options.reference)) {
    const QString spec = parser.value(options.reference) == QStringLiteral("same") ? QString()
                                                                          : parser.value(options.reference);
    window.detectors()->SetReference(spec);
    window.bias()->SetReference(spec);
  }
  const bool run_detectors = parser.isSet(options.detectors);
  const bool run_bias = parser.isSet(options.bias);
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
  window.OpenSource(!args.isEmpty() ? args.front()
                    : !last_source.isEmpty() ? last_source : QStringLiteral("fashion-mnist:test"));
  if (parser.isSet(options.screenshot)) {
    const QString file = parser.value(options.screenshot);
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
