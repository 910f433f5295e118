// Qt Test, offscreen: the Detectors tab on a tiny IDX source with planted bright / flat images
// (table rows, numeric sorting, flag filters against the DetectJobResult, table <-> grid link,
// the spectrum plot, "Show flagged in grid", cancel), the Bias tab (chi-square and KS numbers
// as RunBiasJob's) and the learned detector retraining on labels written to the project.
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListView>
#include <QSignalSpy>
#include <QTableView>
#include <QTableWidget>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

#include "core/detect/detectors.h"
#include "core/jobs/bias_job.h"
#include "core/jobs/detect_job.h"
#include "core/jobs/review_job.h"
#include "core/store/labels.h"
#include "core/util/parallel.h"
#include "core/util/random.h"
#include "qcustomplot.h"
#include "tests/test_util.h"
#include "ui/bias_view.h"
#include "ui/detector_table_model.h"
#include "ui/detector_view.h"
#include "ui/label_panel.h"
#include "ui/image_grid_model.h"
#include "ui/learned_detector.h"
#include "ui/main_window.h"

using synthlens::ui::BiasView;
using synthlens::ui::DetectorView;
using synthlens::ui::DetectTableModel;
using synthlens::ui::MainWindow;
using synthlens::ui::LabelPanel;

namespace {

constexpr int kImages = 80;
// Planted: every 10th image from 7 is a bright flat image, every 10th from 3 a flat mid grey.
bool Bright(int i) { return i % 10 == 7; }
bool Flat(int i) { return i % 10 == 3; }

// Class c has a bright 8x8 block at its own place plus noise (as the embedding view test).
std::string WriteIdx(const std::string& dir, const std::string& name, int n, uint64_t seed,
                     bool plant, int brighten = 0) {
  auto rng = std::make_shared<synthlens::Rng>(seed);
  return synthlens::testing::WriteIdxPair(
      dir + "/" + name + "-images-idx3-ubyte", dir + "/" + name + "-labels-idx1-ubyte", n,
      [rng, plant, brighten](int i, int y, int x) {
        const double noise = rng->Uniform(0.0, 40.0);
        if (plant && Bright(i)) return static_cast<uint8_t>(250);
        if (plant && Flat(i)) return static_cast<uint8_t>(128);
        const int c = i % 3;
        const bool block = y >= 4 + 7 * c && y < 12 + 7 * c && x >= 4 + 7 * c && x < 12 + 7 * c;
        return static_cast<uint8_t>(std::min(255, (block ? 200 : 20) + brighten + static_cast<int>(noise)));
      },
      [](int i) { return i % 3; });
}

std::set<qint64> ViewRows(const DetectorView* view) {
  std::set<qint64> out;
  for (int r = 0; r < view->proxy()->rowCount(); ++r) out.insert(view->SourceIndexOfViewRow(r));
  return out;
}

std::set<qint64> Flagged(const synthlens::DetectJobResult& result, int detector) {
  std::set<qint64> out;
  for (size_t r = 0; r < result.ids.size(); ++r) {
    bool f = false;
    for (size_t d = 0; d < result.flags[r].size(); ++d) {
      if (detector < 0 || static_cast<int>(d) == detector) f = f || result.flags[r][d];
    }
    if (f) out.insert(result.indices[r]);
  }
  return out;
}

}  // namespace

class DetectorViewTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    dir_ = std::make_unique<synthlens::testing::TempDir>();
    spec_ = WriteIdx(dir_->path(), "synth", kImages, 1, true);
    reference_ = WriteIdx(dir_->path(), "real", 100, 2, false);
    // A synthetic set whose images are all brighter: the bias report must flag brightness.
    brighter_ = WriteIdx(dir_->path(), "brighter", 90, 3, false, 30);
  }

  // Ids sort in natural order (test_2 before test_10), not as text.
  void idColumnSortsNumbersByValue() {
    auto result = std::make_shared<synthlens::DetectJobResult>();
    result->ids = {"test_10_v0.png", "test_100_v0.png", "test_2_v0.png", "test_1_v0.png"};
    result->indices = {0, 1, 2, 3};
    result->labels = {-1, -1, -1, -1};
    result->source_ids = {"", "", "", ""};
    result->scores.assign(4, {});
    result->flags.assign(4, {});
    result->duplicates.resize(4);
    synthlens::ui::DetectTableModel model;
    model.SetResult(result);
    synthlens::ui::DetectFilterProxy proxy;
    proxy.setSourceModel(&model);
    proxy.sort(synthlens::ui::DetectTableModel::kIdColumn, Qt::AscendingOrder);
    QStringList ids;
    for (int r = 0; r < proxy.rowCount(); ++r) ids << proxy.index(r, 0).data().toString();
    QCOMPARE(ids, QStringList({"test_1_v0.png", "test_2_v0.png", "test_10_v0.png", "test_100_v0.png"}));
  }

  void detectorsTableFiltersAndGridLink() {
    MainWindow window;
    window.resize(1400, 900);
    window.show();
    DetectorView* view = window.detectors();
    view->SetEncoder(QStringLiteral("pixels:8"));
    view->SetReference(QString::fromStdString(reference_));
    window.ShowDetectors();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QSignalSpy flagged_spy(view, &DetectorView::FlaggedChanged);
    view->Run();
    QVERIFY(view->busy());
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 60000);
    QVERIFY2(view->has_result(), qPrintable(view->status_text()));
    const synthlens::DetectJobResult& result = *view->result();

    // One table row per image; every planted image is flagged by some detector.
    QCOMPARE(static_cast<int>(result.ids.size()), kImages);
    QCOMPARE(view->proxy()->rowCount(), kImages);
    QCOMPARE(view->table_model()->columnCount(),
             DetectTableModel::kFirstScoreColumn + static_cast<int>(result.detectors.size()));
    const std::set<qint64> any = Flagged(result, -1);
    for (int i = 0; i < kImages; ++i) {
      if (Bright(i) || Flat(i)) QVERIFY2(any.count(i), qPrintable(QString::number(i)));
    }
    QVERIFY(static_cast<int>(any.size()) < kImages);
    QVERIFY(view->summary_text().contains(QStringLiteral("%1 images").arg(kImages)));
    QVERIFY(view->summary_text().contains(QStringLiteral("%1 flagged by any").arg(any.size())));
    QVERIFY(flagged_spy.count() >= 1);
    const QVector<qint64> emitted = flagged_spy.last().at(0).value<QVector<qint64>>();
    QCOMPARE(std::set<qint64>(emitted.begin(), emitted.end()), any);

    // The header tooltip names the detector's description and threshold.
    const int light = view->DetectorIndex(QStringLiteral("light"));
    QVERIFY(light >= 0);
    const QString tip = view->table_model()
                            ->headerData(view->ScoreColumn(light), Qt::Horizontal, Qt::ToolTipRole)
                            .toString();
    QVERIFY(tip.contains(QString::fromStdString(result.detectors[light].description).toHtmlEscaped()));
    QVERIFY(tip.contains(QStringLiteral("threshold")));

    // Sorting by the "light" score column orders the rows by that score, bright images first.
    view->table()->sortByColumn(view->ScoreColumn(light), Qt::DescendingOrder);
    double previous = INFINITY;
    for (int r = 0; r < view->proxy()->rowCount(); ++r) {
      const double v = result.scores[view->SourceIndexOfViewRow(r)][light];
      if (std::isnan(v)) continue;
      QVERIFY(v <= previous);
      previous = v;
    }
    QVERIFY(Bright(static_cast<int>(view->SourceIndexOfViewRow(0))));
    view->table()->sortByColumn(view->ScoreColumn(light), Qt::AscendingOrder);
    QVERIFY(!Bright(static_cast<int>(view->SourceIndexOfViewRow(0))));

    // Flag filters show exactly the flagged images of the result.
    view->SetFlagFilter(DetectorView::kAnyFlag);
    QCOMPARE(ViewRows(view), any);
    for (int d = 0; d < static_cast<int>(result.detectors.size()); ++d) {
      view->SetFlagFilter(d);
      QCOMPARE(ViewRows(view), Flagged(result, d));
      const QVector<qint64> f = view->FlaggedIndices(d);
      QCOMPARE(std::set<qint64>(f.begin(), f.end()), Flagged(result, d));
    }
    view->SetFlagFilter(light);
    QVERIFY(!ViewRows(view).empty());
    // Flagged cells are highlighted.
    const QModelIndex cell = view->proxy()->index(0, view->ScoreColumn(light));
    QVERIFY(cell.data(Qt::BackgroundRole).value<QBrush>().style() != Qt::NoBrush);
    view->SetFlagFilter(DetectorView::kAllImages);
    QCOMPARE(view->proxy()->rowCount(), kImages);

    // Text filter on the id.
    const QString id = QString::fromStdString(result.ids[42]);
    view->SetTextFilter(id);
    QVERIFY(ViewRows(view).count(42));
    for (int r = 0; r < view->proxy()->rowCount(); ++r) {
      QVERIFY(view->proxy()->index(r, 0).data().toString().contains(id));
    }
    view->SetTextFilter(QString());
    QCOMPARE(view->proxy()->rowCount(), kImages);

    // Table row -> grid current image, and its breakdown and spectrum.
    const QModelIndex row10 = view->proxy()->index(10, 0);
    const qint64 source10 = view->SourceIndexOfViewRow(10);
    view->table()->selectionModel()->setCurrentIndex(
        row10, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QCOMPARE(window.current_source_index(), source10);
    QCOMPARE(view->shown_index(), source10);
    QCOMPARE(view->breakdown()->rowCount(), static_cast<int>(result.detectors.size()));

    // Grid current image -> table row.
    window.SelectRow(20);
    QCOMPARE(view->shown_index(), qint64(20));
    QCOMPARE(view->table()->currentIndex().data(DetectTableModel::kSourceIndexRole).toLongLong(),
             qint64(20));
    QCOMPARE(view->breakdown()->item(light, 1)->text(),
             DetectTableModel::ScoreText(result.scores[20][light]));

    // Spectrum: the reference band (lower, upper filled to it), the mean, the image's curve.
    QCustomPlot* plot = view->spectrum_plot();
    QCOMPARE(plot->graphCount(), 4);
    QCOMPARE(plot->graph(1)->channelFillGraph(), plot->graph(0));
    const int bins = synthlens::kSpectrumBins;
    const std::vector<double> freqs = synthlens::SpectrumFrequencies();
    for (int g = 0; g < 4; ++g) QCOMPARE(plot->graph(g)->data()->size(), bins);
    for (int b = 0; b < bins; ++b) {
      const auto key = [&](int g) { return (plot->graph(g)->data()->constBegin() + b)->key; };
      const auto value = [&](int g) { return (plot->graph(g)->data()->constBegin() + b)->value; };
      QCOMPARE(key(3), freqs[b]);
      QCOMPARE(value(3), result.spectra[20][b]);
      QCOMPARE(value(2), result.reference_spectrum_mean[b]);
      QCOMPARE(value(0), result.reference_spectrum_mean[b] - result.reference_spectrum_std[b]);
      QCOMPARE(value(1), result.reference_spectrum_mean[b] + result.reference_spectrum_std[b]);
    }

    // "Show flagged in grid" filters the grid to the flagged images; "Show all" restores it.
    view->ShowFlaggedInGrid();
    QVERIFY(window.grid_model()->filtered());
    QCOMPARE(window.grid_model()->rowCount(), static_cast<int>(any.size()));
    for (int r = 0; r < window.grid_model()->rowCount(); ++r) {
      QVERIFY(any.count(window.grid_model()->SourceIndex(r)));
    }
    view->SetFlagFilter(light);
    view->ShowFlaggedInGrid();
    QCOMPARE(window.grid_model()->rowCount(), static_cast<int>(Flagged(result, light).size()));
    view->ShowAllInGrid();
    QVERIFY(!window.grid_model()->filtered());
    QCOMPARE(window.grid_model()->rowCount(), kImages);
  }

  void cancelKeepsTheViewUsable() {
    MainWindow window;
    window.show();
    DetectorView* view = window.detectors();
    view->SetEncoder(QStringLiteral("none"));
    view->SetReference(QString::fromStdString(reference_));
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    QSignalSpy finished(view, &DetectorView::JobFinished);
    view->Run();
    view->Cancel();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
    QCOMPARE(finished.at(0).at(0).toBool(), false);
    QVERIFY(!view->busy());
    QVERIFY(!view->has_result());
    QVERIFY2(view->status_text().contains(QStringLiteral("cancelled")), qPrintable(view->status_text()));
    // A bad reference fails in the status row, not in a dialog.
    view->SetReference(QString::fromStdString(dir_->Join("no-such-folder")));
    view->Run();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
    QVERIFY2(view->status_text().startsWith(QStringLiteral("Detectors failed")),
             qPrintable(view->status_text()));
    // And a new run after that works.
    view->SetReference(QString::fromStdString(reference_));
    view->Run();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 3, 60000);
    QVERIFY(view->has_result());
    QCOMPARE(view->proxy()->rowCount(), kImages);

    // The Labels tab's "flagged by a detector" filter follows the run.
    std::vector<int64_t> flagged_any;
    for (size_t i = 0; i < view->result()->ids.size(); ++i) {
      const auto& f = view->result()->flags[i];
      if (std::any_of(f.begin(), f.end(), [](uint8_t x) { return x != 0; })) {
        flagged_any.push_back(view->result()->indices[i]);
      }
    }
    QVector<qint64> fed = window.labels()->FilterIndices(LabelPanel::Filter::kFlagged);
    std::sort(fed.begin(), fed.end());
    QCOMPARE(std::vector<int64_t>(fed.begin(), fed.end()), flagged_any);

    // Per-detector threshold overrides from the field: absolute and percentile rules.
    view->SetThresholds(QStringLiteral("light=0.999,blur=p50"));
    view->Run();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 4, 60000);
    QVERIFY(view->has_result());
    const auto& r = *view->result();
    const int light = r.DetectorIndex("light"), blur = r.DetectorIndex("blur");
    QCOMPARE(r.thresholds[light], 0.999);
    QCOMPARE(QString::fromStdString(r.rules[light]), QStringLiteral("abs"));
    QCOMPARE(QString::fromStdString(r.rules[blur]), QStringLiteral("p50"));
    QCOMPARE(r.FlaggedCount(light), 0);
    // A bad override is reported in the status row and runs nothing.
    view->SetThresholds(QStringLiteral("nosuch=p90"));
    view->Run();
    QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 5, 60000);
    QVERIFY2(view->status_text().contains(QStringLiteral("nosuch")), qPrintable(view->status_text()));
  }

  void biasTabShowsTheReportNumbers() {
    MainWindow window;
    window.show();
    BiasView* view = window.bias();
    view->SetEncoder(QStringLiteral("pixels:8"));
    view->SetReference(QString::fromStdString(reference_));
    window.ShowBias();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(brighter_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    view->Run();
    QVERIFY(view->busy());
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy(), 60000);
    QVERIFY2(view->has_report(), qPrintable(view->status_text()));

    synthlens::BiasJobOptions options;
    options.real = reference_;
    options.synthetic = brighter_;
    options.encoder = "pixels:8";
    auto expected_json =
        synthlens::RunBiasJob(options, nullptr, [](const synthlens::SourceIssue&) {});
    QVERIFY2(expected_json.ok(), expected_json.error().c_str());
    const QJsonObject expected =
        QJsonDocument::fromJson(QByteArray::fromStdString(*expected_json)).object();

    const QJsonObject chi =
        expected["class_balance"].toObject()["chi_square"].toObject();
    QVERIFY(chi["p_value"].isDouble());
    QVERIFY2(view->chi_square_text().contains(
                 QStringLiteral("χ² = %1 (dof %2), p = %3")
                     .arg(BiasView::Number(chi["statistic"].toDouble()),
                          BiasView::Number(chi["dof"].toDouble()),
                          BiasView::Number(chi["p_value"].toDouble()))),
             qPrintable(view->chi_square_text()));
    QCOMPARE(view->chi_square_text().contains(QStringLiteral("flagged:")), chi["flag"].toBool());
    // One bar per class and side.
    QCOMPARE(view->balance_plot()->plottableCount(), 2);
    QCOMPARE(view->balance_plot()->plottable(0)->interface1D()->dataCount(),
             expected["class_balance"].toObject()["classes"].toArray().size());

    const QJsonObject shifts = expected["shifts"].toObject();
    QVERIFY(shifts.size() >= 8);
    QCOMPARE(view->histogram_statistics().size(), shifts.size());
    bool any_flag = false;
    for (auto it = shifts.begin(); it != shifts.end(); ++it) {
      const QJsonObject s = it.value().toObject();
      const int row = view->ShiftRow(it.key());
      QVERIFY2(row >= 0, qPrintable(it.key()));
      QTableWidget* table = view->shifts_table();
      QCOMPARE(table->item(row, BiasView::kKsColumn)->text(), BiasView::Number(s["ks_statistic"].toDouble()));
      QCOMPARE(table->item(row, BiasView::kPColumn)->text(), BiasView::Number(s["p_value"].toDouble()));
      QCOMPARE(!table->item(row, BiasView::kFlagColumn)->text().isEmpty(), s["flag"].toBool());
      any_flag = any_flag || s["flag"].toBool();
      QCustomPlot* h = view->histogram_plot(it.key());
      QVERIFY(h);
      QCOMPARE(h->graphCount(), 2);
      QCOMPARE(h->graph(0)->data()->size(), s["histogram"].toObject()["edges"].toArray().size());
      // A legend never covers the bars.
      if (h->legend->visible()) {
        h->replot();
        QVERIFY(!h->legend->outerRect().intersects(h->axisRect()->rect()));
      }
    }
    QVERIFY(any_flag);
    QVERIFY(shifts["brightness"].toObject()["flag"].toBool());

    // Diversity: "all" plus one row per class, with the report's numbers.
    const QJsonObject diversity = expected["diversity"].toObject();
    QCOMPARE(view->diversity_table()->rowCount(), 1 + diversity["per_class"].toObject().size());
    QCOMPARE(view->diversity_table()->item(0, 6)->text(), BiasView::Number(diversity["recall"].toDouble()));
    QCOMPARE(view->diversity_table()->item(0, 3)->text(), BiasView::Number(diversity["vendi_real"].toDouble()));
  }

  void learnedDetectorRetrainsOnLabels() {
    const std::string project = dir_->Join("labels.synthlens");
    MainWindow window;
    window.show();
    window.OpenProject(QString::fromStdString(project));
    DetectorView* view = window.detectors();
    synthlens::ui::LearnedDetector* learned = view->learned();
    learned->SetPollInterval(200);
    learned->SetDebounce(50);
    view->SetEncoder(QStringLiteral("pixels:8"));
    view->SetReference(QString::fromStdString(reference_));
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    view->Run();
    QTRY_VERIFY_WITH_TIMEOUT(!view->busy() && view->has_result(), 60000);
    const synthlens::DetectJobResult& result = *view->result();

    // No labels yet: the status says what is missing.
    QTRY_VERIFY_WITH_TIMEOUT(view->learned_text().contains(QStringLiteral("needs 2 more artifact and 2 more clean")),
                             10000);
    QVERIFY(!learned->has_model());
    QVERIFY(view->table()->isColumnHidden(DetectTableModel::kProbabilityColumn));
    QVERIFY(!view->ReviewNext());

    // Label 3 planted images as artifacts and 4 ordinary ones clean, from another connection.
    auto store = synthlens::LabelStore::Open(project);
    const std::string key = view->source_key().toStdString();
    const int64_t category = store->Categories().front().id;
    std::vector<synthlens::LabelTarget> artifacts, clean;
    for (int i : {3, 7, 17}) artifacts.push_back({key, result.ids[i]});
    for (int i : {0, 1, 2, 4}) clean.push_back({key, result.ids[i]});
    store->ToggleCategory(artifacts, category);
    store->MarkClean(clean);
    QTRY_VERIFY_WITH_TIMEOUT(learned->has_model() && !learned->busy() &&
                                 learned->trained_revision() == store->Revision(),
                             20000);
    QCOMPARE(learned->positives(), 3);
    QCOMPARE(learned->negatives(), 4);

    auto check_against_core = [&] {
      auto expected = synthlens::TrainLearnedDetector(result, store->All(key), key);
      QVERIFY2(expected.ok(), expected.error().c_str());
      QVector<qint64> order;
      for (int64_t row : expected->review_order) order.push_back(result.indices[row]);
      QCOMPARE(learned->review_order(), order);
      QCOMPARE(learned->cv_auroc(), expected->report.cv_auroc);
      QCOMPARE(learned->probability(), expected->probability);
    };
    check_against_core();
    QVERIFY(view->learned_text().contains(QStringLiteral("CV AUROC")));
    QVERIFY(view->learned_text().contains(QStringLiteral("3 artifact / 4 clean labels")));
    QVERIFY(!view->table()->isColumnHidden(DetectTableModel::kProbabilityColumn));
    const QModelIndex p = view->table_model()->index(5, DetectTableModel::kProbabilityColumn);
    QCOMPARE(p.data(DetectTableModel::kSortRole).toDouble(), learned->probability()[5]);

    // Review next: the top unlabelled image by probability becomes the grid's current image.
    window.SelectRow(0);
    const QVector<qint64> order = learned->review_order();
    QVERIFY(!order.isEmpty());
    QVERIFY(view->ReviewNext());
    QCOMPARE(window.current_source_index(), order[0]);
    QVERIFY(view->ReviewNext());
    QCOMPARE(window.current_source_index(), order[1]);

    // One more label: retrained once more, the labelled image leaves the review order.
    const int trainings = learned->trainings();
    store->ToggleCategory({{key, result.ids[order[0]]}}, category);
    QTRY_VERIFY_WITH_TIMEOUT(!learned->busy() && learned->trained_revision() == store->Revision() &&
                                 learned->trainings() > trainings,
                             20000);
    QCOMPARE(learned->positives(), 4);
    QVERIFY(!learned->review_order().contains(order[0]));
    check_against_core();
  }

 private:
  std::unique_ptr<synthlens::testing::TempDir> dir_;
  std::string spec_;
  std::string reference_;
  std::string brighter_;
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  synthlens::SetNumThreads(2);
  DetectorViewTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "detector_view_test.moc"
