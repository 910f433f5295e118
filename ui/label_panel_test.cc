// Qt Test, offscreen: the Labels tab on a tiny IDX source with a project in a temp dir. Every
// check of what was labelled reads a freshly opened LabelStore, i.e. what was committed.
#include <QComboBox>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QtTest>
#include <algorithm>

#include "core/store/labels.h"
#include "core/util/parallel.h"
#include "tests/test_util.h"
#include "ui/image_grid_model.h"
#include "ui/label_canvas.h"
#include "ui/label_keymap.h"
#include "ui/label_panel.h"
#include "ui/main_window.h"

using synthlens::ImageLabels;
using synthlens::LabelStore;
using synthlens::LabelTarget;
using synthlens::ui::ImageGridModel;
using synthlens::ui::LabelAction;
using synthlens::ui::LabelCanvas;
using synthlens::ui::LabelKeymap;
using synthlens::ui::LabelPanel;
using synthlens::ui::MainWindow;

namespace {

constexpr int kImages = 10;

void SendMouse(QWidget* w, QEvent::Type type, const QPointF& pos, Qt::MouseButton button,
               Qt::MouseButtons buttons) {
  QMouseEvent e(type, pos, w->mapToGlobal(pos), button, buttons, Qt::NoModifier);
  QApplication::sendEvent(w, &e);
}

}  // namespace

class LabelPanelTest : public QObject {
  Q_OBJECT

 private:
  std::unique_ptr<synthlens::testing::TempDir> dir_;
  std::string spec_;
  std::string project_;
  int project_count_ = 0;

  // A studio on the IDX source with a fresh project (or `project`), on the Labels tab.
  std::unique_ptr<MainWindow> OpenStudio(const std::string& project = "") {
    if (project.empty()) {
      project_ = dir_->Join("p" + std::to_string(project_count_++) + ".synthlens");
    } else {
      project_ = project;
    }
    auto window = std::make_unique<MainWindow>();
    window->resize(1400, 900);
    window->show();
    window->OpenProject(QString::fromStdString(project_));
    window->ShowLabels();
    QSignalSpy opened(window.get(), &MainWindow::SourceOpened);
    window->OpenSource(QString::fromStdString(spec_));
    if (!QTest::qWaitFor([&] { return opened.count() == 1; }, 10000)) return nullptr;
    if (!QTest::qWaitForWindowExposed(window.get())) return nullptr;
    // Focus (the note field, the note's own keys) needs an active window.
    QApplication::setActiveWindow(window.get());
    if (!QTest::qWaitForWindowActive(window.get())) return nullptr;
    window->grid()->setFocus();
    return window;
  }

  // What is committed, read through a new store on the same file.
  std::optional<ImageLabels> Stored(const LabelPanel* panel, int64_t index) const {
    return LabelStore::Open(project_)->Get(panel->TargetOf(index));
  }
  std::vector<int64_t> StoredCategories(const LabelPanel* panel, int64_t index) const {
    const auto labels = Stored(panel, index);
    return labels ? labels->category_ids : std::vector<int64_t>();
  }
  int64_t CategoryAt(const LabelPanel* panel, int position) const {
    return panel->store()->Categories().at(position).id;
  }

  static void SelectRows(MainWindow* window, const std::vector<int>& rows) {
    QItemSelection selection;
    for (int r : rows) {
      const QModelIndex i = window->grid_model()->index(r);
      selection.select(i, i);
    }
    auto* model = window->grid()->selectionModel();
    model->setCurrentIndex(window->grid_model()->index(rows.front()),
                           QItemSelectionModel::NoUpdate);
    model->select(selection, QItemSelectionModel::ClearAndSelect);
  }

 private slots:
  void initTestCase() {
    synthlens::SetNumThreads(2);
    dir_ = std::make_unique<synthlens::testing::TempDir>();
    spec_ = synthlens::testing::WriteIdxPair(
        dir_->Join("t10k-images-idx3-ubyte"), dir_->Join("t10k-labels-idx1-ubyte"), kImages,
        [](int i, int y, int x) { return static_cast<uint8_t>((x * 9 + y * 3 + i * 20) % 256); },
        [](int i) { return i % 3; });
  }

  void noProjectSaysSo() {
    MainWindow window;
    window.show();
    window.ShowLabels();
    QVERIFY(window.labels()->store() == nullptr);
    QCOMPARE(window.labels()->counts_text(), QStringLiteral("No project"));
    // File menu: open/create project + export/import (disabled without a store).
    const QList<QAction*> actions = window.labels()->FileActions();
    QCOMPARE(actions.size(), 4);
    QVERIFY(actions[0]->isEnabled());
    QVERIFY(!actions[1]->isEnabled());
  }

  void numberKeysToggleOnCurrentAndSelection() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QVERIFY(panel->store());
    QCOMPARE(window->grid()->selectionMode(), QAbstractItemView::ExtendedSelection);
    QCOMPARE(window->current_row(), 0);
    const int64_t first = CategoryAt(panel, 0), second = CategoryAt(panel, 1);

    QTest::keyClick(window->grid(), Qt::Key_1);
    QCOMPARE(StoredCategories(panel, 0), std::vector<int64_t>{first});
    QTest::keyClick(panel->canvas(), Qt::Key_1);  // the tab's widgets take the keys too
    QVERIFY(StoredCategories(panel, 0).empty());

    SelectRows(window.get(), {2, 3, 5});
    QCOMPARE(panel->SelectedTargets().size(), size_t{3});
    QTest::keyClick(window->grid(), Qt::Key_2);
    for (int64_t i : {2, 3, 5}) QCOMPARE(StoredCategories(panel, i), std::vector<int64_t>{second});
    QVERIFY(StoredCategories(panel, 4).empty());
    QVERIFY(panel->counts_text().startsWith(QStringLiteral("labelled 3 / 10")));
    QVERIFY(panel->counts_text().contains(QStringLiteral("artifacts 3")));
    // The category list shows the selection's state and the per-category count.
    QListWidget* list = panel->category_list();
    QCOMPARE(list->item(1)->checkState(), Qt::Checked);
    QVERIFY(list->item(1)->text().startsWith(QStringLiteral("2")));
    QVERIFY(list->item(1)->text().endsWith(QStringLiteral("· 3")));

    // Toggling when some have it adds it to all; when all have it, removes from all.
    SelectRows(window.get(), {5, 6});
    QCOMPARE(list->item(1)->checkState(), Qt::PartiallyChecked);
    QTest::keyClick(window->grid(), Qt::Key_2);
    QCOMPARE(StoredCategories(panel, 6), std::vector<int64_t>{second});
    QTest::keyClick(window->grid(), Qt::Key_2);
    QVERIFY(StoredCategories(panel, 5).empty());
    QVERIFY(StoredCategories(panel, 6).empty());
    QCOMPARE(StoredCategories(panel, 3), std::vector<int64_t>{second});
  }

  void zeroMarksCleanAndBadges() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    const int64_t third = CategoryAt(panel, 2);
    QTest::keyClick(window->grid(), Qt::Key_3);
    const QModelIndex row0 = window->grid_model()->index(0);
    QVariantMap badge = row0.data(ImageGridModel::kBadgeRole).toMap();
    QCOMPARE(badge.value(QStringLiteral("colors")).toList().size(), 1);
    QCOMPARE(badge.value(QStringLiteral("colors")).toList()[0].value<QColor>(),
             QColor(QString::fromStdString(panel->store()->Categories()[2].color)));
    QVERIFY(!badge.value(QStringLiteral("clean")).toBool());
    QCOMPARE(StoredCategories(panel, 0), std::vector<int64_t>{third});

    QTest::keyClick(window->grid(), Qt::Key_0);
    const auto stored = Stored(panel, 0);
    QVERIFY(stored && stored->clean && stored->category_ids.empty());
    badge = row0.data(ImageGridModel::kBadgeRole).toMap();
    QVERIFY(badge.value(QStringLiteral("clean")).toBool());
    QVERIFY(badge.value(QStringLiteral("colors")).toList().isEmpty());
    QVERIFY(!window->grid_model()->index(1).data(ImageGridModel::kBadgeRole).isValid());
    QVERIFY(panel->counts_text().contains(QStringLiteral("clean 1")));

    // 0 on a selection marks them all clean.
    SelectRows(window.get(), {4, 7});
    QTest::keyClick(window->grid(), Qt::Key_0);
    QVERIFY(Stored(panel, 4)->clean);
    QVERIFY(Stored(panel, 7)->clean);
    QVERIFY(panel->counts_text().startsWith(QStringLiteral("labelled 3 / 10 · clean 3")));
  }

  void arrowsAndSpaceMove() {
    auto window = OpenStudio();
    QVERIFY(window);
    QListView* grid = window->grid();
    QTest::keyClick(grid, Qt::Key_Right);
    QCOMPARE(window->current_row(), 1);
    QTest::keyClick(window->labels()->canvas(), Qt::Key_Space);
    QCOMPARE(window->current_row(), 2);
    QTest::keyClick(grid, Qt::Key_Left);
    QCOMPARE(window->current_row(), 1);
    QTest::keyClick(grid, Qt::Key_Space, Qt::ShiftModifier);
    QCOMPARE(window->current_row(), 0);
    QTest::keyClick(grid, Qt::Key_Left);  // stays on the first
    QCOMPARE(window->current_row(), 0);
    // The canvas shows the current image at its size.
    QCOMPARE(window->labels()->canvas()->image().size(), QSize(28, 28));

    // Auto-advance: labelling one image moves on.
    window->labels()->SetAutoAdvance(true);
    QTest::keyClick(grid, Qt::Key_1);
    QCOMPARE(window->current_row(), 1);
    QCOMPARE(StoredCategories(window->labels(), 0).size(), size_t{1});

    // On another tab the grid's keys are the grid's again: nothing is labelled.
    window->findChild<QTabWidget*>()->setCurrentIndex(0);
    QVERIFY(!window->labels()->isVisible());
    QTest::keyClick(grid, Qt::Key_2);
    QVERIFY(!Stored(window->labels(), 1));
  }

  void undoRedoKeys() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QListView* grid = window->grid();
    const int64_t a = CategoryAt(panel, 0), b = CategoryAt(panel, 1);
    QTest::keyClick(grid, Qt::Key_1);
    QTest::keyClick(grid, Qt::Key_2);
    QCOMPARE(StoredCategories(panel, 0), (std::vector<int64_t>{a, b}));
    QTest::keyClick(grid, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(StoredCategories(panel, 0), std::vector<int64_t>{a});
    QTest::keyClick(panel->canvas(), Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(StoredCategories(panel, 0).empty());
    QVERIFY(panel->counts_text().startsWith(QStringLiteral("labelled 0 / 10")));
    QTest::keyClick(grid, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(StoredCategories(panel, 0), std::vector<int64_t>{a});
    QTest::keyClick(grid, Qt::Key_Y, Qt::ControlModifier);
    QCOMPARE(StoredCategories(panel, 0), (std::vector<int64_t>{a, b}));
    // Clean, then undo restores the categories.
    QTest::keyClick(grid, Qt::Key_0);
    QVERIFY(StoredCategories(panel, 0).empty());
    QTest::keyClick(grid, Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(StoredCategories(panel, 0), (std::vector<int64_t>{a, b}));
    QVERIFY(!Stored(panel, 0)->clean);
  }

  void dragCreatesBox() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    LabelCanvas* canvas = panel->canvas();
    QTRY_VERIFY_WITH_TIMEOUT(!canvas->ImageRect().isEmpty(), 5000);
    const int64_t blur = CategoryAt(panel, 3);
    panel->SetActiveCategory(blur);
    QCOMPARE(panel->active_category(), blur);
    // From image (5.2, 6.1) to (14.9, 20.2): snapped to whole pixels 5,6 .. 15,20.
    const QPointF from = canvas->ImageToWidget({5.2, 6.1});
    const QPointF to = canvas->ImageToWidget({14.9, 20.2});
    SendMouse(canvas, QEvent::MouseButtonPress, from, Qt::LeftButton, Qt::LeftButton);
    SendMouse(canvas, QEvent::MouseMove, (from + to) / 2, Qt::NoButton, Qt::LeftButton);
    SendMouse(canvas, QEvent::MouseMove, to, Qt::NoButton, Qt::LeftButton);
    SendMouse(canvas, QEvent::MouseButtonRelease, to, Qt::LeftButton, Qt::NoButton);
    auto stored = Stored(panel, 0);
    QVERIFY(stored);
    QCOMPARE(stored->boxes.size(), size_t{1});
    const synthlens::LabelBox box = stored->boxes[0];
    QCOMPARE(box.category_id, blur);
    QCOMPARE(box.x, 5.0);
    QCOMPARE(box.y, 6.0);
    QCOMPARE(box.width, 10.0);
    QCOMPARE(box.height, 14.0);
    QCOMPARE(stored->image_width, 28);
    QCOMPARE(stored->image_height, 28);
    QCOMPARE(stored->category_ids, std::vector<int64_t>{blur});  // the box adds its category
    QCOMPARE(canvas->boxes().size(), size_t{1});
    QCOMPARE(canvas->boxes()[0].name, QString::fromStdString(panel->store()->Categories()[3].name));

    // Right-click removes it; undo brings it back; click + Delete removes it again.
    SendMouse(canvas, QEvent::MouseButtonPress, canvas->ImageToWidget({10, 10}), Qt::RightButton,
              Qt::RightButton);
    QVERIFY(Stored(panel, 0)->boxes.empty());
    QVERIFY(panel->Undo());
    QCOMPARE(Stored(panel, 0)->boxes.size(), size_t{1});
    const QPointF inside = canvas->ImageToWidget({10, 10});
    SendMouse(canvas, QEvent::MouseButtonPress, inside, Qt::LeftButton, Qt::LeftButton);
    SendMouse(canvas, QEvent::MouseButtonRelease, inside, Qt::LeftButton, Qt::NoButton);
    QCOMPARE(canvas->selected_box(), Stored(panel, 0)->boxes[0].id);
    QTest::keyClick(canvas, Qt::Key_Delete);
    QVERIFY(Stored(panel, 0)->boxes.empty());
  }

  void noteIsSavedAsOneStep() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QLineEdit* note = panel->note_edit();
    // "n" focuses the note; typing there does not label (digits are text).
    QTest::keyClick(window->grid(), Qt::Key_N);
    QVERIFY(note->hasFocus());
    QTest::keyClicks(note, QStringLiteral("halo 2"));
    QVERIFY(!Stored(panel, 0) || Stored(panel, 0)->category_ids.empty());
    // Saved after a short idle...
    QTRY_VERIFY_WITH_TIMEOUT(Stored(panel, 0) && Stored(panel, 0)->note == "halo 2", 5000);
    // ...and the rest of the same edit on Return; the whole edit is one undo step.
    QTest::keyClicks(note, QStringLiteral(" left"));
    QTest::keyClick(note, Qt::Key_Return);
    QCOMPARE(Stored(panel, 0)->note, std::string("halo 2 left"));
    QVERIFY(!note->hasFocus());
    QCOMPARE(note->text(), QStringLiteral("halo 2 left"));
    QVERIFY(panel->Undo());
    QVERIFY(!Stored(panel, 0) || Stored(panel, 0)->note.empty());
    QCOMPARE(note->text(), QString());
    QVERIFY(panel->Redo());
    QCOMPARE(Stored(panel, 0)->note, std::string("halo 2 left"));

    // Moving to another image saves an unsaved note first.
    panel->note_edit()->setFocus();
    QTest::keyClicks(note, QStringLiteral("!"));
    window->SelectRow(3);
    QCOMPARE(Stored(panel, 0)->note, std::string("halo 2 left!"));
    QCOMPARE(note->text(), QString());
  }

  void noteEditedBackToItsStartKeepsEarlierActions() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QTest::keyClick(window->grid(), Qt::Key_1);
    QLineEdit* note = panel->note_edit();
    note->setFocus();
    QTest::keyClicks(note, QStringLiteral("x"));
    QTRY_VERIFY_WITH_TIMEOUT(Stored(panel, 0)->note == "x", 5000);
    QTest::keyClick(note, Qt::Key_Backspace);
    QTRY_VERIFY_WITH_TIMEOUT(Stored(panel, 0)->note.empty(), 5000);
    QTest::keyClicks(note, QStringLiteral("y"));
    QTest::keyClick(note, Qt::Key_Return);
    QCOMPARE(Stored(panel, 0)->note, std::string("y"));
    QCOMPARE(StoredCategories(panel, 0).size(), size_t{1});  // the toggle was not undone
    QVERIFY(panel->Undo());
    QVERIFY(Stored(panel, 0)->note.empty());
    QCOMPARE(StoredCategories(panel, 0).size(), size_t{1});
  }

  void filtersGiveRows() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QListView* grid = window->grid();
    ImageGridModel* model = window->grid_model();
    window->SelectRow(1);
    QTest::keyClick(grid, Qt::Key_1);
    window->SelectRow(2);
    QTest::keyClick(grid, Qt::Key_0);
    window->SelectRow(3);
    QTest::keyClick(grid, Qt::Key_2);
    auto rows = [&] {
      std::vector<int64_t> out;
      for (int r = 0; r < model->rowCount(); ++r) out.push_back(model->SourceIndex(r));
      return out;
    };
    panel->SetFilter(LabelPanel::Filter::kUnlabelled);
    QCOMPARE(rows(), (std::vector<int64_t>{0, 4, 5, 6, 7, 8, 9}));
    panel->SetFilter(LabelPanel::Filter::kLabelled);
    QCOMPARE(rows(), (std::vector<int64_t>{1, 2, 3}));
    panel->SetFilter(LabelPanel::Filter::kClean);
    QCOMPARE(rows(), (std::vector<int64_t>{2}));
    panel->SetFilter(LabelPanel::Filter::kArtifacts);
    QCOMPARE(rows(), (std::vector<int64_t>{1, 3}));
    panel->SetFilter(LabelPanel::Filter::kCategory, CategoryAt(panel, 1));
    QCOMPARE(rows(), (std::vector<int64_t>{3}));
    QCOMPARE(window->current_source_index(), 3);

    // The detector filter is disabled until flags arrive.
    QComboBox* box = panel->filter_box();
    auto flagged_item = [&] {
      auto* items = qobject_cast<QStandardItemModel*>(box->model());
      for (int i = 0; i < box->count(); ++i) {
        if (box->itemData(i).toList().value(0).toInt() ==
            static_cast<int>(LabelPanel::Filter::kFlagged)) {
          return items->item(i);
        }
      }
      return static_cast<QStandardItem*>(nullptr);
    };
    QVERIFY(flagged_item() && !flagged_item()->isEnabled());
    panel->SetFlaggedIndices({6, 8});
    QVERIFY(flagged_item()->isEnabled());
    panel->SetFilter(LabelPanel::Filter::kFlagged);
    QCOMPARE(rows(), (std::vector<int64_t>{6, 8}));
    QVERIFY(model->index(0).data(ImageGridModel::kBadgeRole).toMap().value("flagged").toBool());

    // Choosing in the combo box applies it too.
    for (int i = 0; i < box->count(); ++i) {
      if (box->itemData(i).toList().value(0).toInt() == static_cast<int>(LabelPanel::Filter::kAll)) {
        box->setCurrentIndex(i);
        emit box->activated(i);
      }
    }
    QCOMPARE(model->rowCount(), kImages);
    QVERIFY(!model->filtered());
    QCOMPARE(panel->filter(), LabelPanel::Filter::kAll);
  }

  void keymapChangeTakesEffectAndPersists() {
    std::string project;
    {
      auto window = OpenStudio();
      QVERIFY(window);
      project = project_;
      LabelPanel* panel = window->labels();
      LabelKeymap keymap = panel->keymap();
      keymap.SetKeys(LabelAction::kCategory1, {QKeySequence(Qt::Key_Q)});
      keymap.SetKeys(LabelAction::kNext, {QKeySequence(Qt::Key_D)});
      panel->SetKeymap(keymap);
      QTest::keyClick(window->grid(), Qt::Key_1);  // no longer bound
      QVERIFY(!Stored(panel, 0));
      QTest::keyClick(window->grid(), Qt::Key_Q);
      QCOMPARE(StoredCategories(panel, 0).size(), size_t{1});
      QVERIFY(panel->category_list()->item(0)->text().startsWith(QStringLiteral("Q")));
      QTest::keyClick(window->grid(), Qt::Key_D);
      QCOMPARE(window->current_row(), 1);
    }
    auto window = OpenStudio(project);
    QVERIFY(window);
    QCOMPARE(window->labels()->keymap().Keys(LabelAction::kCategory1),
             QList<QKeySequence>{QKeySequence(Qt::Key_Q)});
    QCOMPARE(window->labels()->keymap().Keys(LabelAction::kMarkClean),
             QList<QKeySequence>{QKeySequence(Qt::Key_0)});
    // Labels survive the restart, and so does the undo history.
    QVERIFY(window->labels()->counts_text().startsWith(QStringLiteral("labelled 1 / 10")));
    QVERIFY(window->labels()->Undo());
    QVERIFY(window->labels()->counts_text().startsWith(QStringLiteral("labelled 0 / 10")));
  }

  void keymapJsonRoundTrip() {
    LabelKeymap keymap;
    keymap.SetKeys(LabelAction::kRedo, {QKeySequence(Qt::CTRL | Qt::Key_R)});
    keymap.SetKeys(LabelAction::kEditNote, {});
    LabelKeymap read;
    QVERIFY(read.FromJson(keymap.ToJson()));
    QVERIFY(read == keymap);
    QVERIFY(!read.FromJson(QStringLiteral("not json")));
    LabelAction action;
    QVERIFY(LabelKeymap().Match(QKeySequence(Qt::SHIFT | Qt::Key_Space), &action));
    QCOMPARE(action, LabelAction::kPrevious);
  }

  void categoriesEditedAndExternalChangesSeen() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    const int before = panel->category_list()->count();
    // Another process (the CLI) adds a category: the panel sees it on refresh.
    const int64_t id = LabelStore::Open(project_)->AddCategory("halo", "#123456");
    panel->Refresh();
    QCOMPARE(panel->category_list()->count(), before + 1);
    // Moved to the front, it becomes key 1.
    panel->store()->MoveCategory(id, 0);
    panel->Refresh();
    QTest::keyClick(window->grid(), Qt::Key_1);
    QCOMPARE(StoredCategories(panel, 0), std::vector<int64_t>{id});
    // Filter by category lists it.
    bool listed = false;
    for (int i = 0; i < panel->filter_box()->count(); ++i) {
      listed |= panel->filter_box()->itemText(i).contains(QStringLiteral("halo"));
    }
    QVERIFY(listed);
  }

  void exportAndImportCsv() {
    auto window = OpenStudio();
    QVERIFY(window);
    LabelPanel* panel = window->labels();
    QTest::keyClick(window->grid(), Qt::Key_1);
    window->SelectRow(4);
    QTest::keyClick(window->grid(), Qt::Key_0);
    const QString csv = QString::fromStdString(dir_->Join("labels.csv"));
    QString message;
    QVERIFY2(panel->ExportLabels(csv, false, &message), qPrintable(message));
    QVERIFY(panel->ExportLabels(QString::fromStdString(dir_->Join("labels.json")), true, &message));
    SelectRows(window.get(), {0, 4});
    panel->ClearLabels();
    QVERIFY(panel->counts_text().startsWith(QStringLiteral("labelled 0 / 10")));
    QVERIFY2(panel->ImportLabels(csv, &message), qPrintable(message));
    QVERIFY(panel->counts_text().startsWith(QStringLiteral("labelled 2 / 10 · clean 1")));
    QVERIFY(Stored(panel, 4)->clean);
  }
};

QTEST_MAIN(LabelPanelTest)
#include "label_panel_test.moc"
