#pragma once

#include <nlohmann/json.hpp>

#include <QString>
#include <QVector>
#include <QWidget>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/io/image_source.h"
#include "core/util/result.h"
#include "ui/background_job.h"
#include "ui/job_status_row.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QListView;
class QPushButton;
class QTableView;
class QTableWidget;
class QTimer;

namespace synthlens {
struct DetectJobResult;
}

namespace synthlens::ui {

class DetectFilterProxy;
class DetectTableModel;
class ImageGridModel;
class LearnedDetector;
class ReferenceField;

// The "Detectors" tab (docs/studio.md): runs every artifact detector of `synthlens detect` on the
// open source, calibrated on a reference set, in the background (progress + Cancel); shows a
// sortable, filterable table (one row per image, a score column per detector, flagged cells
// highlighted) linked to the grid both ways, the current image's per-detector breakdown and its
// azimuthal spectrum against the reference's mean ± std, and the learned detector trained on the
// project's hand labels ("Review next").
class DetectorView : public QWidget {
  Q_OBJECT

 public:
  // Filter values of FlaggedIndices / SetFlagFilter besides a detector index.
  static constexpr int kAllImages = -2;
  static constexpr int kAnyFlag = -1;

  // `grid` is the studio's thumbnail grid over `grid_model`: its current image drives the
  // breakdown and the table's selection.
  DetectorView(ImageGridModel* grid_model, QListView* grid, QWidget* parent = nullptr);
  ~DetectorView() override;

  // The grid's source; drops results of the previous one and picks the default reference.
  void SetSource(std::shared_ptr<const ImageSource> source);
  // The project whose hand labels train the learned detector ("" = none).
  void SetProjectPath(const QString& path);
  // Encoder for the embedding detectors: "builtin" (default), a package folder, "pixels[:RES]",
  // or "none" (pixel detectors only).
  void SetEncoder(const QString& package) { encoder_ = package; }
  // Per-detector threshold overrides ("light=0.02,blur=p95"), as `synthlens detect --thresholds`.
  void SetThresholds(const QString& spec);
  QString thresholds() const;
  QString encoder() const { return encoder_; }
  // The reference (real) set spec; "" = the open source itself.
  void SetReference(const QString& spec);
  QString reference() const;
  // The figure spec of what the tab shows (docs/figures.md); null before there is a source.
  nlohmann::json FigureSpec() const;
  // Reference images used for calibration (first N; -1 all).
  void SetReferenceLimit(qint64 limit) { reference_limit_ = limit; }

  // Runs the detectors in the background; a running run is cancelled and superseded.
  void Run();
  void Cancel();
  bool busy() const { return job_.busy(); }
  bool has_result() const { return static_cast<bool>(result_); }
  std::shared_ptr<const DetectJobResult> result() const { return result_; }
  QString status_text() const;
  QString summary_text() const;
  // The learned detector's status line.
  QString learned_text() const;
  // The label store's name of the open source (LabelPanel::SourceKey of its spec).
  QString source_key() const { return source_key_; }

  // Source indices flagged by `detector` (a detector index) or by any (kAnyFlag), source order.
  QVector<qint64> FlaggedIndices(int detector = kAnyFlag) const;
  // Table filter: kAllImages, kAnyFlag or a detector index.
  void SetFlagFilter(int detector);
  void SetTextFilter(const QString& text);
  // Filters the grid to the images the table's flag filter keeps (any flag when it shows all).
  void ShowFlaggedInGrid();
  void ShowAllInGrid();
  // Moves the grid's current image to the unlabelled image with the highest predicted
  // artifact probability that is not the current one; false without a learned model.
  bool ReviewNext();
  // The hand labels changed (LabelPanel::LabelsChanged): retrain now instead of at the next poll.
  void LabelsChanged();

  QTableView* table() const { return table_; }
  DetectTableModel* table_model() const { return model_; }
  DetectFilterProxy* proxy() const { return proxy_; }
  QTableWidget* breakdown() const { return breakdown_; }
  QCustomPlot* spectrum_plot() const { return spectrum_; }
  LearnedDetector* learned() const { return learned_; }
  // Source index whose breakdown and spectrum are shown; -1 when none.
  qint64 shown_index() const { return shown_index_; }
  // Source index of a row of the (sorted, filtered) table view; -1 when out of range.
  qint64 SourceIndexOfViewRow(int view_row) const;
  int ScoreColumn(int detector) const;
  int DetectorIndex(const QString& name) const;

 signals:
  // A table row was chosen: select this image of the source in the grid.
  void ActivateImage(qint64 source_index);
  // Show only these source images in the grid / show all again.
  void FilterRequested(const QVector<qint64>& source_indices);
  void FilterCleared();
  // New detector results (or none): the images flagged by any detector, source order (feeds the
  // Labels tab's "flagged by a detector" filter).
  void FlaggedChanged(const QVector<qint64>& source_indices);
  void ResultsChanged();
  void JobFinished(bool ok);

 private:
  void BuildUi();
  void OnJobEnded();
  void OnJobFinished(Result<DetectJobResult> result, bool cancelled);
  void OnTableCurrentChanged();
  void OnGridCurrentChanged();
  void ShowImage(qint64 source_index);
  void UpdateBreakdown(int row);
  void UpdateSpectrum(int row);
  void UpdateSummary();
  void UpdateFilterBox();
  void UpdateLearned();
  void SetStatus(const QString& text);

  ImageGridModel* grid_model_ = nullptr;
  QListView* grid_ = nullptr;
  std::shared_ptr<const ImageSource> source_;
  QString source_key_;
  QString encoder_ = QStringLiteral("builtin");
  qint64 reference_limit_ = -1;
  std::shared_ptr<const DetectJobResult> result_;
  QString result_reference_;
  qint64 shown_index_ = -1;
  bool syncing_ = false;  // table <-> grid selection sync in progress

  BackgroundJob<DetectJobResult> job_;
  std::string running_input_;    // the source spec of the running (or last) job
  QString running_reference_;    // its reference, as shown

  QPushButton* run_button_ = nullptr;
  ReferenceField* reference_field_ = nullptr;
  JobStatusRow status_row_;
  QLabel* summary_ = nullptr;
  QComboBox* filter_box_ = nullptr;
  QLineEdit* text_filter_ = nullptr;
  QLineEdit* thresholds_field_ = nullptr;
  QPushButton* grid_flagged_button_ = nullptr;
  QPushButton* grid_all_button_ = nullptr;
  QLabel* learned_label_ = nullptr;
  QPushButton* review_button_ = nullptr;
  QTimer* learned_tick_ = nullptr;
  std::vector<qint64> reviewed_;  // images "Review next" visited since the model changed
  QTableView* table_ = nullptr;
  DetectTableModel* model_ = nullptr;
  DetectFilterProxy* proxy_ = nullptr;
  QLabel* breakdown_title_ = nullptr;
  QTableWidget* breakdown_ = nullptr;
  QCustomPlot* spectrum_ = nullptr;
  LearnedDetector* learned_ = nullptr;
};

}  // namespace synthlens::ui
