#pragma once

#include <QFutureWatcher>
#include <QMainWindow>
#include <memory>

#include "core/io/image_source.h"
#include "core/util/result.h"

class QLabel;
class QListView;
class QProgressBar;
class QPushButton;

namespace synthlens::ui {

class ComparisonPanel;
class GenerativePanel;
class ImageGridModel;
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
  // Opens (creating if needed) the project that stores generated views and their provenance.
  // Failing to open it is logged; the studio then works without the cache.
  void OpenProject(const QString& path);
  // Opens a diffusion model package ("builtin" or a folder) for the generative views.
  void OpenModel(const QString& package);
  int current_row() const;

  ImageGridModel* grid_model() const { return model_; }
  QListView* grid() const { return grid_; }
  ComparisonPanel* comparison() const { return comparison_; }
  GenerativePanel* generative() const { return generative_; }
  bool opening() const;

 signals:
  void SourceOpened(const QString& spec, int images);
  void SourceFailed(const QString& spec, const QString& error);

 protected:
  void dragEnterEvent(QDragEnterEvent* event) override;
  void dropEvent(QDropEvent* event) override;

 private:
  using OpenResult = Result<std::shared_ptr<ImageSource>>;
  void BuildMenus();
  void OnSourceOpened();
  void OnCurrentChanged();

  ImageGridModel* model_ = nullptr;
  QListView* grid_ = nullptr;
  ComparisonPanel* comparison_ = nullptr;
  GenerativePanel* generative_ = nullptr;
  LogPanel* log_ = nullptr;
  QLabel* status_label_ = nullptr;
  QProgressBar* open_progress_ = nullptr;
  QPushButton* open_cancel_ = nullptr;
  QFutureWatcher<OpenResult> open_watcher_;
  QString opening_spec_;
  bool open_cancelled_ = false;
};

}  // namespace synthlens::ui
