// Qt Test, offscreen: the embedding view on a tiny IDX source — PCA projection, colour by class,
// rectangle/lasso selection filtering the grid, click selecting the image, hover thumbnails, the
// displacement arrows, density mode above the threshold, the metrics panel and the sweep.
#include <QListView>
#include <QSignalSpy>
#include <QtTest>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "core/util/parallel.h"
#include "core/util/random.h"
#include "tests/test_util.h"
#include "ui/comparison_panel.h"
#include "ui/embedding_plot.h"
#include "ui/embedding_view.h"
#include "ui/image_grid_model.h"
#include "ui/main_window.h"
#include "ui/metrics_panel.h"
#include "ui/plot_hint.h"
#include "qcustomplot.h"
#include "ui/studio_test_packages.h"

using synthlens::ui::EmbeddingPlot;
using synthlens::ui::EmbeddingView;
using synthlens::ui::MainWindow;
using synthlens::ui::PlotPoint;
using synthlens::ui::PointKind;

namespace {

// An IDX image/label pair: class c has a bright 8x8 block at its own place, plus noise.
std::string WriteIdx(const std::string& dir, const std::string& name, int n, uint64_t seed) {
  auto rng = std::make_shared<synthlens::Rng>(seed);
  return synthlens::testing::WriteIdxPair(
      dir + "/" + name + "-images-idx3-ubyte", dir + "/" + name + "-labels-idx1-ubyte", n,
      [rng](int i, int y, int x) {
        const int c = i % 3;
        const bool block = y >= 4 + 7 * c && y < 12 + 7 * c && x >= 4 + 7 * c && x < 12 + 7 * c;
        const int v = (block ? 200 : 20) + static_cast<int>(rng->Uniform(0.0, 40.0));
        return static_cast<uint8_t>(std::min(255, v));
      },
      [](int i) { return i % 3; });
}

int CountKind(const EmbeddingPlot* plot, PointKind kind) {
  int n = 0;
  for (const PlotPoint& p : plot->points()) n += p.kind == kind;
  return n;
}

void SendMouse(QWidget* w, QEvent::Type type, const QPointF& pos, Qt::MouseButton button,
               Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QApplication::sendEvent(w, &e);
}

}  // namespace

class EmbeddingViewTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    dir_ = std::make_unique<synthlens::testing::TempDir>();
    spec_ = WriteIdx(dir_->path(), "real", 30, 1);
    synthetic_spec_ = WriteIdx(dir_->path(), "synth", 12, 2);
  }

  void projectsSelectsAndFilters() {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    EmbeddingView* view = window.embeddings();
    view->SetEncoder(QStringLiteral("pixels"));  // no trained model needed, deterministic
    window.ShowEmbeddings();
    // Before any point: a hint, not dummy 0..5 axes and an empty legend.
    QVERIFY(view->plot()->showing_empty_hint());
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view->has_projection() && !view->busy(), 20000);
    EmbeddingPlot* plot = view->plot();
    QVERIFY(!plot->showing_empty_hint());
    plot->replot();
    // The legend is beside the data, never over it.
    QVERIFY(!plot->legend_rect().isEmpty());
    QVERIFY2(!plot->legend_rect().intersects(plot->data_rect()),
             qPrintable(QStringLiteral("legend %1,%2 %3x%4 over data %5,%6 %7x%8")
                            .arg(plot->legend_rect().x()).arg(plot->legend_rect().y())
                            .arg(plot->legend_rect().width()).arg(plot->legend_rect().height())
                            .arg(plot->data_rect().x()).arg(plot->data_rect().y())
                            .arg(plot->data_rect().width()).arg(plot->data_rect().height())));
    QCOMPARE(view->real_point_count(), 30);
    QCOMPARE(CountKind(plot, PointKind::kReal), 30);

    // The classic views of the current image are embedded and placed with the fitted PCA.
    const int k = window.comparison()->view_count();
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy() && CountKind(plot, PointKind::kClassic) == k, 20000);
    QCOMPARE(view->view_point_count(), k);
    QCOMPARE(plot->marker_count(), 30 + k);
    QVERIFY(!plot->density_mode());
    QVERIFY(plot->legend_names().contains(QStringLiteral("real (30)")));

    // Displacement: one arrow per view, from the current image's point.
    view->SetDisplacement(true);
    QCOMPARE(static_cast<int>(plot->arrows().size()), k);
    int current_point = -1;
    for (size_t i = 0; i < plot->points().size(); ++i) {
      if (plot->points()[i].kind == PointKind::kReal && plot->points()[i].ref == window.current_source_index()) {
        current_point = static_cast<int>(i);
      }
    }
    QVERIFY(current_point >= 0);
    QCOMPARE(plot->arrows()[0].from.x(), static_cast<double>(plot->points()[current_point].x));
    QCOMPARE(plot->arrows()[0].from.y(), static_cast<double>(plot->points()[current_point].y));

    // The exported embedding figure shows the same view points: its spec names the views shown
    // (image, recipe, count, seed), and the CLI places them where the studio did.
    const nlohmann::json spec = view->FigureSpec("embedding");
    QCOMPARE(spec["params"]["views_of"].get<std::string>(), std::string("idx:") + std::to_string(window.current_source_index()));
    QCOMPARE(spec["params"]["views"].get<int>(), k);
    QCOMPARE(spec["params"]["model"].get<std::string>(), std::string("none"));  // no generative views shown
    const std::string spec_path = dir_->Join("embedding-figure.json"), png = dir_->Join("embedding-figure.png");
    {
      std::ofstream(spec_path) << spec.dump();
    }
    std::string out, err;
    QCOMPARE(synthlens::testing::RunCommand(synthlens::testing::BinaryPath("synthlens") + " figure --spec " + spec_path +
                                                " --data --dpi 60 --out " + png, &out, &err), 0);
    std::ifstream data_file(png + ".data.json");
    const nlohmann::json behind = nlohmann::json::parse(data_file);
    std::vector<std::pair<float, float>> cli_views, studio_views;
    for (const nlohmann::json& point : behind["data"]["points"]) {
      if (point["set"] == "classic view") cli_views.emplace_back(point["x"].get<float>(), point["y"].get<float>());
    }
    for (const PlotPoint& p : plot->points()) {
      if (p.kind == PointKind::kClassic) studio_views.emplace_back(p.x, p.y);
    }
    QCOMPARE(static_cast<int>(cli_views.size()), k);
    QCOMPARE(cli_views.size(), studio_views.size());
    for (size_t i = 0; i < cli_views.size(); ++i) {
      QVERIFY2(std::abs(cli_views[i].first - studio_views[i].first) < 1e-3f &&
                   std::abs(cli_views[i].second - studio_views[i].second) < 1e-3f,
               qPrintable(QStringLiteral("view %1: figure (%2, %3), studio (%4, %5)").arg(i)
                              .arg(cli_views[i].first).arg(cli_views[i].second)
                              .arg(studio_views[i].first).arg(studio_views[i].second)));
    }

    // Colour by class: one legend entry per class (IDX has no names) plus the view kind.
    plot->SetColorBy(EmbeddingPlot::ColorBy::kClass);
    const QStringList legend = plot->legend_names();
    for (const char* c : {"class 0", "class 1", "class 2"}) QVERIFY2(legend.contains(QLatin1String(c)), c);
    QVERIFY(legend.contains(QStringLiteral("classic view (%1)").arg(k)));
    QVERIFY(!legend.contains(QStringLiteral("real (30)")));
    QCOMPARE(plot->graph(0)->scatterStyle().brush().color().rgb(), synthlens::ui::ClassColor(0).rgb());
    plot->SetColorBy(EmbeddingPlot::ColorBy::kKind);

    // Rectangle selection: the grid shows exactly the real images inside.
    std::vector<float> xs;
    float y0 = 1e9f, y1 = -1e9f;
    for (const PlotPoint& p : plot->points()) {
      if (p.kind != PointKind::kReal) continue;
      xs.push_back(p.x);
      y0 = std::min(y0, p.y);
      y1 = std::max(y1, p.y);
    }
    std::sort(xs.begin(), xs.end());
    const float cut = 0.5f * (xs[9] + xs[10]);  // the 10 leftmost real points
    std::set<qint64> expected;
    for (const PlotPoint& p : plot->points()) {
      if (p.kind == PointKind::kReal && p.x < cut) expected.insert(p.ref);
    }
    QCOMPARE(static_cast<int>(expected.size()), 10);
    plot->SelectInRect(QRectF(QPointF(xs.front() - 1, y0 - 1), QPointF(cut, y1 + 1)));
    QCOMPARE(window.grid_model()->rowCount(), 10);
    QVERIFY(window.grid_model()->filtered());
    for (int r = 0; r < 10; ++r) QVERIFY(expected.count(window.grid_model()->SourceIndex(r)));
    QVERIFY(expected.count(window.current_source_index()));
    const QString first_id = window.grid_model()->index(0).data(Qt::DisplayRole).toString();
    QCOMPARE(first_id, QString::fromStdString(
                           window.grid_model()->source()->record(*expected.begin()).id));

    // Clear selection restores the grid.
    view->ClearSelection();
    QCOMPARE(window.grid_model()->rowCount(), 30);
    QVERIFY(!window.grid_model()->filtered());

    // Lasso with the same area, drawn with the mouse: the same images.
    plot->SetTool(EmbeddingPlot::Tool::kLasso);
    const QPointF corners[] = {{xs.front() - 1, y0 - 1}, {cut, y0 - 1}, {cut, y1 + 1}, {xs.front() - 1, y1 + 1}};
    auto pixel = [plot](const QPointF& c) {
      return QPointF(plot->xAxis->coordToPixel(c.x()), plot->yAxis->coordToPixel(c.y()));
    };
    SendMouse(plot, QEvent::MouseButtonPress, pixel(corners[0]), Qt::LeftButton, Qt::LeftButton);
    for (int i = 1; i < 4; ++i) {
      SendMouse(plot, QEvent::MouseMove, pixel(corners[i]), Qt::NoButton, Qt::LeftButton);
    }
    SendMouse(plot, QEvent::MouseButtonRelease, pixel(corners[3]), Qt::LeftButton, Qt::NoButton);
    QCOMPARE(window.grid_model()->rowCount(), 10);
    for (int r = 0; r < 10; ++r) QVERIFY(expected.count(window.grid_model()->SourceIndex(r)));
    view->ClearSelection();
    plot->SetTool(EmbeddingPlot::Tool::kPan);

    // Click: a real point far from the current image selects that image.
    int target = -1;
    for (size_t i = 0; i < plot->points().size() && target < 0; ++i) {
      const PlotPoint& p = plot->points()[i];
      if (p.kind != PointKind::kReal || p.ref == window.current_source_index()) continue;
      if (plot->PointAt(plot->PixelOf(static_cast<int>(i))) == static_cast<int>(i)) target = static_cast<int>(i);
    }
    QVERIFY(target >= 0);
    const qint64 target_ref = plot->points()[target].ref;
    QTest::mouseClick(plot, Qt::LeftButton, Qt::NoModifier, plot->PixelOf(target).toPoint());
    QCOMPARE(window.current_source_index(), target_ref);
    QCOMPARE(window.grid()->currentIndex().data(Qt::DisplayRole).toString(),
             QString::fromStdString(window.grid_model()->source()->record(target_ref).id));

    // Hover shows the image's thumbnail with its id.
    SendMouse(plot, QEvent::MouseMove, plot->PixelOf(target), Qt::NoButton, Qt::NoButton);
    QVERIFY(view->hover_popup()->isVisible());
    QVERIFY(view->hover_caption().startsWith(
        QString::fromStdString(window.grid_model()->source()->record(target_ref).id)));

    // The views of the newly selected image replace the old ones (PCA places them directly).
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy() && CountKind(plot, PointKind::kClassic) == k &&
                                 !plot->arrows().empty() &&
                                 plot->arrows()[0].from.x() == static_cast<double>(plot->points()[target].x),
                             20000);

    // Density mode: with a threshold below the visible points only the views stay markers.
    plot->SetDensityThreshold(10);
    plot->replot();
    QVERIFY(plot->density_mode());
    QCOMPARE(plot->marker_count(), k);
    plot->SetDensityThreshold(20000);
    plot->replot();
    QVERIFY(!plot->density_mode());
    QCOMPARE(plot->marker_count(), 30 + k);
  }

  // The default threshold: 25,000 points draw as density, zooming in to fewer than 20,000
  // visible brings the markers back; the density image actually has the points' colour.
  // Embeddings go through the project's cache: a second window on the same project re-plots
  // without running the encoder.
  void embeddingsAreCachedInTheProject() {
    const QString project = QString::fromStdString(dir_->Join("cache.synthlens"));
    for (int round = 0; round < 2; ++round) {
      MainWindow window;
      window.show();
      window.OpenProject(project);
      EmbeddingView* view = window.embeddings();
      view->SetEncoder(QStringLiteral("pixels"));
      window.ShowEmbeddings();
      QSignalSpy opened(&window, &MainWindow::SourceOpened);
      window.OpenSource(QString::fromStdString(spec_));
      QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
      QTRY_VERIFY_WITH_TIMEOUT(view->has_projection() && !view->busy(), 20000);
      QCOMPARE(view->real_point_count(), 30);
      QCOMPARE(view->real_from_cache(), round == 1);
    }
  }

  // t-SNE and UMAP run in the studio too: computed on the union of the images and the current
  // views, every real image placed, and the status names the method.
  void tsneAndUmapProject() {
    MainWindow window;
    window.show();
    EmbeddingView* view = window.embeddings();
    view->SetEncoder(QStringLiteral("pixels"));
    window.ShowEmbeddings();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view->has_projection() && !view->busy(), 20000);
    for (const char* method : {"tsne", "umap"}) {
      QVERIFY(view->SetMethodByName(QString::fromLatin1(method)));
      view->Compute();
      QTRY_VERIFY_WITH_TIMEOUT(
          !view->busy() && view->status_text().startsWith(QString::fromLatin1(method) + " "),
          60000);
      QCOMPARE(view->real_point_count(), 30);
      QVERIFY(view->has_projection());
    }
  }

  void densityModeAboveThreshold() {
    EmbeddingPlot plot;
    plot.resize(800, 600);
    plot.show();
    std::vector<PlotPoint> points;
    synthlens::Rng rng(3);
    for (int i = 0; i < 25000; ++i) {
      points.push_back({static_cast<float>(rng.Uniform(0.0, 1.0)), static_cast<float>(rng.Uniform(0.0, 1.0)),
                        PointKind::kReal, i % 10, i});
    }
    plot.SetPoints(points, true);
    plot.replot();
    QCOMPARE(plot.visible_point_count(), 25000);
    QVERIFY(plot.density_mode());
    QCOMPARE(plot.marker_count(), 0);
    const QImage image = plot.toPixmap(800, 600).toImage();
    const QRect area = plot.axisRect()->rect();
    int blue = 0;
    for (int y = area.top(); y <= area.bottom(); ++y) {
      for (int x = area.left(); x <= area.right(); ++x) {
        const QColor c = image.pixelColor(x, y);
        blue += c.blue() > c.red() + 40;  // Okabe-Ito blue over the white background
      }
    }
    // 25,000 uniform points in ~95,000 2x2-pixel bins cover 1 - exp(-25000/95000) = 23 % of the
    // area; far fewer blue pixels would mean points were dropped.
    QVERIFY2(blue > area.width() * area.height() / 6, qPrintable(QString::number(blue)));
    plot.xAxis->setRange(0, 0.5);
    plot.yAxis->setRange(0, 0.5);
    plot.replot();
    QVERIFY(plot.visible_point_count() < 20000);
    QVERIFY(!plot.density_mode());
    QCOMPARE(plot.marker_count(), 25000);
  }

  void metricsPanelRendersCompareJson() {
    synthlens::ui::MetricsPanel panel;
    const QString json = QStringLiteral(
        R"({"fid": 12.5, "kid_mean": 0.01, "kid_std": 0.002, "precision": 0.8, "recall": 0.7,
            "density": 0.9, "coverage": 0.75, "vendi_real": 5.5, "vendi_synthetic": 4.25,
            "authpct": 0.6, "c2st_accuracy": 0.55,
            "intervals": {"fid": [11.0, 14.0], "precision": [0.7, 0.9]},
            "per_class": {"0": {"fid": 20.0, "precision": 0.5}, "2": {"fid": 30.0, "precision": 0.4}},
            "settings": {"pr_k": 3, "dc_k": 5, "n_real": 100, "n_synthetic": 80, "d": 64}})");
    panel.SetClassNames({QStringLiteral("tee"), QStringLiteral("trouser"), QStringLiteral("pullover")});
    QVERIFY(panel.SetMetricsJson(json, QStringLiteral("a vs b")));
    QCOMPARE(panel.metric_count(), 11);
    QCOMPARE(panel.MetricText(QStringLiteral("fid")), QStringLiteral("12.5000"));
    QCOMPARE(panel.MetricText(QStringLiteral("c2st_accuracy")), QStringLiteral("0.5500"));
    QCOMPARE(panel.IntervalText(QStringLiteral("fid")), QStringLiteral("[11, 14]"));
    QCOMPARE(panel.IntervalText(QStringLiteral("recall")), QString());
    QCOMPARE(panel.per_class_rows(), 2);
    QCOMPARE(panel.per_class_columns(), 2);
    QVERIFY(!panel.settings_expanded());
    QVERIFY(!panel.SetMetricsJson(QStringLiteral("not json"), QString()));

    panel.SetSweep({0.1, 0.2, 0.3}, {QStringLiteral(R"({"fid": 1.0, "recall": 0.9})"),
                                     QStringLiteral(R"({"fid": 2.0, "recall": 0.8})"),
                                     QStringLiteral(R"({"fid": 4.0, "recall": 0.5})")});
    panel.SetSweepMetric(QStringLiteral("recall"));
    QCOMPARE(panel.sweep_point_count(), 3);
    QCOMPARE(panel.SweepValue(2), 0.5);
    QCOMPARE(panel.MetricText(QStringLiteral("fid")), QStringLiteral("4"));  // last strength
  }

  // A synthetic set is plotted (PCA-transformed) and compared with the grid's real images.
  void syntheticSetIsPlottedAndCompared() {
    MainWindow window;
    window.show();
    EmbeddingView* view = window.embeddings();
    view->SetEncoder(QStringLiteral("pixels:8"));  // 64-d: keeps the metrics' bootstrap quick
    window.ShowEmbeddings();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view->has_projection() && !view->busy(), 20000);
    view->SetSyntheticSource(QString::fromStdString(synthetic_spec_));
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy() && CountKind(view->plot(), PointKind::kSynthetic) == 12, 20000);
    QCOMPARE(CountKind(view->plot(), PointKind::kReal), 30);
    view->Compare();
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 180000);
    bool ok = false;
    const double fid = view->metrics()->MetricText(QStringLiteral("fid")).toDouble(&ok);
    QVERIFY2(ok, qPrintable(view->status_text()));
    QVERIFY(fid >= 0);
    QVERIFY(!view->metrics()->MetricText(QStringLiteral("coverage")).isEmpty());
    QVERIFY(view->metrics()->metric_count() >= 11);
    QVERIFY(view->metrics()->per_class_rows() >= 1);
  }

  // The sweep: 10 strengths, one compare JSON each, plotted for the chosen metric.
  void sweepPlotsTenStrengths() {
    const std::string package = synthlens::ui::testing::MakeTestDiffusionPackage(dir_->Join("pk"));
    MainWindow window;
    window.show();
    EmbeddingView* view = window.embeddings();
    view->SetEncoder(QStringLiteral("pixels"));
    view->SetModel(QString::fromStdString(package));
    window.ShowEmbeddings();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QTRY_VERIFY_WITH_TIMEOUT(view->has_projection() && !view->busy(), 20000);
    view->metrics()->SetSweepMetric(QStringLiteral("precision"));
    // Before the sweep the plot says what to do; no dummy axes.
    QVERIFY(synthlens::ui::PlotHint(view->metrics()->sweep_plot()).startsWith(QStringLiteral("No sweep yet")));
    QVERIFY(!view->metrics()->sweep_plot()->xAxis->visible());
    view->RunSweep(6, 2);
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 120000);
    QCOMPARE(view->metrics()->sweep_point_count(), 10);
    QVERIFY(synthlens::ui::PlotHint(view->metrics()->sweep_plot()).isEmpty());
    QVERIFY(view->metrics()->sweep_plot()->xAxis->visible());
    QVERIFY(!view->metrics()->sweep_plot()->xAxis2->visible());  // hidden before, hidden after
    for (int i = 0; i < 10; ++i) {
      QVERIFY(view->metrics()->SweepValue(i) >= 0 && view->metrics()->SweepValue(i) <= 1);
    }
  }

 private:
  std::unique_ptr<synthlens::testing::TempDir> dir_;
  std::string spec_;
  std::string synthetic_spec_;
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  synthlens::SetNumThreads(2);
  EmbeddingViewTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "embedding_view_test.moc"
