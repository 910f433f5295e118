#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include <QFutureWatcher>
#include <QMainWindow>
#include <memory>

#include "core/io/image_source.h"
#include "core/util/result.h"

class QLabel;
class QListView;
class QAction;
class QMenu;
class QProgressBar;
class QPushButton;
class QTabWidget;

namespace synthlens::ui {

class BiasView;
class ComparisonPanel;
class DetectorView;
class EmbeddingView;
class GenerativePanel;
class ImageGridModel;
class LabelPanel;
class LogPanel;

// The studio window: a virtualised thumbnail grid of the open source on the left, the
// comparison panel (original + classic views) on the right, the log in a dock.
class MainWindow : public QMainWindow {
  Q_OBJECT

 public:
  explicit MainWindow(QWidget* parent = nullptr);
  ~MainWindow() override;

  // Opens SRC (folder, fashion-mnist:train|test, IDX pair, .csv) in the background.
  void OpenSource(const QString& spec);
  void SelectRow(int row);
  // Selects source image `index` in the grid, clearing the grid filter if it hides it.
  void SelectSourceIndex(qint64 index);
  // Shows only these source images in the grid (the embedding view's selection); keeps the
  // current image when it is among them.
  void SetGridFilter(const QVector<qint64>& source_indices);
  void ClearGridFilter();
  // Brings the Embeddings tab to the front.
  void ShowEmbeddings();
  // Brings the Labels tab (hand labelling, docs/labelling.md) to the front.
  void ShowLabels();
  // Brings the Detectors tab (artifact detectors, learned detector) / the Bias tab to the front.
  void ShowDetectors();
  void ShowBias();
  // Opens (creating if needed) the project that stores generated views and their provenance.
  // Failing to open it is logged; the studio then works without the cache.
  void OpenProject(const QString& path);
  // Opens a diffusion model package ("builtin" or a folder) for the generative views.
  void OpenModel(const QString& package);
  int current_row() const;
  // Source index of the current grid row; -1 when none.
  qint64 current_source_index() const;

  ImageGridModel* grid_model() const { return model_; }
  QListView* grid() const { return grid_; }
  ComparisonPanel* comparison() const { return comparison_; }
  GenerativePanel* generative() const { return generative_; }
  EmbeddingView* embeddings() const { return embeddings_; }
  LabelPanel* labels() const { return labels_; }
  DetectorView* detectors() const { return detectors_; }
  BiasView* bias() const { return bias_; }
  bool opening() const;
  // The comparison figure spec (docs/figures.md) of these source images with the Views tab's
  // settings (recipe and its sliders, views, seeds, model, mode, strength, sweep); null when no
  // source is open.
  nlohmann::json ComparisonFigureSpec(const std::vector<int64_t>& source_indices) const;
  // Source indices of the grid's selected images (the current one when none is selected).
  std::vector<int64_t> SelectedSourceIndices() const;

  // Size for the screen the window is on: 1440x1000 at most, never more than the screen's
  // available area (a 1280x720 laptop, a HiDPI screen at 2x). Called by the constructor.
  void FitToScreen();
  // The size, position and docks of the last session (QSettings), kept on the screen; saved when
  // the window closes. The studio calls it; tests and screenshots keep the fitted size.
  void RestoreWindowState();
  // The studio's choices between sessions (QSettings, saved when the window closes): recipe and
  // view count, generative mode, views, strength, steps, class and sweep, the Embeddings tab's
  // synthetic set, and the last source. RestoreSettings applies them (the source is returned,
  // not opened: empty when none was saved).
  void SaveSettings() const;
  // The dark theme (Fusion with a dark palette; plots, tiles and the grid follow), or the light one.
  void SetDarkTheme(bool dark);
  bool dark_theme() const { return dark_theme_; }
  QString RestoreSettings();

 signals:
  void SourceOpened(const QString& spec, int images);
  void SourceFailed(const QString& spec, const QString& error);

 protected:
  void closeEvent(QCloseEvent* event) override;
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 public:
  // Every keyboard shortcut of the menus and the Labels tab, one "keys<TAB>where › what" line
  // each (Help › Keyboard Shortcuts…).
  QString ShortcutsText() const;
  // Where the documentation is: the installed share/doc/synthlens or the sources' docs/.
  static QString DocumentationPath();  // or a sentence saying it was not found

 private:
  using OpenResult = Result<std::shared_ptr<ImageSource>>;
  void BuildMenus();
  void BuildEditAndHelpMenus(QMenu* view);
  void OnSourceOpened();
  void OnCurrentChanged();
  void UpdateEmbeddingViews();

  ImageGridModel* model_ = nullptr;
  QListView* grid_ = nullptr;
  ComparisonPanel* comparison_ = nullptr;
  GenerativePanel* generative_ = nullptr;
  EmbeddingView* embeddings_ = nullptr;
  LabelPanel* labels_ = nullptr;
  DetectorView* detectors_ = nullptr;
  BiasView* bias_ = nullptr;
  QTabWidget* tabs_ = nullptr;
  // Whether the panels' shown views belong to the current image (they lag while regenerating).
  bool classic_current_ = false;
  bool generative_current_ = false;
  LogPanel* log_ = nullptr;
  QLabel* status_label_ = nullptr;
  QProgressBar* open_progress_ = nullptr;
  QPushButton* open_cancel_ = nullptr;
  QFutureWatcher<OpenResult> open_watcher_;
  QString opening_spec_;
  bool open_cancelled_ = false;
  bool dark_theme_ = false;
  QAction* dark_action_ = nullptr;
};

}  // namespace synthlens::ui
