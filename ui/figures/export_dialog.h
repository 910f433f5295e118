#pragma once
// The studio's Export figure… dialog (docs/figures.md): the figure a panel describes (a spec),
// built in the background with progress and Cancel, previewed live, saved as PDF/SVG/PNG (CSV and
// LaTeX for tables) through the same renderer as `synthlens figure`. Copy as image (2x) and Copy
// data also live here, so every panel's context menu offers the same three actions.

#include <QDialog>
#include <QImage>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs/figure_data.h"
#include "ui/background_job.h"
#include "ui/job_status_row.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QScrollArea;
class QSpinBox;

namespace synthlens::ui {

class ExportFigureDialog : public QDialog {
  Q_OBJECT

 public:
  // `spec`: at least kind and params (ResolveFigureSpec fills the rest); the last-used export
  // settings (preset, theme, DPI, text mode, panel labels) are applied on top.
  explicit ExportFigureDialog(nlohmann::json spec, QWidget* parent = nullptr);
  ~ExportFigureDialog() override;

  // The spec as the dialog's controls say (resolved), and whether its data is ready.
  nlohmann::json spec() const { return spec_; }
  bool ready() const { return data_ != nullptr; }
  QImage preview() const { return preview_; }
  // Writes the figure to `path` (format from the extension); empty on success, else the error.
  QString SaveTo(const QString& path);
  // The figure at 2x the spec's DPI on the clipboard; the data behind it as JSON (tables as CSV).
  void CopyImage();
  void CopyData();

  // The last-used export settings, remembered in QSettings("figures/...").
  static nlohmann::json LastSettings();
  static void RememberSettings(const nlohmann::json& spec);

 protected:
  void resizeEvent(QResizeEvent* event) override;

 signals:
  // The data is built (or failed: error not empty); the preview shows it.
  void Ready(const QString& error);

 private:
  void BuildUi();
  void ReadControls();
  void Rebuild();     // data (params changed)
  void Rerender();    // preview only (style changed)
  void OnSave();

  nlohmann::json spec_;
  nlohmann::json built_params_;
  std::shared_ptr<const FigureData> data_;
  QImage preview_;
  BackgroundJob<std::shared_ptr<const FigureData>> job_;
  JobStatusRow status_;

  QComboBox* preset_ = nullptr;
  QLineEdit* size_ = nullptr;
  QComboBox* theme_ = nullptr;
  QSpinBox* dpi_ = nullptr;
  QComboBox* text_ = nullptr;
  QLineEdit* caption_ = nullptr;
  QCheckBox* panel_labels_ = nullptr;
  QCheckBox* with_data_ = nullptr;
  // Comparison figures: caption fields, crop boxes, strength strip.
  QCheckBox* caption_index_ = nullptr;
  QCheckBox* caption_param_ = nullptr;
  QCheckBox* caption_seed_ = nullptr;
  QCheckBox* crop_boxes_ = nullptr;
  QCheckBox* sweep_ = nullptr;
  QLabel* preview_label_ = nullptr;
  class QTimer* resize_debounce_ = nullptr;
  QScrollArea* preview_area_ = nullptr;
  QPushButton* save_ = nullptr;
  QPushButton* copy_image_ = nullptr;
  QPushButton* copy_data_ = nullptr;
};

// File → Export Figures for Selection…: asks where (one PDF with a page per image, or one file
// per image as PDF, SVG or PNG), then builds and writes in the background with a progress dialog
// and Cancel. `names` (the image ids) name the per-image files. Files already written stay.
void ExportFiguresForSelection(QWidget* parent, std::vector<nlohmann::json> specs, std::vector<std::string> names);

// Runs `work` on a worker thread behind a window-modal progress dialog with Cancel; `done` gets its
// error on the GUI thread (empty: done, or cancelled).
void RunWithProgress(QWidget* parent, const QString& label, std::function<QString(const ProgressFn&)> work,
                     std::function<void(const QString&)> done);

// File → Report…: the one-click report of a synthetic set (asked for when empty) against the
// open source, into a folder the user picks, in the background; opens index.html when done.
void ExportReport(QWidget* parent, const std::string& real, std::string synthetic, const std::string& project,
                  const std::string& model);

// The studio's figure builder: figures collected with "Add to figure builder", combined by
// File → Figure Builder… into one figure (kind "combined": shared page, fonts, (a)/(b) labels,
// one caption).
std::vector<nlohmann::json>& FigureBuilderPanels();
// The combined spec of the collected figures; null when none.
nlohmann::json FigureBuilderSpec();

// Context-menu helper: "Export figure…", "Copy as image", "Copy data", "Add to figure builder"
// for a panel whose figure spec `make_spec` returns (null: nothing to export yet, the actions are
// disabled).
void AddFigureActions(class QMenu* menu, QWidget* parent, std::function<nlohmann::json()> make_spec);

}  // namespace synthlens::ui
