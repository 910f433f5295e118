#include "ui/label_panel.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QColorDialog>
#include <QComboBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QListWidget>
#include <QMessageBox>
#include <QPainter>
#include <QPushButton>
#include <QStackedWidget>
#include <QStandardItemModel>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <filesystem>
#include <iterator>
#include <map>

#include "core/util/logging.h"
#include <QMenu>
#include "ui/figures/export_dialog.h"
#include "ui/image_grid_model.h"
#include "ui/label_badge_delegate.h"
#include "ui/label_canvas.h"
#include "ui/qt_image.h"

namespace synthlens::ui {
namespace {

constexpr const char* kAutoAdvanceSetting = "studio.labels.auto_advance";
// Idle time after the last keystroke in the note before it is saved.
constexpr int kNoteIdleMs = 1200;
// How often the store's revision is polled for changes made by another process (the CLI).
constexpr int kPollMs = 2000;

// Colours offered to new categories: Okabe-Ito, then Paul Tol's muted (colour-blind safe).
const char* const kPalette[] = {"#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2",
                                "#d55e00", "#cc79a7", "#332288", "#88ccee", "#44aa99",
                                "#117733", "#999933", "#ddcc77", "#cc6677", "#882255"};

QIcon Swatch(const QColor& color) {
  QPixmap pixmap(14, 14);
  pixmap.fill(Qt::transparent);
  QPainter painter(&pixmap);
  painter.setRenderHint(QPainter::Antialiasing, true);
  painter.setPen(QPen(color.darker(140), 1));
  painter.setBrush(color);
  painter.drawRoundedRect(QRectF(0.5, 0.5, 13, 13), 3, 3);
  return QIcon(pixmap);
}

QString Q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

LabelPanel::LabelPanel(ImageGridModel* model, QListView* grid, QWidget* parent)
    : QWidget(parent), model_(model), grid_(grid) {
  BuildUi();
  // Right-click: Export figure… / Copy as image / Copy data (docs/figures.md).
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QMenu menu(this);
    AddFigureActions(&menu, this, [this] { return FigureSpec(); });
    menu.exec(mapToGlobal(pos));
  });
  BuildFileActions();
  grid_->setSelectionMode(QAbstractItemView::ExtendedSelection);
  grid_->setItemDelegate(new LabelBadgeDelegate(grid_));
  model_->SetBadgeFunction([this](int64_t i) { return BadgeOf(i); });
  connect(grid_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &LabelPanel::OnCurrentChanged);
  connect(grid_->selectionModel(), &QItemSelectionModel::selectionChanged, this,
          &LabelPanel::OnSelectionChanged);
  connect(model_, &QAbstractItemModel::modelReset, this, &LabelPanel::OnCurrentChanged);
  connect(model_, &ImageGridModel::FilterChanged, this, [this](bool filtered, int) {
    if (applying_filter_ || filter_ == Filter::kAll) return;
    // Someone else (the embedding view) changed the grid filter: ours no longer applies.
    filter_ = Filter::kAll;
    UpdateFilterBox();
  });
  InstallKeyFilters();
  SetProject(nullptr, {});
}

LabelPanel::~LabelPanel() {
  // The badge function points at this panel: drop it if the model outlives us.
  if (model_) model_->SetBadgeFunction({});
  if (store_ && note_dirty_) {
    try {
      store_->SetNote(note_target_, note_->text().toStdString());
    } catch (const std::exception& e) {
      SL_LOG_WARNING("cannot save the note: " << e.what());
    }
  }
}

void LabelPanel::BuildUi() {
  auto* outer = new QVBoxLayout(this);
  outer->setContentsMargins(0, 0, 0, 0);
  pages_ = new QStackedWidget(this);
  outer->addWidget(pages_);

  // Page 0: no project.
  auto* none = new QWidget(pages_);
  auto* none_layout = new QVBoxLayout(none);
  none_layout->addStretch(1);
  no_project_label_ = new QLabel(none);
  no_project_label_->setWordWrap(true);
  no_project_label_->setAlignment(Qt::AlignCenter);
  none_layout->addWidget(no_project_label_);
  auto* none_buttons = new QHBoxLayout;
  none_buttons->addStretch(1);
  auto* create = new QPushButton(tr("New Project…"), none);
  auto* open = new QPushButton(tr("Open Project…"), none);
  none_buttons->addWidget(create);
  none_buttons->addWidget(open);
  none_buttons->addStretch(1);
  none_layout->addLayout(none_buttons);
  none_layout->addStretch(2);
  connect(create, &QPushButton::clicked, this, [this] { ChooseProject(true); });
  connect(open, &QPushButton::clicked, this, [this] { ChooseProject(false); });
  pages_->addWidget(none);

  // Page 1: labelling.
  auto* page = new QWidget(pages_);
  auto* columns = new QHBoxLayout(page);
  auto* left = new QVBoxLayout;
  counts_label_ = new QLabel(page);
  counts_label_->setObjectName(QStringLiteral("label_counts"));
  QFont bold = counts_label_->font();
  bold.setBold(true);
  counts_label_->setFont(bold);
  counts_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  left->addWidget(counts_label_);
  canvas_ = new LabelCanvas(page);
  left->addWidget(canvas_, 1);
  image_info_ = new QLabel(page);
  image_info_->setWordWrap(true);
  left->addWidget(image_info_);
  auto* note_row = new QHBoxLayout;
  note_row->addWidget(new QLabel(tr("Note:"), page));
  note_ = new QLineEdit(page);
  note_->setObjectName(QStringLiteral("label_note"));
  note_->setPlaceholderText(tr("Free text about this image (saved when you leave the field)"));
  note_row->addWidget(note_, 1);
  left->addLayout(note_row);
  hints_ = new QLabel(page);
  hints_->setWordWrap(true);
  QPalette dim = hints_->palette();
  dim.setColor(QPalette::WindowText, dim.color(QPalette::PlaceholderText));
  hints_->setPalette(dim);
  left->addWidget(hints_);
  status_ = new QLabel(page);
  status_->setWordWrap(true);
  left->addWidget(status_);
  columns->addLayout(left, 3);

  auto* right = new QVBoxLayout;
  right->addWidget(new QLabel(tr("<b>Categories</b> (key: toggle on the selection)"), page));
  categories_list_ = new QListWidget(page);
  categories_list_->setObjectName(QStringLiteral("label_categories"));
  categories_list_->setIconSize(QSize(14, 14));
  right->addWidget(categories_list_, 1);
  auto* edit_row = new QHBoxLayout;
  auto add_button = [&](const QString& text, const QString& tip) {
    auto* b = new QPushButton(text, page);
    b->setToolTip(tip);
    b->setFocusPolicy(Qt::NoFocus);
    edit_row->addWidget(b);
    return b;
  };
  QPushButton* add = add_button(tr("Add…"), tr("Add a category"));
  QPushButton* rename = add_button(tr("Rename…"), tr("Rename the highlighted category (or double-click it)"));
  QPushButton* color = add_button(tr("Colour…"), tr("Change the highlighted category's colour"));
  QPushButton* up = add_button(QStringLiteral("▲"), tr("Move up (changes its number key)"));
  QPushButton* down = add_button(QStringLiteral("▼"), tr("Move down (changes its number key)"));
  remove_category_ = add_button(tr("Remove"), tr("Remove the highlighted category and its labels (undoable)"));
  up->setMaximumWidth(32);
  down->setMaximumWidth(32);
  right->addLayout(edit_row);
  connect(add, &QPushButton::clicked, this, &LabelPanel::AddCategoryInteractive);
  connect(rename, &QPushButton::clicked, this, &LabelPanel::RenameCategoryInteractive);
  connect(color, &QPushButton::clicked, this, &LabelPanel::RecolorCategoryInteractive);
  connect(up, &QPushButton::clicked, this, [this] { MoveActiveCategory(-1); });
  connect(down, &QPushButton::clicked, this, [this] { MoveActiveCategory(+1); });
  connect(remove_category_, &QPushButton::clicked, this, &LabelPanel::RemoveActiveCategory);
  connect(categories_list_, &QListWidget::itemChanged, this, &LabelPanel::OnCategoryItemChanged);
  connect(categories_list_, &QListWidget::itemDoubleClicked, this,
          &LabelPanel::RenameCategoryInteractive);
  connect(categories_list_, &QListWidget::currentRowChanged, this, [this] {
    canvas_->SetDrawColor(active_category() != 0 ? CategoryColor(active_category()) : QColor());
  });

  auto* form = new QFormLayout;
  filter_box_ = new QComboBox(page);
  filter_box_->setObjectName(QStringLiteral("label_filter"));
  auto* filter_row = new QHBoxLayout;
  filter_row->addWidget(filter_box_, 1);
  auto* reapply = new QPushButton(QStringLiteral("⟳"), page);
  reapply->setToolTip(tr("Apply the filter again (labelling does not hide images until then)"));
  reapply->setMaximumWidth(32);
  reapply->setFocusPolicy(Qt::NoFocus);
  filter_row->addWidget(reapply);
  form->addRow(tr("Show:"), filter_row);
  right->addLayout(form);
  connect(filter_box_, &QComboBox::activated, this, &LabelPanel::OnFilterBoxChanged);
  connect(reapply, &QPushButton::clicked, this, [this] { SetFilter(filter_, filter_category_); });

  auto_advance_box_ = new QCheckBox(tr("Auto-advance after labelling one image"), page);
  auto_advance_box_->setFocusPolicy(Qt::NoFocus);
  right->addWidget(auto_advance_box_);
  connect(auto_advance_box_, &QCheckBox::toggled, this, &LabelPanel::SetAutoAdvance);

  auto* undo_row = new QHBoxLayout;
  undo_button_ = new QPushButton(tr("Undo"), page);
  redo_button_ = new QPushButton(tr("Redo"), page);
  auto* keys = new QPushButton(tr("Keys…"), page);
  keys->setToolTip(tr("Change the labelling keys (saved in the project)"));
  for (QPushButton* b : {undo_button_, redo_button_, keys}) {
    b->setFocusPolicy(Qt::NoFocus);
    undo_row->addWidget(b);
  }
  right->addLayout(undo_row);
  connect(undo_button_, &QPushButton::clicked, this, &LabelPanel::Undo);
  connect(redo_button_, &QPushButton::clicked, this, &LabelPanel::Redo);
  connect(keys, &QPushButton::clicked, this, &LabelPanel::EditKeymap);
  columns->addLayout(right, 2);
  pages_->addWidget(page);

  connect(canvas_, &LabelCanvas::BoxDrawn, this, &LabelPanel::AddBox);
  connect(canvas_, &LabelCanvas::RemoveBoxRequested, this,
          [this](qint64 id) { RemoveBox(id); });

  note_timer_ = new QTimer(this);
  note_timer_->setSingleShot(true);
  note_timer_->setInterval(kNoteIdleMs);
  connect(note_timer_, &QTimer::timeout, this, [this] { SaveNote(false); });
  connect(note_, &QLineEdit::textEdited, this, [this] {
    if (!store_ || shown_index_ < 0) return;
    if (!note_dirty_) note_target_ = TargetOf(shown_index_);
    note_dirty_ = true;
    note_timer_->start();
  });
  connect(note_, &QLineEdit::editingFinished, this, [this] { SaveNote(true); });
  connect(note_, &QLineEdit::returnPressed, this, [this] { canvas_->setFocus(); });

  poll_timer_ = new QTimer(this);
  poll_timer_->setInterval(kPollMs);
  connect(poll_timer_, &QTimer::timeout, this, [this] {
    if (isVisible()) Refresh();
  });
}

void LabelPanel::BuildFileActions() {
  auto* open = new QAction(tr("Open or Create &Project…"), this);
  connect(open, &QAction::triggered, this, [this] { ChooseProject(true); });
  // One export action per format: ask for the file, export, say why when it fails.
  auto export_action = [this](const QString& text, const QString& title, const QString& file,
                              const QString& filter, bool coco) {
    auto* action = new QAction(text, this);
    connect(action, &QAction::triggered, this, [this, title, file, filter, coco] {
      const QString path = QFileDialog::getSaveFileName(this, title, file, filter);
      if (path.isEmpty()) return;
      QString message;
      if (!ExportLabels(path, coco, &message)) QMessageBox::warning(this, tr("Export"), message);
    });
    return action;
  };
  auto* export_csv = export_action(tr("Export Labels as &CSV…"), tr("Export labels as CSV"),
                                   QStringLiteral("labels.csv"), tr("CSV (*.csv)"), false);
  auto* export_coco =
      export_action(tr("Export Labels as C&OCO JSON…"), tr("Export labels as COCO JSON"),
                    QStringLiteral("labels.json"), tr("COCO JSON (*.json)"), true);
  auto* import = new QAction(tr("&Import Labels (CSV or COCO)…"), this);
  connect(import, &QAction::triggered, this, [this] {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Import labels"), QString(), tr("Labels (*.csv *.json);;All files (*)"));
    if (path.isEmpty()) return;
    QString message;
    if (!ImportLabels(path, &message)) QMessageBox::warning(this, tr("Import"), message);
  });
  file_actions_ = {open, export_csv, export_coco, import};
  store_actions_ = {export_csv, export_coco, import};
}

void LabelPanel::InstallKeyFilters() {
  grid_->installEventFilter(this);
  installEventFilter(this);
  for (QWidget* w : findChildren<QWidget*>()) {
    if (w != note_) w->installEventFilter(this);
  }
}

bool LabelPanel::eventFilter(QObject* watched, QEvent* event) {
  if (event->type() != QEvent::KeyPress && event->type() != QEvent::ShortcutOverride) {
    return QWidget::eventFilter(watched, event);
  }
  // The grid's keys label only while this tab is on screen; text fields keep their keys.
  if (watched == grid_ && !isVisible()) return false;
  // Keys the note field ignores bubble up to its parents: they are still the note's.
  if (QApplication::focusWidget() == note_) return false;
  if (!store_ || pages_->currentIndex() != 1) return false;
  auto* key = static_cast<QKeyEvent*>(event);
  LabelAction action;
  if (!keymap_.Match(key, &action)) return false;
  if (event->type() == QEvent::ShortcutOverride) {
    event->accept();  // deliver it as a key press to us rather than to a window shortcut
    return true;
  }
  Trigger(action);
  return true;
}

void LabelPanel::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  QWidget* focus = QApplication::focusWidget();
  if (!focus || (focus != grid_ && !isAncestorOf(focus))) canvas_->setFocus(Qt::OtherFocusReason);
  Refresh();
}

void LabelPanel::SetProject(std::shared_ptr<Project> project, const QString& path) {
  if (note_dirty_) SaveNote(true);
  store_.reset();
  project_ = std::move(project);
  project_path_ = path;
  revision_ = -1;
  labels_.clear();
  categories_.clear();
  counts_ = {};
  keymap_ = LabelKeymap::Defaults();
  QString error;
  if (!path.isEmpty()) {
    try {
      store_ = LabelStore::Open(path.toStdString());
    } catch (const std::exception& e) {
      error = QString::fromUtf8(e.what());
      SL_LOG_WARNING("cannot open the labels of " << path.toStdString() << ": " << e.what());
    }
  }
  if (project_) {
    try {
      if (auto json = project_->Setting(LabelKeymap::kSettingKey)) {
        if (!keymap_.FromJson(Q(*json))) SL_LOG_WARNING("ignoring an unreadable label keymap");
      }
      if (auto advance = project_->Setting(kAutoAdvanceSetting)) auto_advance_ = *advance == "1";
    } catch (const std::exception& e) {
      SL_LOG_WARNING("cannot read the label settings: " << e.what());
    }
  }
  {
    const QSignalBlocker block(auto_advance_box_);
    auto_advance_box_->setChecked(auto_advance_);
  }
  for (QAction* a : store_actions_) a->setEnabled(store_ != nullptr);
  if (store_) {
    pages_->setCurrentIndex(1);
    poll_timer_->start();
  } else {
    poll_timer_->stop();
    no_project_label_->setText(
        error.isEmpty()
            ? tr("No project is open. Labels are kept in a project file (SQLite), every "
                 "action committed at once and undoable.\nCreate or open a project to label.")
            : tr("Cannot open the labels of %1:\n%2").arg(path, error));
    pages_->setCurrentIndex(0);
  }
  UpdateHints();
  Refresh(true);
}

QString LabelPanel::SourceKey(const QString& spec) { return Q(synthlens::SourceKey(spec.toStdString())); }

void LabelPanel::SetSource(std::shared_ptr<const ImageSource> source) {
  if (note_dirty_) SaveNote(true);
  source_ = std::move(source);
  index_of_id_.clear();
  source_key_.clear();
  flagged_.clear();
  has_flagged_ = false;
  filter_ = Filter::kAll;
  if (source_) {
    source_key_ = SourceKey(Q(source_->spec())).toStdString();
    index_of_id_.reserve(static_cast<size_t>(source_->size()));
    for (int64_t i = 0; i < source_->size(); ++i) index_of_id_[source_->record(i).id] = i;
  }
  shown_index_ = -1;
  Refresh(true);
  OnCurrentChanged();
}

void LabelPanel::SetFlaggedIndices(QVector<qint64> source_indices) {
  flagged_.clear();
  flagged_.insert(source_indices.begin(), source_indices.end());
  has_flagged_ = !source_indices.isEmpty();
  if (!has_flagged_ && filter_ == Filter::kFlagged) SetFilter(Filter::kAll);
  UpdateFilterBox();
  model_->BadgesChanged();
}

void LabelPanel::Refresh(bool force) {
  int64_t revision = -1;
  if (store_) {
    try {
      revision = store_->Revision();
    } catch (const std::exception& e) {
      ShowError(tr("reading the labels"), e);
      return;
    }
  }
  if (!force && revision == revision_) return;
  revision_ = revision;
  labels_.clear();
  categories_.clear();
  counts_ = {};
  if (store_) {
    try {
      categories_ = store_->Categories();
      if (source_) {
        for (ImageLabels& l : store_->All(source_key_)) {
          const auto it = index_of_id_.find(l.target.image_id);
          if (it != index_of_id_.end()) labels_.emplace(it->second, std::move(l));
        }
        counts_ = store_->Counts(source_key_);
      }
    } catch (const std::exception& e) {
      ShowError(tr("reading the labels"), e);
    }
  }
  UpdateCategoryList();
  UpdateFilterBox();
  UpdateCounts();
  UpdateUndoButtons();
  UpdateHints();
  UpdateCurrent();
  model_->BadgesChanged();
  emit LabelsChanged();
}

const ImageLabels* LabelPanel::LabelsOf(int64_t source_index) const {
  const auto it = labels_.find(source_index);
  return it == labels_.end() ? nullptr : &it->second;
}

LabelTarget LabelPanel::TargetOf(int64_t source_index) const {
  LabelTarget target;
  target.source = source_key_;
  if (source_ && source_index >= 0 && source_index < source_->size()) {
    target.image_id = source_->record(source_index).id;
  }
  return target;
}

int64_t LabelPanel::current_index() const {
  const QModelIndex current = grid_->currentIndex();
  return current.isValid() ? model_->SourceIndex(current.row()) : -1;
}

std::vector<LabelTarget> LabelPanel::SelectedTargets() const {
  std::vector<int> rows;
  for (const QModelIndex& index : grid_->selectionModel()->selectedIndexes()) {
    rows.push_back(index.row());
  }
  std::sort(rows.begin(), rows.end());
  std::vector<LabelTarget> targets;
  for (int row : rows) {
    const int64_t i = model_->SourceIndex(row);
    if (i >= 0) targets.push_back(TargetOf(i));
  }
  if (targets.empty() && current_index() >= 0) targets.push_back(TargetOf(current_index()));
  return targets;
}

QColor LabelPanel::CategoryColor(int64_t id) const {
  for (const LabelCategory& c : categories_) {
    if (c.id == id) return QColor(Q(c.color));
  }
  return QColor(Qt::gray);
}

QString LabelPanel::CategoryName(int64_t id) const {
  for (const LabelCategory& c : categories_) {
    if (c.id == id) return Q(c.name);
  }
  return QString::number(id);
}

QVariant LabelPanel::BadgeOf(int64_t source_index) const {
  const bool flagged = has_flagged_ && flagged_.count(source_index) > 0;
  const ImageLabels* labels = LabelsOf(source_index);
  if (!labels) return flagged ? LabelBadgeDelegate::MakeBadge(false, {}, {}, true) : QVariant();
  QList<QColor> colors;
  QStringList names;
  // In taxonomy order, so the same categories always give the same row of dots.
  for (const LabelCategory& c : categories_) {
    if (std::find(labels->category_ids.begin(), labels->category_ids.end(), c.id) !=
        labels->category_ids.end()) {
      colors.push_back(QColor(Q(c.color)));
      names.push_back(Q(c.name));
    }
  }
  return LabelBadgeDelegate::MakeBadge(labels->clean, colors, names, flagged);
}

template <typename F>
bool LabelPanel::Act(const QString& what, F&& action) {
  if (!store_) {
    SetStatus(tr("Open a project to label"));
    return false;
  }
  try {
    action();
  } catch (const std::exception& e) {
    ShowError(what, e);
    Refresh();
    return false;
  }
  Refresh();
  return true;
}

void LabelPanel::ShowError(const QString& what, const std::exception& e) {
  SL_LOG_WARNING(what.toStdString() << ": " << e.what());
  SetStatus(tr("Failed %1: %2").arg(what, QString::fromUtf8(e.what())));
}

void LabelPanel::SetStatus(const QString& text) { status_->setText(text); }
QString LabelPanel::status_text() const { return status_->text(); }

bool LabelPanel::Trigger(LabelAction action) {
  const int a = static_cast<int>(action);
  if (a >= static_cast<int>(LabelAction::kCategory1) &&
      a <= static_cast<int>(LabelAction::kCategory9)) {
    ToggleCategoryAt(a - static_cast<int>(LabelAction::kCategory1));
    return true;
  }
  switch (action) {
    case LabelAction::kMarkClean: MarkClean(); return true;
    case LabelAction::kClearLabels: ClearLabels(); return true;
    case LabelAction::kNext: Next(); return true;
    case LabelAction::kPrevious: Previous(); return true;
    case LabelAction::kUndo: return Undo();
    case LabelAction::kRedo: return Redo();
    case LabelAction::kDeleteBox:
      if (canvas_->selected_box() != 0) RemoveBox(canvas_->selected_box());
      return true;
    case LabelAction::kEditNote:
      note_->setFocus(Qt::ShortcutFocusReason);
      note_->selectAll();
      return true;
    default: return false;
  }
}

void LabelPanel::AfterLabelling(size_t targets) {
  if (store_) SetStatus(Q(store_->UndoText()));
  if (auto_advance_ && targets == 1) Next();
}

void LabelPanel::ToggleCategoryAt(int position) {
  if (position < 0 || position >= static_cast<int>(categories_.size())) {
    SetStatus(tr("No category %1").arg(position + 1));
    return;
  }
  ToggleCategory(categories_[position].id);
}

void LabelPanel::ToggleCategory(int64_t category_id) {
  if (note_dirty_) SaveNote(true);
  const std::vector<LabelTarget> targets = SelectedTargets();
  if (targets.empty()) return;
  if (Act(tr("labelling"), [&] { store_->ToggleCategory(targets, category_id); })) {
    AfterLabelling(targets.size());
  }
}

void LabelPanel::MarkClean() {
  if (note_dirty_) SaveNote(true);
  const std::vector<LabelTarget> targets = SelectedTargets();
  if (targets.empty()) return;
  if (Act(tr("marking clean"), [&] { store_->MarkClean(targets); })) {
    AfterLabelling(targets.size());
  }
}

void LabelPanel::ClearLabels() {
  if (note_dirty_) SaveNote(true);
  const std::vector<LabelTarget> targets = SelectedTargets();
  if (targets.empty()) return;
  if (Act(tr("clearing labels"), [&] { store_->ClearLabels(targets); })) {
    SetStatus(Q(store_->UndoText()));
  }
}

void LabelPanel::Next() {
  const int row = grid_->currentIndex().isValid() ? grid_->currentIndex().row() + 1 : 0;
  if (row >= model_->rowCount()) {
    SetStatus(tr("Last image"));
    return;
  }
  const QModelIndex index = model_->index(row);
  grid_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
  grid_->scrollTo(index);
}

void LabelPanel::Previous() {
  const int row = grid_->currentIndex().isValid() ? grid_->currentIndex().row() - 1 : 0;
  if (row < 0 || row >= model_->rowCount()) {
    if (row < 0) SetStatus(tr("First image"));
    return;
  }
  const QModelIndex index = model_->index(row);
  grid_->selectionModel()->setCurrentIndex(index, QItemSelectionModel::ClearAndSelect);
  grid_->scrollTo(index);
}

bool LabelPanel::Undo() { return UndoOrRedo(false); }

bool LabelPanel::Redo() { return UndoOrRedo(true); }

bool LabelPanel::UndoOrRedo(bool redo) {
  if (note_dirty_) SaveNote(true);
  if (!store_) return false;
  note_session_revision_ = -1;
  QString text;
  bool done = false;
  Act(redo ? tr("redoing") : tr("undoing"), [&] {
    text = Q(redo ? store_->RedoText() : store_->UndoText());
    done = redo ? store_->Redo() : store_->Undo();
  });
  if (redo) {
    SetStatus(done ? tr("Redid: %1").arg(text) : tr("Nothing to redo"));
  } else {
    SetStatus(done ? tr("Undid: %1").arg(text) : tr("Nothing to undo"));
  }
  return done;
}

void LabelPanel::AddBox(const QRectF& image_rect) {
  const int64_t index = current_index();
  const int64_t category = active_category();
  if (index < 0 || category == 0) {
    SetStatus(tr("Pick a category in the list before drawing a box"));
    return;
  }
  if (note_dirty_) SaveNote(true);
  LabelBox box;
  box.category_id = category;
  box.x = image_rect.x();
  box.y = image_rect.y();
  box.width = image_rect.width();
  box.height = image_rect.height();
  const LabelTarget target = TargetOf(index);
  const QSize size = canvas_->image().size();
  if (Act(tr("adding a box"), [&] {
        store_->AddBox(target, box);
        if (!size.isEmpty()) store_->SetImageSize(target, size.width(), size.height());
      })) {
    SetStatus(Q(store_->UndoText()));
  }
}

void LabelPanel::RemoveBox(int64_t box_id) {
  if (Act(tr("removing a box"), [&] { store_->RemoveBox(box_id); })) {
    SetStatus(Q(store_->UndoText()));
  }
}

void LabelPanel::SaveNote(bool end_session) {
  note_timer_->stop();
  if (note_dirty_ && store_ && !note_target_.image_id.empty()) {
    const std::string text = note_->text().toStdString();
    note_dirty_ = false;
    try {
      // Later saves of one edit session replace its step, so the session is one undo step; only
      // when nothing else (another action, another process) was committed since.
      if (note_session_revision_ >= 0 && store_->Revision() == note_session_revision_ &&
          store_->CanUndo()) {
        store_->Undo();
      }
      const int64_t before = store_->Revision();
      store_->SetNote(note_target_, text);
      const int64_t after = store_->Revision();
      // An unchanged note makes no undo step: then there is nothing for a later save to replace.
      note_session_revision_ = after != before ? after : -1;
    } catch (const std::exception& e) {
      ShowError(tr("saving the note"), e);
    }
    Refresh();
  }
  if (end_session) note_session_revision_ = -1;
}

void LabelPanel::CommitNote() { SaveNote(true); }

int64_t LabelPanel::active_category() const {
  const int row = categories_list_->currentRow();
  if (row < 0 || row >= static_cast<int>(categories_.size())) return 0;
  return categories_[row].id;
}

void LabelPanel::SetActiveCategory(int64_t category_id) {
  for (int i = 0; i < static_cast<int>(categories_.size()); ++i) {
    if (categories_[i].id == category_id) categories_list_->setCurrentRow(i);
  }
}

void LabelPanel::OnCurrentChanged() {
  if (note_dirty_) SaveNote(true);
  note_session_revision_ = -1;
  LoadCurrentImage();
  UpdateCurrent();
}

void LabelPanel::OnSelectionChanged() { UpdateCategoryList(); }

void LabelPanel::LoadCurrentImage() {
  const int64_t index = current_index();
  shown_index_ = index;
  if (!source_ || index < 0) {
    canvas_->SetImage({});
    return;
  }
  auto loaded = source_->Load(index);
  if (!loaded.ok()) {
    canvas_->SetImage({});
    SetStatus(Q(loaded.error()));
    return;
  }
  canvas_->SetImage(ToQImage(*loaded));
}

void LabelPanel::UpdateCurrent() {
  const int64_t index = shown_index_;
  if (!source_) {
    canvas_->SetOverlayText(tr("Open a source (File menu) to label its images"));
  } else if (index < 0) {
    canvas_->SetOverlayText(tr("Select an image in the grid"));
  } else {
    canvas_->SetOverlayText({});
  }
  const ImageLabels* labels = index >= 0 ? LabelsOf(index) : nullptr;
  std::vector<LabelCanvas::Box> boxes;
  if (labels) {
    for (const LabelBox& b : labels->boxes) {
      boxes.push_back({b.id, QRectF(b.x, b.y, b.width, b.height), CategoryColor(b.category_id),
                       CategoryName(b.category_id)});
    }
  }
  canvas_->SetBoxes(std::move(boxes));
  canvas_->SetDrawColor(active_category() != 0 ? CategoryColor(active_category()) : QColor());
  QString info;
  if (source_ && index >= 0) {
    const ImageRecord& record = source_->record(index);
    info = QStringLiteral("<b>%1</b>").arg(Q(record.id).toHtmlEscaped());
    if (record.label >= 0) info += tr(" · class %1").arg(model_->ClassName(record.label));
    if (!canvas_->image().isNull()) {
      info += QStringLiteral(" · %1×%2").arg(canvas_->image().width()).arg(canvas_->image().height());
    }
    if (!labels) {
      info += tr(" · <i>unlabelled</i>");
    } else if (labels->clean) {
      info += tr(" · <span style='color:#009e73'>✔ clean</span>");
    } else {
      QStringList names;
      for (int64_t id : labels->category_ids) {
        names << QStringLiteral("<span style='color:%1'>●</span> %2")
                     .arg(CategoryColor(id).name(), CategoryName(id).toHtmlEscaped());
      }
      if (!names.isEmpty()) info += QStringLiteral(" · ") + names.join(QStringLiteral(", "));
      if (!labels->boxes.empty()) info += tr(" · %n box(es)", "", static_cast<int>(labels->boxes.size()));
    }
    const int selected = grid_->selectionModel()->selectedIndexes().size();
    if (selected > 1) info += tr(" · <b>%1 selected</b> (keys label them all)").arg(selected);
  }
  image_info_->setText(info);
  // Keep what the user is typing; otherwise show the stored note.
  const bool editing = note_->hasFocus() && note_dirty_;
  if (!editing) {
    const QString stored = labels ? Q(labels->note) : QString();
    if (note_->text() != stored) note_->setText(stored);
  }
  note_->setEnabled(store_ != nullptr && index >= 0);
}

void LabelPanel::UpdateCategoryList() {
  const QSignalBlocker block(categories_list_);
  const int64_t active = active_category();
  const int old_row = categories_list_->currentRow();
  // Which selected images carry each category: all (checked), some (partial), none.
  std::vector<int64_t> selected;
  for (const QModelIndex& index : grid_->selectionModel()->selectedIndexes()) {
    selected.push_back(model_->SourceIndex(index.row()));
  }
  if (selected.empty() && current_index() >= 0) selected.push_back(current_index());
  std::map<int64_t, int> carrying;
  for (int64_t i : selected) {
    if (const ImageLabels* l = LabelsOf(i)) {
      for (int64_t id : l->category_ids) ++carrying[id];
    }
  }
  categories_list_->clear();
  for (size_t p = 0; p < categories_.size(); ++p) {
    const LabelCategory& c = categories_[p];
    const QString key =
        p < 9 ? keymap_.KeyText(static_cast<LabelAction>(static_cast<int>(LabelAction::kCategory1) + p))
              : QString();
    const auto count = counts_.per_category.find(c.id);
    const int64_t n = count == counts_.per_category.end() ? 0 : count->second;
    auto* item = new QListWidgetItem(
        Swatch(QColor(Q(c.color))),
        QStringLiteral("%1  %2  · %3").arg(key.isEmpty() ? QStringLiteral("  ") : key, Q(c.name)).arg(n),
        categories_list_);
    item->setData(Qt::UserRole, static_cast<qlonglong>(c.id));
    item->setToolTip(c.description.empty() ? Q(c.name) : Q(c.description));
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    const int have = carrying.count(c.id) ? carrying[c.id] : 0;
    item->setCheckState(have == 0 ? Qt::Unchecked
                        : have == static_cast<int>(selected.size()) ? Qt::Checked
                                                                    : Qt::PartiallyChecked);
  }
  int row = -1;
  for (size_t p = 0; p < categories_.size(); ++p) {
    if (categories_[p].id == active) row = static_cast<int>(p);
  }
  if (row < 0 && !categories_.empty()) row = std::clamp(old_row, 0, static_cast<int>(categories_.size()) - 1);
  categories_list_->setCurrentRow(row);
  remove_category_->setEnabled(!categories_.empty());
}

void LabelPanel::OnCategoryItemChanged(QListWidgetItem* item) {
  // A click on a check box: toggle that category on the selection (the list is rebuilt after).
  const int64_t id = item->data(Qt::UserRole).toLongLong();
  QTimer::singleShot(0, this, [this, id] { ToggleCategory(id); });
}

void LabelPanel::UpdateFilterBox() {
  const QSignalBlocker block(filter_box_);
  filter_box_->clear();
  auto add = [this](const QString& text, Filter f, int64_t category = 0) {
    filter_box_->addItem(text, QVariantList{static_cast<int>(f), static_cast<qlonglong>(category)});
  };
  add(tr("All images"), Filter::kAll);
  add(tr("Unlabelled"), Filter::kUnlabelled);
  add(tr("Labelled"), Filter::kLabelled);
  add(tr("Clean"), Filter::kClean);
  add(tr("With artifacts"), Filter::kArtifacts);
  add(has_flagged_ ? tr("Flagged by a detector (%1)").arg(flagged_.size())
                   : tr("Flagged by a detector (run one first)"),
      Filter::kFlagged);
  if (!has_flagged_) {
    if (auto* items = qobject_cast<QStandardItemModel*>(filter_box_->model())) {
      items->item(filter_box_->count() - 1)->setEnabled(false);
    }
  }
  for (const LabelCategory& c : categories_) {
    filter_box_->addItem(Swatch(QColor(Q(c.color))), tr("Category: %1").arg(Q(c.name)),
                         QVariantList{static_cast<int>(Filter::kCategory), static_cast<qlonglong>(c.id)});
  }
  for (int i = 0; i < filter_box_->count(); ++i) {
    const QVariantList data = filter_box_->itemData(i).toList();
    if (static_cast<Filter>(data.value(0).toInt()) == filter_ &&
        (filter_ != Filter::kCategory || data.value(1).toLongLong() == filter_category_)) {
      filter_box_->setCurrentIndex(i);
    }
  }
}

void LabelPanel::OnFilterBoxChanged() {
  const QVariantList data = filter_box_->currentData().toList();
  SetFilter(static_cast<Filter>(data.value(0).toInt()), data.value(1).toLongLong());
  grid_->setFocus();
}

QVector<qint64> LabelPanel::FilterIndices(Filter filter, int64_t category_id) const {
  QVector<qint64> kept;
  if (!source_) return kept;
  if (filter == Filter::kFlagged) {
    for (int64_t i = 0; i < source_->size(); ++i) {
      if (flagged_.count(i)) kept.push_back(i);
    }
    return kept;
  }
  for (int64_t i = 0; i < source_->size(); ++i) {
    const ImageLabels* l = LabelsOf(i);
    bool keep = false;
    switch (filter) {
      case Filter::kAll: keep = true; break;
      case Filter::kUnlabelled: keep = l == nullptr; break;
      case Filter::kLabelled: keep = l != nullptr; break;
      case Filter::kClean: keep = l && l->clean; break;
      case Filter::kArtifacts: keep = l && !l->category_ids.empty(); break;
      case Filter::kCategory:
        keep = l && std::find(l->category_ids.begin(), l->category_ids.end(), category_id) !=
                        l->category_ids.end();
        break;
      case Filter::kFlagged: break;
    }
    if (keep) kept.push_back(i);
  }
  return kept;
}

void LabelPanel::SetFilter(Filter filter, int64_t category_id) {
  if (filter == Filter::kFlagged && !has_flagged_) filter = Filter::kAll;
  filter_ = filter;
  filter_category_ = category_id;
  applying_filter_ = true;
  if (filter == Filter::kAll) {
    emit FilterCleared();
  } else {
    emit FilterRequested(FilterIndices(filter, category_id));
  }
  applying_filter_ = false;
  UpdateFilterBox();
  if (filter != Filter::kAll) {
    SetStatus(tr("Showing %1 images: %2 (⟳ applies it again after labelling)")
                  .arg(model_->rowCount())
                  .arg(filter_box_->currentText()));
  }
}

void LabelPanel::UpdateCounts() {
  if (!store_) {
    counts_label_->setText(tr("No project"));
    return;
  }
  const qint64 total = source_ ? source_->size() : 0;
  counts_label_->setText(tr("labelled %1 / %2 · clean %3 · artifacts %4")
                       .arg(counts_.labelled)
                       .arg(total)
                       .arg(counts_.clean)
                       .arg(counts_.with_artifacts));
}

QString LabelPanel::counts_text() const { return counts_label_->text(); }

void LabelPanel::UpdateHints() {
  auto k = [this](LabelAction a) { return keymap_.KeyText(a); };
  hints_->setText(tr("%1 toggle a category · %2 clean · %3 next · %4 previous · %5 undo · %6 "
                     "redo · %7 note · drag on the image to box with the highlighted category, "
                     "right-click or %8 removes a box")
                      .arg(k(LabelAction::kCategory1) + QStringLiteral("…") +
                               k(LabelAction::kCategory9),
                           k(LabelAction::kMarkClean), k(LabelAction::kNext),
                           k(LabelAction::kPrevious), k(LabelAction::kUndo), k(LabelAction::kRedo),
                           k(LabelAction::kEditNote), k(LabelAction::kDeleteBox)));
}

void LabelPanel::UpdateUndoButtons() {
  bool can_undo = false, can_redo = false;
  QString undo_text, redo_text;
  if (store_) {
    try {
      can_undo = store_->CanUndo();
      can_redo = store_->CanRedo();
      undo_text = Q(store_->UndoText());
      redo_text = Q(store_->RedoText());
    } catch (const std::exception& e) {
      ShowError(tr("reading the undo history"), e);
    }
  }
  undo_button_->setEnabled(can_undo);
  redo_button_->setEnabled(can_redo);
  undo_button_->setToolTip(can_undo ? tr("Undo %1 (%2)").arg(undo_text, keymap_.KeyText(LabelAction::kUndo))
                                    : tr("Nothing to undo"));
  redo_button_->setToolTip(can_redo ? tr("Redo %1 (%2)").arg(redo_text, keymap_.KeyText(LabelAction::kRedo))
                                    : tr("Nothing to redo"));
}

void LabelPanel::AddCategoryInteractive() {
  if (!store_) return;
  bool ok = false;
  const QString name = QInputDialog::getText(this, tr("Add category"), tr("Name:"),
                                             QLineEdit::Normal, QString(), &ok)
                           .trimmed();
  if (!ok || name.isEmpty()) return;
  // The first palette colour no category uses yet.
  QString color = QString::fromLatin1(kPalette[categories_.size() % std::size(kPalette)]);
  for (const char* c : kPalette) {
    const bool used = std::any_of(categories_.begin(), categories_.end(), [c](const LabelCategory& k) {
      return QString::fromStdString(k.color).compare(QLatin1String(c), Qt::CaseInsensitive) == 0;
    });
    if (!used) {
      color = QString::fromLatin1(c);
      break;
    }
  }
  int64_t id = 0;
  if (Act(tr("adding a category"), [&] { id = store_->AddCategory(name.toStdString(), color.toStdString()); })) {
    SetActiveCategory(id);
    SetStatus(Q(store_->UndoText()));
  }
}

void LabelPanel::RenameCategoryInteractive() {
  const int64_t id = active_category();
  if (!store_ || id == 0) return;
  bool ok = false;
  const QString name = QInputDialog::getText(this, tr("Rename category"), tr("Name:"),
                                             QLineEdit::Normal, CategoryName(id), &ok)
                           .trimmed();
  if (!ok || name.isEmpty() || name == CategoryName(id)) return;
  Act(tr("renaming a category"), [&] { store_->RenameCategory(id, name.toStdString()); });
}

void LabelPanel::RecolorCategoryInteractive() {
  const int64_t id = active_category();
  if (!store_ || id == 0) return;
  const QColor color = QColorDialog::getColor(CategoryColor(id), this, tr("Category colour"));
  if (!color.isValid()) return;
  Act(tr("changing a colour"), [&] { store_->SetCategoryColor(id, color.name().toStdString()); });
}

void LabelPanel::MoveActiveCategory(int delta) {
  const int64_t id = active_category();
  const int row = categories_list_->currentRow();
  if (!store_ || id == 0) return;
  const int target = row + delta;
  if (target < 0 || target >= static_cast<int>(categories_.size())) return;
  if (Act(tr("moving a category"), [&] { store_->MoveCategory(id, target); })) SetActiveCategory(id);
}

void LabelPanel::RemoveActiveCategory() {
  const int64_t id = active_category();
  if (!store_ || id == 0) return;
  const QString name = CategoryName(id);
  if (Act(tr("removing a category"), [&] { store_->RemoveCategory(id); })) {
    SetStatus(tr("Removed '%1' (%2 undoes it)").arg(name, keymap_.KeyText(LabelAction::kUndo)));
  }
}

void LabelPanel::SetKeymap(const LabelKeymap& keymap) {
  keymap_ = keymap;
  if (project_) {
    try {
      project_->SetSetting(LabelKeymap::kSettingKey, keymap_.ToJson().toStdString());
    } catch (const std::exception& e) {
      ShowError(tr("saving the keymap"), e);
    }
  }
  UpdateHints();
  UpdateCategoryList();
  UpdateUndoButtons();
}

void LabelPanel::EditKeymap() {
  LabelKeymapDialog dialog(keymap_, this);
  if (dialog.exec() == QDialog::Accepted) SetKeymap(dialog.keymap());
}

void LabelPanel::SetAutoAdvance(bool on) {
  auto_advance_ = on;
  {
    const QSignalBlocker block(auto_advance_box_);
    auto_advance_box_->setChecked(on);
  }
  if (project_) {
    try {
      project_->SetSetting(kAutoAdvanceSetting, on ? "1" : "0");
    } catch (const std::exception& e) {
      ShowError(tr("saving the option"), e);
    }
  }
}

bool LabelPanel::ExportLabels(const QString& path, bool coco, QString* message) {
  QString text;
  bool ok = false;
  if (!store_) {
    text = tr("No project is open");
  } else {
    if (note_dirty_) SaveNote(true);
    QApplication::setOverrideCursor(Qt::WaitCursor);
    Result<int64_t> result = Result<int64_t>::Failure("not run");
    try {
      if (coco) {
        // Sizes of images labelled without a box come from the open source.
        const auto size_of = [this](const LabelTarget& t, int* w, int* h) {
          if (!source_ || t.source != source_key_) return false;
          const auto it = index_of_id_.find(t.image_id);
          if (it == index_of_id_.end()) return false;
          auto image = source_->Load(it->second);
          if (!image.ok()) return false;
          *w = image->cols;
          *h = image->rows;
          return true;
        };
        result = ExportLabelsCoco(*store_, path.toStdString(), "", size_of);
      } else {
        result = ExportLabelsCsv(*store_, path.toStdString(), "");
      }
    } catch (const std::exception& e) {
      result = Result<int64_t>::Failure(e.what());
    }
    QApplication::restoreOverrideCursor();
    ok = result.ok();
    text = ok ? tr("Exported the labels of %1 images to %2").arg(*result).arg(path)
              : tr("Cannot export labels: %1").arg(Q(result.error()));
  }
  SetStatus(text);
  if (!ok) SL_LOG_WARNING(text.toStdString());
  if (message) *message = text;
  return ok;
}

bool LabelPanel::ImportLabels(const QString& path, QString* message) {
  QString text;
  bool ok = false;
  if (!store_) {
    text = tr("No project is open");
  } else {
    if (note_dirty_) SaveNote(true);
    Result<int64_t> result = Result<int64_t>::Failure("not run");
    try {
      result = path.endsWith(QStringLiteral(".json"), Qt::CaseInsensitive)
                   ? ImportLabelsCoco(*store_, path.toStdString(), source_key_)
                   : ImportLabelsCsv(*store_, path.toStdString());
    } catch (const std::exception& e) {
      result = Result<int64_t>::Failure(e.what());
    }
    ok = result.ok();
    text = ok ? tr("Imported labels of %1 images from %2 (%3 undoes it)")
                    .arg(*result)
                    .arg(path, keymap_.KeyText(LabelAction::kUndo))
              : tr("Cannot import labels: %1").arg(Q(result.error()));
    Refresh();
  }
  SetStatus(text);
  if (!ok) SL_LOG_WARNING(text.toStdString());
  if (message) *message = text;
  return ok;
}

void LabelPanel::ChooseProject(bool create) {
  const QString filter = tr("SynthLens project (*.synthlens *.slproj);;All files (*)");
  const QString path =
      create ? QFileDialog::getSaveFileName(this, tr("Open or create a project"),
                                            QStringLiteral("labels.synthlens"), filter,
                                            nullptr, QFileDialog::DontConfirmOverwrite)
             : QFileDialog::getOpenFileName(this, tr("Open a project"), QString(), filter);
  if (!path.isEmpty()) emit OpenProjectRequested(path);
}

nlohmann::json LabelPanel::FigureSpec() const {
  if (project_path_.isEmpty()) return nullptr;
  return {{"kind", "labels"}, {"params", {{"project", project_path_.toStdString()}, {"source", source_key_}}}};
}

}  // namespace synthlens::ui
