// Qt Test (offscreen) of the studio's figure export: the Views tab's spec of the current image,
// the Export dialog building in the background, its preview, and a saved file that is byte for
// byte what `synthlens figure --spec` makes of the same spec (one renderer, same pixels).
#include <QApplication>
#include <QListView>
#include <QMenu>
#include <QSignalSpy>
#include <QtTest>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/util/file_util.h"
#include "core/util/parallel.h"
#include "tests/test_util.h"
#include "ui/comparison_panel.h"
#include "ui/figures/export_dialog.h"
#include "ui/figures/figure_writer.h"
#include "ui/main_window.h"

using nlohmann::json;
using synthlens::ui::ExportFigureDialog;
using synthlens::ui::MainWindow;

class ExportDialogTest : public QObject {
  Q_OBJECT

 private slots:
  void initTestCase() {
    QCoreApplication::setOrganizationName(QStringLiteral("synthlens-test"));
    dir_ = std::make_unique<synthlens::testing::TempDir>();
    qputenv("XDG_CONFIG_HOME", QByteArray::fromStdString(dir_->Join("config")));
    spec_ = synthlens::testing::WriteIdxPair(
        dir_->Join("images-idx3-ubyte"), dir_->Join("labels-idx1-ubyte"), 12,
        [](int i, int y, int x) { return static_cast<uint8_t>((x * 9 + y * 4 + i * 31) % 256); },
        [](int i) { return i % 3; });
  }

  void viewsTabSpecExportsTheSamePixelsAsTheCli() {
    MainWindow window;
    window.resize(1280, 720);
    window.show();
    QSignalSpy opened(&window, &MainWindow::SourceOpened);
    window.OpenSource(QString::fromStdString(spec_));
    QTRY_COMPARE_WITH_TIMEOUT(opened.count(), 1, 10000);
    window.SelectRow(2);
    window.comparison()->SetViewCount(3);
    window.comparison()->SetSeed(7);
    json spec = window.ComparisonFigureSpec({window.current_source_index()});
    QVERIFY(!spec.is_null());
    QCOMPARE(spec["kind"].get<std::string>(), std::string("comparison"));
    QCOMPARE(spec["params"]["input"].get<std::string>(), spec_);
    QCOMPARE(spec["params"]["ids"], json({"idx:2"}));
    QCOMPARE(spec["params"]["views"].get<int>(), 3);
    QCOMPARE(spec["params"]["seed"].get<int>(), 7);
    QCOMPARE(spec["params"]["recipe"].get<std::string>(), std::string("simclr"));
    QCOMPARE(spec["params"]["model"].get<std::string>(), std::string("none"));  // no model opened
    // Two selected images give one spec each (File > Export Figures for Selection).
    window.grid()->selectionModel()->select(window.grid()->model()->index(4, 0), QItemSelectionModel::Select);
    QVERIFY(window.SelectedSourceIndices().size() >= 2);

    spec["dpi"] = 100;
    ExportFigureDialog dialog(spec, &window);
    QSignalSpy ready(&dialog, &ExportFigureDialog::Ready);
    QTRY_COMPARE_WITH_TIMEOUT(ready.count(), 1, 30000);
    QCOMPARE(ready.first().at(0).toString(), QString());
    QVERIFY(dialog.ready());
    QVERIFY(!dialog.preview().isNull());
    // For docs and review: SYNTHLENS_SCREENSHOT_DIR=DIR saves the dialog as a user sees it.
    if (qEnvironmentVariableIsSet("SYNTHLENS_SCREENSHOT_DIR")) {
      dialog.resize(1100, 640);
      dialog.show();
      QTest::qWait(400);
      dialog.grab().save(qEnvironmentVariable("SYNTHLENS_SCREENSHOT_DIR") + QStringLiteral("/export-dialog.png"));
    }
    const std::string png = dir_->Join("studio.png");
    QCOMPARE(dialog.SaveTo(QString::fromStdString(png)), QString());
    QVERIFY(std::filesystem::exists(png + ".json"));
    // The CLI, from the sidecar the studio wrote: the same bytes.
    std::string out, err;
    const std::string cli = synthlens::testing::BinaryPath("synthlens") + " figure --spec " + png + ".json --out " + dir_->Join("cli.png");
    QCOMPARE(synthlens::testing::RunCommand(cli, &out, &err), 0);
    QCOMPARE(synthlens::ReadFileBytes(dir_->Join("cli.png")).value(), synthlens::ReadFileBytes(png).value());
    // Last-used settings are remembered.
    QCOMPARE(ExportFigureDialog::LastSettings()["dpi"].get<int>(), 100);
    // A bad path is an error naming it, not a crash.
    QVERIFY(dialog.SaveTo(QString::fromStdString(dir_->Join("figure.gif"))).contains(QStringLiteral("unsupported extension")));
  }

  void contextMenusOfferTheFigureActions() {
    QMenu menu;
    QWidget parent;
    synthlens::ui::AddFigureActions(&menu, &parent, [] { return json(); });
    QCOMPARE(menu.actions().size(), 4);
    QCOMPARE(menu.actions()[0]->text(), QStringLiteral("Export figure…"));
    QVERIFY(!menu.actions()[0]->isEnabled());  // nothing to export yet
    QMenu ready;
    synthlens::ui::AddFigureActions(&ready, &parent, [] { return json{{"kind", "metrics"}}; });
    QVERIFY(ready.actions()[1]->isEnabled());
    // Add to figure builder collects the spec; the builder's spec combines them.
    synthlens::ui::FigureBuilderPanels().clear();
    QVERIFY(synthlens::ui::FigureBuilderSpec().is_null());
    ready.actions()[3]->trigger();
    ready.actions()[3]->trigger();
    const json combined = synthlens::ui::FigureBuilderSpec();
    QCOMPARE(combined["kind"].get<std::string>(), std::string("combined"));
    QCOMPARE(combined["params"]["panels"].size(), size_t{2});
  }

 private:
  std::unique_ptr<synthlens::testing::TempDir> dir_;
  std::string spec_;
};

int main(int argc, char** argv) {
  QApplication app(argc, argv);
  synthlens::SetNumThreads(2);
  ExportDialogTest test;
  return QTest::qExec(&test, argc, argv);
}

#include "export_dialog_test.moc"
