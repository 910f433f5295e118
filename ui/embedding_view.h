#pragma once

#include <nlohmann/json.hpp>

#include <QFutureWatcher>
#include <QImage>
#include <QString>
#include <QVector>
#include <QWidget>
#include <atomic>
#include <functional>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>

#include "ui/job_status_row.h"
#include "core/io/image_source.h"
#include "core/io/thumbnail_cache.h"
#include "core/util/progress.h"
#include "ui/embedding_plot.h"

class QCheckBox;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTimer;

namespace synthlens {
class Encoder;
class Generator;
class Project;
// Declared here, not included: the view's header stays light for moc and for the main window.
enum class ProjectionMethod;
struct ProjectionOptions;
}  // namespace synthlens

namespace synthlens::ui {

class ImageGridModel;
class MetricsPanel;

// The "Embeddings" tab: the current source's images (and a synthetic set, and the classic and
// generative views shown in the panels) embedded with an encoder package and projected to 2-D
// (PCA, t-SNE, UMAP), linked to the grid (hover thumbnails, selection filters the grid, click
// selects the image), a displacement view from each source to its views, the metrics of
// `compare` and a strength sweep. All heavy work runs on a worker thread with progress and Cancel.
class EmbeddingView : public QWidget {
  Q_OBJECT

 public:
  explicit EmbeddingView(ImageGridModel* grid_model, QWidget* parent = nullptr);
  ~EmbeddingView() override;

  // The source shown in the grid; drops embeddings of the previous one.
  void SetSource(std::shared_ptr<const ImageSource> source);
  // The studio's project: embeddings are cached there (EmbedSourceCached). Null: no cache.
  void SetProject(std::shared_ptr<Project> project) { project_ = std::move(project); }
  // Encoder package for embeddings ("builtin", a folder, or "pixels[:RES]").
  void SetEncoder(const QString& package);
  // Diffusion package for the sweep ("builtin" or a folder); opened when the sweep first runs.
  void SetModel(const QString& package);
  // A second set (folder, IDX, CSV; e.g. the output of `synthlens generate`) plotted as
  // synthetic points and compared with the real images. Opened in the background.
  void SetSyntheticSource(const QString& spec);
  // The synthetic set's spec; empty when none is open.
  QString synthetic_spec() const;
  // The views shown in the comparison and generative panels, of source image `source_index`.
  // `view_params`: the embedding figure's parameters that make the same views (views_of, recipe,
  // views, view_seed, model, ...; see docs/figures.md), so an exported figure shows them too.
  void SetViews(int64_t source_index, const std::vector<cv::Mat>& classic,
                const std::vector<cv::Mat>& generative, const nlohmann::json& view_params = nullptr);
  void SetMethod(ProjectionMethod method);
  // "pca" | "tsne" | "umap"; false for another name.
  bool SetMethodByName(const QString& name);
  void SetSeed(quint64 seed);
  void SetDisplacement(bool on);
  // Compute the projection as soon as a source is set (else on first show).
  void SetAutoCompute(bool on) { auto_compute_ = on; }

  void Compute();
  void Compare();
  void RunSweep(int images, int steps);
  void Cancel();
  void ClearSelection();

  bool busy() const;
  // Whether the real images' embeddings of the last projection came from the project's cache.
  bool real_from_cache() const { return real_from_cache_; }
  bool has_projection() const { return has_projection_; }
  int real_point_count() const { return proj_real_.rows; }
  int view_point_count() const;
  QString status_text() const;
  // The figure spec (docs/figures.md) of what the tab shows: kind "embedding" (the plot),
  // "metrics" (the metrics table) or "sweep" (the strength sweep); null when there is no source
  // (or, for metrics, no synthetic set).
  nlohmann::json FigureSpec(const std::string& kind) const;
  EmbeddingPlot* plot() const { return plot_; }
  MetricsPanel* metrics() const { return metrics_; }
  // Source index of a plotted point (a real point, or the source of a view); -1 otherwise.
  int64_t SourceOfPoint(int point) const;
  // The hover popup (thumbnail + caption), for tests.
  QWidget* hover_popup() const;
  QString hover_caption() const;

 signals:
  // A point was clicked: select this image of the source in the grid.
  void ActivateImage(qint64 source_index);
  // The plot selection changed: show only these source images in the grid (empty: show all).
  void FilterRequested(const QVector<qint64>& source_indices);
  void FilterCleared();
  void ProjectionReady(int points);
  void JobFinished(const QString& what, bool ok);

 protected:
  void showEvent(QShowEvent* event) override;

 private:
  using Apply = std::function<void()>;
  struct ViewItem {
    int64_t source_index = -1;
    PointKind kind = PointKind::kClassic;
    cv::Mat image;
    QImage thumbnail;
  };

  void BuildUi();
  // Runs work(progress) on a worker thread; the returned closure runs on the GUI thread.
  // `supersede` cancels a running job first; otherwise the request waits for it.
  void StartJob(const QString& what, std::function<Apply(const ProgressFn&)> work, bool supersede);
  void OnJobFinished();
  void PlaceViews();
  void RebuildPoints(bool reset_view);
  void UpdateArrows();
  void UpdateButtons();
  void OnHover(int point, const QPoint& global_pos);
  void OnClicked(int point);
  void OnSelectionChanged(int selected);
  ProjectionOptions CurrentOptions(int n) const;
  std::vector<int64_t> ShownRealRows() const;

  ImageGridModel* grid_model_ = nullptr;
  std::shared_ptr<const ImageSource> source_;
  std::shared_ptr<Project> project_;
  bool real_from_cache_ = false;
  QString encoder_package_ = QStringLiteral("builtin");
  QString model_package_ = QStringLiteral("builtin");
  std::shared_ptr<const Encoder> encoder_;
  QString encoder_opened_;  // package the cached encoder_ and embeddings belong to
  std::shared_ptr<const Generator> generator_;
  QString generator_opened_;

  // Embeddings (rows follow source order, unreadable images skipped) and their source indices.
  cv::Mat real_emb_;
  std::vector<int64_t> real_rows_;
  std::vector<int> real_labels_;
  std::vector<int> real_row_of_;  // source index -> row of real_emb_, -1 when skipped
  std::shared_ptr<const ImageSource> synth_source_;
  std::unique_ptr<ThumbnailCache> synth_thumbs_;
  cv::Mat synth_emb_;
  std::vector<int64_t> synth_rows_;
  std::vector<int> synth_labels_;
  std::vector<ViewItem> views_;
  nlohmann::json view_params_;  // SetViews' view_params
  int views_generation_ = 0;

  // The projection: rows as the embeddings above; views placed when views_placed_.
  bool has_projection_ = false;
  ProjectionMethod method_used_{};  // value 0: PCA
  cv::Mat proj_real_, proj_synth_, proj_views_;
  cv::Mat pca_map_;  // (d + 1) x 2 affine map of the fitted PCA, CV_64F
  int views_placed_generation_ = -1;
  bool dirty_ = true;
  bool auto_compute_ = false;

  QFutureWatcher<Apply> watcher_;
  std::shared_ptr<std::atomic<bool>> cancel_;
  std::shared_ptr<std::atomic<int>> permille_;
  std::function<void()> pending_;
  bool in_flight_ = false;
  QString job_name_;

  QComboBox* method_box_ = nullptr;
  QSpinBox* seed_box_ = nullptr;
  QPushButton* compute_button_ = nullptr;
  QComboBox* color_box_ = nullptr;
  QPushButton* pan_button_ = nullptr;
  QPushButton* rect_button_ = nullptr;
  QPushButton* lasso_button_ = nullptr;
  QPushButton* reset_button_ = nullptr;
  QPushButton* clear_button_ = nullptr;
  QCheckBox* displacement_box_ = nullptr;
  QPushButton* synthetic_button_ = nullptr;
  QLabel* status_label_ = nullptr;
  JobStatusRow status_row_;
  QPushButton* cancel_button_ = nullptr;
  EmbeddingPlot* plot_ = nullptr;
  MetricsPanel* metrics_ = nullptr;
  QLabel* popup_ = nullptr;
  int hovered_ = -1;
  QPoint hover_pos_;
};

}  // namespace synthlens::ui
