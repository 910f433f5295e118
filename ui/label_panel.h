#pragma once

#include <nlohmann/json.hpp>

#include <QColor>
#include <QPointer>
#include <QRectF>
#include <QString>
#include <QVector>
#include <QWidget>
#include <cstdint>
#include <memory>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/io/image_source.h"
#include "core/store/labels.h"
#include "core/store/project.h"
#include "ui/label_keymap.h"

class QAction;
class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QListView;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QStackedWidget;
class QTimer;

namespace synthlens::ui {

class ImageGridModel;
class LabelCanvas;

// The Labels tab: hand labelling of artifacts on the grid's current image and selection,
// keyboard first. Every action goes straight to the project's LabelStore (one committed
// transaction, one stored undo step); the panel keeps an in-memory copy of the open source's
// labels, reloaded whenever the store's Revision() changes, for the grid badges, the filters and
// the counts. Keys (LabelKeymap) act while the Labels tab or the grid has focus.
class LabelPanel : public QWidget {
  Q_OBJECT

 public:
  enum class Filter { kAll, kUnlabelled, kLabelled, kClean, kArtifacts, kFlagged, kCategory };

  LabelPanel(ImageGridModel* model, QListView* grid, QWidget* parent = nullptr);
  ~LabelPanel() override;

  // Opens the LabelStore on the project file; `project` keeps the keymap and panel options.
  // Failures are shown in the panel and logged. SetProject(nullptr, {}) closes it.
  void SetProject(std::shared_ptr<Project> project, const QString& path);
  // The grid's source, after MainWindow set it on the grid model.
  void SetSource(std::shared_ptr<const ImageSource> source);
  // How labels name a source: the spec, with existing files and folders made absolute and
  // canonical (as the embedding cache does), so the CLI and the studio agree.
  static QString SourceKey(const QString& spec);
  QString source_key() const { return QString::fromStdString(source_key_); }
  // The figure spec of what the tab shows (docs/figures.md); null before there is a source.
  nlohmann::json FigureSpec() const;

  // Images a detector flagged (source indices): enables the "Flagged by a detector" filter and
  // draws a flag badge on them. An empty list disables the filter again.
  void SetFlaggedIndices(QVector<qint64> source_indices);

  // Labelling actions, on the grid selection (the current image when nothing is selected).
  bool Trigger(LabelAction action);
  void ToggleCategoryAt(int position);
  void ToggleCategory(int64_t category_id);
  void MarkClean();
  void ClearLabels();
  void Next();
  void Previous();
  bool Undo();
  bool Redo();
  void AddBox(const QRectF& image_rect);  // on the current image, with the active category
  void RemoveBox(int64_t box_id);
  // Saves the note being edited now (ends its edit session: the next edit is a new undo step).
  void CommitNote();

  // The category new boxes get (the current row of the category list); 0 when none.
  int64_t active_category() const;
  void SetActiveCategory(int64_t category_id);

  // Grid filters, applied through FilterRequested / FilterCleared.
  void SetFilter(Filter filter, int64_t category_id = 0);
  Filter filter() const { return filter_; }
  // The source indices a filter keeps, from the in-memory labels.
  QVector<qint64> FilterIndices(Filter filter, int64_t category_id = 0) const;

  void SetKeymap(const LabelKeymap& keymap);  // saved in the project (LabelKeymap::kSettingKey)
  const LabelKeymap& keymap() const { return keymap_; }
  void EditKeymap();  // the keymap dialog
  void SetAutoAdvance(bool on);
  bool auto_advance() const { return auto_advance_; }

  // File menu items: open/create project, export CSV / COCO, import.
  QList<QAction*> FileActions() const { return file_actions_; }
  // Exports every source's labels; fills `message` with the outcome. Returns success.
  bool ExportLabels(const QString& path, bool coco, QString* message = nullptr);
  bool ImportLabels(const QString& path, QString* message = nullptr);

  // Reloads from the store when its revision changed (or always with force).
  void Refresh(bool force = false);

  LabelStore* store() const { return store_.get(); }
  LabelCanvas* canvas() const { return canvas_; }
  QLineEdit* note_edit() const { return note_; }
  QListWidget* category_list() const { return categories_list_; }
  QComboBox* filter_box() const { return filter_box_; }
  QString counts_text() const;
  QString status_text() const;
  // The store's labels of a source index of the open source (from memory); null when none.
  const ImageLabels* LabelsOf(int64_t source_index) const;
  LabelTarget TargetOf(int64_t source_index) const;
  std::vector<LabelTarget> SelectedTargets() const;

 signals:
  void FilterRequested(const QVector<qint64>& source_indices);
  void FilterCleared();
  void OpenProjectRequested(const QString& path);
  // After every reload from the store.
  void LabelsChanged();

 protected:
  bool eventFilter(QObject* watched, QEvent* event) override;
  // Takes the keyboard focus when shown, unless the grid or this tab already has it.
  void showEvent(QShowEvent* event) override;

 private:
  // Undo (false) or redo (true) the store's last step, saving a pending note first.
  bool UndoOrRedo(bool redo);
  void BuildUi();
  void BuildFileActions();
  void InstallKeyFilters();
  void ShowError(const QString& what, const std::exception& e);
  void SetStatus(const QString& text);
  // Runs a store action with error reporting, then refreshes; returns false if it threw.
  template <typename F>
  bool Act(const QString& what, F&& action);
  void AfterLabelling(size_t targets);
  void OnCurrentChanged();
  void OnSelectionChanged();
  void LoadCurrentImage();
  void UpdateCurrent();
  void UpdateCategoryList();
  void UpdateFilterBox();
  void UpdateCounts();
  void UpdateHints();
  void UpdateUndoButtons();
  void OnCategoryItemChanged(QListWidgetItem* item);
  void OnFilterBoxChanged();
  void AddCategoryInteractive();
  void RenameCategoryInteractive();
  void RecolorCategoryInteractive();
  void MoveActiveCategory(int delta);
  void RemoveActiveCategory();
  void SaveNote(bool end_session);
  void ChooseProject(bool create);
  QColor CategoryColor(int64_t id) const;
  QString CategoryName(int64_t id) const;
  QVariant BadgeOf(int64_t source_index) const;
  int64_t current_index() const;

  // The window may destroy the grid and its model before this panel.
  QPointer<ImageGridModel> model_;
  QPointer<QListView> grid_;
  std::shared_ptr<Project> project_;
  std::unique_ptr<LabelStore> store_;
  QString project_path_;
  std::shared_ptr<const ImageSource> source_;
  std::string source_key_;
  std::unordered_map<std::string, int64_t> index_of_id_;
  // The open source's labels by source index; reloaded on every revision change.
  std::unordered_map<int64_t, ImageLabels> labels_;
  std::vector<LabelCategory> categories_;
  LabelCounts counts_;
  int64_t revision_ = -1;
  std::unordered_set<int64_t> flagged_;
  bool has_flagged_ = false;
  LabelKeymap keymap_;
  bool auto_advance_ = false;
  Filter filter_ = Filter::kAll;
  int64_t filter_category_ = 0;
  bool applying_filter_ = false;
  int64_t shown_index_ = -1;  // the image the canvas shows

  // The note edit session: which image, whether the text is unsaved, and the revision right
  // after this session's last save (-1 before the first), so later saves replace that step.
  LabelTarget note_target_;
  bool note_dirty_ = false;
  int64_t note_session_revision_ = -1;

  QStackedWidget* pages_ = nullptr;
  QLabel* no_project_label_ = nullptr;
  LabelCanvas* canvas_ = nullptr;
  QLabel* image_info_ = nullptr;
  QLineEdit* note_ = nullptr;
  QTimer* note_timer_ = nullptr;
  QTimer* poll_timer_ = nullptr;
  QListWidget* categories_list_ = nullptr;
  QComboBox* filter_box_ = nullptr;
  QLabel* counts_label_ = nullptr;
  QLabel* status_ = nullptr;
  QLabel* hints_ = nullptr;
  QCheckBox* auto_advance_box_ = nullptr;
  QPushButton* undo_button_ = nullptr;
  QPushButton* redo_button_ = nullptr;
  QPushButton* remove_category_ = nullptr;
  QList<QAction*> file_actions_;
  QList<QAction*> store_actions_;  // enabled only with a store
};

}  // namespace synthlens::ui
