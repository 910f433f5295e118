// Qt Test, offscreen: the studio opens a source, shows thumbnails, and shows K classic views of
// the selected image, regenerating them when the controls change.
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QLabel>
#include <QListView>
#include <QVBoxLayout>
#include <QProgressBar>
#include <QMenuBar>
#include <QMimeData>
#include <QSettings>
#include <QSignalSpy>
#include <QTabWidget>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/parallel.h"
#include "tests/test_util.h"
#include "ui/comparison_panel.h"
#include "ui/generative_panel.h"
#include "ui/studio_test_packages.h"
#include "ui/image_grid_model.h"
#include "ui/image_view.h"
#include "ui/job_status_row.h"
#include "ui/main_window.h"
#include "qcustomplot.h"

using synthlens::ui::ComparisonPanel;
using synthlens::ui::GenerativePanel;
using synthlens::ui::ImageGridModel;
using synthlens::ui::MainWindow;

namespace {

// Pairs of visible sibling widgets whose rectangles overlap (anywhere under `root`), by class and
// object name: on a small screen the layout must scroll or shrink, never stack widgets.
QStringList Overlaps(const QWidget* root) {
  QStringList found;
  std::vector<const QWidget*> kids;
  for (const QObject* o : root->children()) {
    const auto* w = qobject_cast<const QWidget*>(o);
    if (w && w->isVisible() && !w->isWindow() && !w->geometry().isEmpty()) kids.push_back(w);
  }
  auto name = [](const QWidget* w) {
    return QString::fromLatin1(w->metaObject()->className()) + QLatin1Char('"') + w->objectName() + QLatin1Char('"');
  };
  for (size_t i = 0; i < kids.size(); ++i) {
    for (size_t j = i + 1; j < kids.size(); ++j) {
      const QRect overlap = kids[i]->geometry().intersected(kids[j]->geometry());
      if (overlap.width() > 1 && overlap.height() > 1) {
        found << name(root) + QStringLiteral(": ") + name(kids[i]) + QStringLiteral(" / ") + name(kids[j]);
      }
    }
    found << Overlaps(kids[i]);
  }
  return found;
}

}  // namespace

class StudioTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    dir_ = std::make_unique<synthlens::testing::TempDir>();
    // Settings of this test only (QSettings under a temporary config folder).
    qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString(dir_->Join("config")));
    QCoreApplication::setOrganizationName(QStringLiteral("synthlens-test"));
    for (int i = 0; i < 12; ++i) {
      cv::Mat img(40, 40, CV_8UC3, cv::Scalar(0, 40 + 15 * i, 200));  // BGR: red-ish
      cv::rectangle(img, {5, 5}, {20 + i, 30}, cv::Scalar(255, 255, 255), -1);
      const std::string cls = i < 6 ? "cats" : "dogs";
      std::filesystem::create_directories(dir_->Join(cls));
      cv::imwrite(dir_->Join(cls + "/img" + std::to_string(10 + i) + ".png"), img);
    }
  }

  // A 1280x720 screen: the window fits (minus the frame) and no tab stacks widgets on each other;
  // what does not fit scrolls.
  void smallScreenFitsWithoutOverlaps() {
    MainWindow window;
    QVERIFY2(window.minimumSizeHint().width() <= 1264 && window.minimumSizeHint().height() <= 672,
             qPrintable(QStringLiteral("minimum size %1x%2").arg(window.minimumSizeHint().width())
                            .arg(window.minimumSizeHint().height())));
    window.resize(1264, 672);
    window.show();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(dir_->path()));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_COMPARE_WITH_TIMEOUT(window.comparison()->shown_view_count(), window.comparison()->view_count(), 10000);
    QCOMPARE(window.size(), QSize(1264, 672));
    // Every tile shows its (small) image at least at native size, caption included.
    window.findChild<QTabWidget*>()->setCurrentIndex(0);
    QTest::qWait(100);
    int tiles = 0;
    for (const synthlens::ui::ImageView* tile : window.findChildren<synthlens::ui::ImageView*>()) {
      if (!tile->isVisible() || tile->image().isNull()) continue;
      ++tiles;
      const int caption = tile->fontMetrics().height() + 4;
      QVERIFY2(tile->width() >= std::min(tile->image().width(), 96) + 8 &&
                   tile->height() >= std::min(tile->image().height(), 96) + 8 + caption,
               qPrintable(QStringLiteral("tile %1x%2 for a %3x%4 image").arg(tile->width()).arg(tile->height())
                              .arg(tile->image().width()).arg(tile->image().height())));
    }
    QVERIFY(tiles > window.comparison()->view_count());
    for (int tab = 0; tab < 5; ++tab) {
      window.findChild<QTabWidget*>()->setCurrentIndex(tab);
      QTest::qWait(100);
      const QStringList overlaps = Overlaps(&window);
      QVERIFY2(overlaps.isEmpty(), qPrintable(QStringLiteral("tab %1: ").arg(tab) + overlaps.join(QStringLiteral("; "))));
    }
  }

  // Conventions: Edit and Help menus; Help › Keyboard Shortcuts lists the menus' and the Labels
  // tab's keys.
  void editAndHelpMenusAndTheShortcutList() {
    MainWindow window;
    QStringList titles;
    for (QAction* a : window.menuBar()->actions()) titles << a->text().remove(QLatin1Char('&'));
    QCOMPARE(titles, QStringList({"File", "Edit", "View", "Help"}));
    const QString text = window.ShortcutsText();
    QVERIFY2(text.contains(QStringLiteral("Ctrl+E\tFile › Export Figure")), qPrintable(text));
    QVERIFY(text.contains(QStringLiteral("Ctrl+2\tView › Embeddings")));
    QVERIFY(text.contains(QStringLiteral("Ctrl+Z\tEdit › Undo")));
    QVERIFY(text.contains(QStringLiteral("Labels tab")));
    QVERIFY(text.contains(QStringLiteral("Toggle category 1")));
    QVERIFY(!MainWindow::DocumentationPath().isEmpty());
  }

  // Choices survive a restart: saved when the window closes, applied by RestoreSettings.
  void settingsAreRememberedBetweenSessions() {
    {
      MainWindow a;
      a.show();
      a.comparison()->SetRecipe(QStringLiteral("byol"));
      a.comparison()->SetViewCount(5);
      a.generative()->SetMode(QStringLiteral("instance"));
      a.generative()->SetStrength(0.7);
      a.generative()->SetSteps(12);
      a.generative()->SetSweepEnabled(false);
      QSignalSpy opened(&a, &MainWindow::SourceOpened);
      a.OpenSource(QString::fromStdString(dir_->path()));
      QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
      a.close();
    }
    MainWindow b;
    QCOMPARE(b.RestoreSettings(), QString::fromStdString(dir_->path()));
    QCOMPARE(b.comparison()->recipe_choice(), QStringLiteral("byol"));
    QCOMPARE(b.comparison()->view_count(), 5);
    const synthlens::GenerateOptions g = b.generative()->current_options();
    QCOMPARE(g.mode, std::string("instance"));
    QCOMPARE(g.strength, 0.7);
    QCOMPARE(g.steps, 12);
    QVERIFY(!b.generative()->sweep_enabled());
  }

  // A job's progress bar appearing and going does not move anything (the row keeps its size).
  void progressRowDoesNotJump() {
    QWidget host;
    auto* layout = new QVBoxLayout(&host);
    auto* above = new QLabel(QStringLiteral("above"), &host);
    layout->addWidget(above);
    const synthlens::ui::JobStatusRow row = synthlens::ui::AddJobStatusRow(&host, layout, QStringLiteral("idle"), [] {
      return std::shared_ptr<std::atomic<int>>();
    });
    auto* below = new QLabel(QStringLiteral("below"), &host);
    layout->addWidget(below);
    host.resize(600, 200);
    host.show();
    QTest::qWait(50);
    const QRect label = row.label->geometry(), under = below->geometry();
    synthlens::ui::ShowJobProgress(row);
    QTest::qWait(50);
    QVERIFY(row.progress->isVisible());
    QCOMPARE(row.label->geometry(), label);
    QCOMPARE(below->geometry(), under);
    synthlens::ui::HideJobProgress(row);
    QTest::qWait(50);
    QCOMPARE(row.label->geometry(), label);
  }

  // The dark theme: a dark palette that the plots follow, remembered; and back.
  void darkThemeColoursWidgetsAndPlots() {
    MainWindow window;
    window.show();
    window.SetDarkTheme(true);
    QVERIFY(window.dark_theme());
    QVERIFY(QApplication::palette().color(QPalette::Base).lightness() < 80);
    const QColor text = QApplication::palette().color(QPalette::Text);
    QVERIFY(text.lightness() > 200);
    const QList<QCustomPlot*> plots = window.findChildren<QCustomPlot*>();
    QVERIFY(plots.size() >= 3);  // embedding, sweep, class balance, spectrum
    for (QCustomPlot* plot : plots) {
      QCOMPARE(plot->xAxis->labelColor(), text);
      QCOMPARE(plot->legend->textColor(), text);
    }
    QVERIFY(QSettings().value(QStringLiteral("view/dark")).toBool());
    window.SetDarkTheme(false);
    QVERIFY(QApplication::palette().color(QPalette::Base).lightness() > 200);
    QCOMPARE(plots.front()->xAxis->labelColor(), QApplication::palette().color(QPalette::Text));
    QVERIFY(!QSettings().value(QStringLiteral("view/dark")).toBool());
  }

  void opensSourceAndShowsViews() {
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(dir_->path()));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QCOMPARE(window.grid_model()->rowCount(), 12);
    QCOMPARE(window.current_row(), 0);
    ComparisonPanel* panel = window.comparison();
    QTRY_COMPARE_WITH_TIMEOUT(panel->shown_view_count(), panel->view_count(), 10000);
    QVERIFY(panel->view_count() >= 1);
    QVERIFY(!panel->original()->image().isNull());
    QCOMPARE(panel->original()->image().width(), 40);
    // SimCLR views carry a crop box each, drawn on the original.
    QCOMPARE(panel->original()->box_count(), panel->view_count());
    QVERIFY(panel->ViewToolTip(0).contains(QStringLiteral("crop")));

    // Thumbnails arrive in the background and replace the grey placeholder.
    const QModelIndex first = window.grid_model()->index(0);
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
          const QPixmap pixmap = first.data(Qt::DecorationRole).value<QPixmap>();
          if (pixmap.isNull()) return false;
          const QColor c = pixmap.toImage().pixelColor(pixmap.width() - 2, pixmap.height() - 2);
          return c.red() > 150 && c.blue() < 50;
        }(),
        10000);
    QVERIFY(first.data(Qt::ToolTipRole).toString().contains(QStringLiteral("cats")));
  }

  void controlsRegenerateViews() {
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(dir_->path()));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    ComparisonPanel* panel = window.comparison();
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() > 0, 10000);

    panel->SetViewCount(3);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 3, 10000);
    const cv::Mat before = panel->shown_views()[0].image.clone();
    const quint64 seed_before = panel->seed();
    // Same seed again: the same bytes.
    panel->SetSeed(seed_before);
    panel->Reroll();
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->seed() != seed_before, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy(), 10000);
    const cv::Mat after = panel->shown_views()[0].image;
    QVERIFY(before.size() != after.size() || cv::norm(before, after, cv::NORM_INF) > 0);

    // Arrow keys move through the images; the views follow.
    QTest::keyClick(window.grid(), Qt::Key_Right);
    QCOMPARE(window.current_row(), 1);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 3, 10000);

    // Recipes switch; byol alternates its two pipelines.
    panel->SetRecipe(QStringLiteral("byol"));
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 3, 10000);
  }

  void dropOpensAFolder() {
    MainWindow window;
    window.show();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    auto* mime = new QMimeData;
    mime->setUrls({QUrl::fromLocalFile(QString::fromStdString(dir_->Join("dogs")))});
    QDragEnterEvent enter(QPoint(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(QPointF(10, 10), Qt::CopyAction, mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(&window, &drop);
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QCOMPARE(window.grid_model()->rowCount(), 6);
    delete mime;
  }

  // Generative views appear for the selected image, are stored in the project with their
  // provenance, and come back from the project when the image is selected again.
  void generativeViewsAreGeneratedThenCached() {
    const std::string package = synthlens::ui::testing::MakeTestDiffusionPackage(dir_->Join("pk"));
    MainWindow window;
    window.show();
    window.OpenProject(QString::fromStdString(dir_->Join("studio.synthlens")));
    GenerativePanel* panel = window.generative();
    QSignalSpy model_opened(panel, &GenerativePanel::ModelOpened);
    window.OpenModel(QString::fromStdString(package));
    QTRY_COMPARE_WITH_TIMEOUT(model_opened.count(), 1, 10000);
    QVERIFY(model_opened.at(0).at(0).toBool());
    panel->SetViewCount(4);
    panel->SetSteps(5);
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(dir_->path()));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 4, 20000);
    QCOMPARE(panel->sweep_count(), 10);
    QVERIFY(!panel->last_from_cache());
    QVERIFY(QString::fromStdString(panel->shown_views()[0].params_json)
                .contains(QStringLiteral("model_hash")));
    const cv::Mat first = panel->shown_views()[1].image.clone();

    QTest::keyClick(window.grid(), Qt::Key_Right);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 4, 20000);
    QTest::keyClick(window.grid(), Qt::Key_Left);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 4, 20000);
    QVERIFY(panel->last_from_cache());
    QCOMPARE(cv::norm(first, panel->shown_views()[1].image, cv::NORM_INF), 0.0);

    // Conditioning on the source's label: the views record the label of "cats" (class 0) and are
    // new views, not the cached unconditioned ones.
    panel->SetClassCondition(synthlens::kClassOfSourceLabel);
    QTRY_VERIFY_WITH_TIMEOUT(!panel->busy() && panel->shown_view_count() == 4 &&
                                 QString::fromStdString(panel->shown_views()[0].params_json)
                                     .contains(QStringLiteral("\"class\":0")),
                             20000);
    QVERIFY(!panel->last_from_cache());
    // The test package does not name its classes: the folder's classes go by number, and the
    // status line says so beside the view count.
    QVERIFY2(panel->status_text().contains(QStringLiteral("⚠")) &&
                 panel->status_text().contains(QStringLiteral("does not name its classes")),
             qPrintable(panel->status_text()));

    // A missing model is a clear message, not a crash.
    QSignalSpy failed(panel, &GenerativePanel::ModelOpened);
    window.OpenModel(QString::fromStdString(dir_->Join("no-model")));
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    QVERIFY(!failed.at(0).at(0).toBool());
    QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("no-model")));
  }

  void badSourceIsReported() {
    MainWindow window;
    QSignalSpy failed(&window, &MainWindow::SourceFailed);
    const QString missing = QString::fromStdString(dir_->Join("no-such-folder"));
    window.OpenSource(missing);
    QTRY_COMPARE_WITH_TIMEOUT(failed.count(), 1, 10000);
    QVERIFY(failed.at(0).at(1).toString().contains(QStringLiteral("no-such-folder")));
    QCOMPARE(window.grid_model()->rowCount(), 0);
  }

 private:
  std::unique_ptr<synthlens::testing::TempDir> dir_;
};

QTEST_MAIN(StudioTest)
#include "studio_test.moc"
