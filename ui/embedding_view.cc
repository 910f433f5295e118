#include "ui/embedding_view.h"

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrent>
#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "core/infer/device.h"
#include "core/infer/encoder.h"
#include "core/infer/generator.h"
#include "core/jobs/embed_job.h"
#include "core/jobs/sweep_job.h"
#include "core/metrics/set_metrics.h"
#include "core/projection/projection.h"
#include "core/util/logging.h"
#include "ui/figures/export_dialog.h"
#include "ui/image_grid_model.h"
#include "ui/job_status_row.h"
#include "ui/metrics_panel.h"
#include "ui/qt_image.h"

namespace synthlens::ui {
namespace {

constexpr int kDensityThreshold = 20000;
constexpr int kSweepSteps = 10;  // strengths 0.1, ..., 1.0 (as the generative panel's strip)

struct Embedded {
  cv::Mat matrix;
  std::vector<int64_t> rows;
  std::vector<int> labels;
  bool from_cache = false;
};

// EmbedSourceCached (the project's embedding cache: reopening the project or re-plotting never
// recomputes) plus the source index of every row (it skips unreadable images).
Result<Embedded> EmbedWithRows(const ImageSource& source, const Encoder& encoder, Project* project,
                               const ProgressFn& progress) {
  auto cached = EmbedSourceCached(source, encoder, project, progress, [](const SourceIssue& issue) {
    SL_LOG_WARNING("embeddings: skipped " << issue.file << ": " << issue.reason);
  });
  if (!cached.ok()) return Result<Embedded>::Failure(cached.error());
  if (cached->from_cache) SL_LOG_INFO("embeddings: " << source.spec() << " from the project cache");
  const EmbeddingSet* set = &cached->set;
  if (set->cancelled) return Result<Embedded>::Failure("cancelled");
  std::unordered_map<std::string, int64_t> index;
  index.reserve(static_cast<size_t>(source.size()));
  for (int64_t i = 0; i < source.size(); ++i) index.emplace(source.record(i).id, i);
  Embedded e;
  e.from_cache = cached->from_cache;
  e.matrix = set->matrix;
  e.labels = set->labels;
  for (const std::string& id : set->ids) {
    const auto it = index.find(id);
    e.rows.push_back(it == index.end() ? -1 : it->second);
  }
  return e;
}

cv::Mat Rows(const cv::Mat& m, const std::vector<int>& rows) {
  cv::Mat out(static_cast<int>(rows.size()), m.cols, m.type());
  for (size_t i = 0; i < rows.size(); ++i) m.row(rows[i]).copyTo(out.row(static_cast<int>(i)));
  return out;
}

QString AxisName(ProjectionMethod m) {
  switch (m) {
    case ProjectionMethod::kPca: return QStringLiteral("PC");
    case ProjectionMethod::kTsne: return QStringLiteral("t-SNE");
    case ProjectionMethod::kUmap: return QStringLiteral("UMAP");
  }
  return {};
}

}  // namespace

EmbeddingView::EmbeddingView(ImageGridModel* grid_model, QWidget* parent)
    : QWidget(parent), grid_model_(grid_model) {
  BuildUi();
  connect(&watcher_, &QFutureWatcher<Apply>::finished, this, &EmbeddingView::OnJobFinished);
  connect(grid_model_, &ImageGridModel::ThumbnailReady, this, [this](qint64 index) {
    if (hovered_ >= 0 && SourceOfPoint(hovered_) == index &&
        plot_->points()[hovered_].kind == PointKind::kReal) {
      OnHover(hovered_, hover_pos_);
    }
  });
}

EmbeddingView::~EmbeddingView() {
  Cancel();
  pending_ = nullptr;
  watcher_.waitForFinished();
  synth_thumbs_.reset();
}

void EmbeddingView::BuildUi() {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  method_box_ = new QComboBox(this);
  method_box_->addItem(QStringLiteral("PCA"), static_cast<int>(ProjectionMethod::kPca));
  method_box_->addItem(QStringLiteral("t-SNE"), static_cast<int>(ProjectionMethod::kTsne));
  method_box_->addItem(QStringLiteral("UMAP"), static_cast<int>(ProjectionMethod::kUmap));
  method_box_->setToolTip(tr("Projection method"));
  seed_box_ = new QSpinBox(this);
  seed_box_->setRange(0, 999999);
  seed_box_->setPrefix(tr("seed "));
  seed_box_->setToolTip(tr("Seed of the projection (t-SNE, UMAP, randomised PCA)"));
  compute_button_ = new QPushButton(tr("Compute"), this);
  compute_button_->setToolTip(tr("Embed the images (once per source and encoder) and project"));
  color_box_ = new QComboBox(this);
  color_box_->addItem(tr("Colour by kind"));
  color_box_->addItem(tr("Colour by class"));
  pan_button_ = new QPushButton(tr("Pan"), this);
  rect_button_ = new QPushButton(tr("Rectangle"), this);
  lasso_button_ = new QPushButton(tr("Lasso"), this);
  pan_button_->setToolTip(tr("Drag pans, the wheel zooms, a click selects the image"));
  rect_button_->setToolTip(tr("Drag a rectangle: the grid shows the images inside"));
  lasso_button_->setToolTip(tr("Draw a lasso: the grid shows the images inside"));
  auto* tools = new QButtonGroup(this);
  for (QPushButton* b : {pan_button_, rect_button_, lasso_button_}) {
    b->setCheckable(true);
    tools->addButton(b);
  }
  pan_button_->setChecked(true);
  reset_button_ = new QPushButton(tr("Reset view"), this);
  clear_button_ = new QPushButton(tr("Clear selection"), this);
  displacement_box_ = new QCheckBox(tr("Displacement"), this);
  displacement_box_->setChecked(true);  // a handful of arrows: cheap, and the point of the view
  displacement_box_->setToolTip(tr("Arrows from the selected image to its classic and generative "
                                   "views: do generative views stay near their source?"));
  synthetic_button_ = new QPushButton(tr("Synthetic set…"), this);
  synthetic_button_->setToolTip(tr("Plot and compare a set of synthetic images (folder, IDX, CSV)"));
  bar->addWidget(method_box_);
  bar->addWidget(seed_box_);
  bar->addWidget(compute_button_);
  bar->addSpacing(8);
  bar->addWidget(color_box_);
  bar->addWidget(pan_button_);
  bar->addWidget(rect_button_);
  bar->addWidget(lasso_button_);
  bar->addWidget(reset_button_);
  bar->addWidget(clear_button_);
  bar->addWidget(displacement_box_);
  bar->addStretch(1);
  bar->addWidget(synthetic_button_);
  layout->addLayout(bar);

  auto* split = new QSplitter(Qt::Horizontal, this);
  plot_ = new EmbeddingPlot(split);
  plot_->SetDensityThreshold(kDensityThreshold);
  plot_->setMinimumSize(320, 240);
  metrics_ = new MetricsPanel(split);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({640, 420});  // the plot is the point of the tab
  layout->addWidget(split, 1);

  status_row_ = AddJobStatusRow(this, layout, tr("No projection yet"), [this] { return permille_; });
  status_label_ = status_row_.label;
  cancel_button_ = status_row_.cancel;

  popup_ = new QLabel(this, Qt::ToolTip);
  popup_->setFrameShape(QFrame::Box);
  popup_->setAlignment(Qt::AlignCenter);
  popup_->setStyleSheet(QStringLiteral("QLabel { background: white; color: black; padding: 4px; }"));
  popup_->hide();

  connect(compute_button_, &QPushButton::clicked, this, &EmbeddingView::Compute);
  connect(method_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this] {
    if (source_) Compute();
  });
  connect(color_box_, qOverload<int>(&QComboBox::currentIndexChanged), this, [this](int i) {
    plot_->SetColorBy(i == 1 ? EmbeddingPlot::ColorBy::kClass : EmbeddingPlot::ColorBy::kKind);
  });
  connect(pan_button_, &QPushButton::clicked, this, [this] { plot_->SetTool(EmbeddingPlot::Tool::kPan); });
  connect(rect_button_, &QPushButton::clicked, this, [this] { plot_->SetTool(EmbeddingPlot::Tool::kRect); });
  connect(lasso_button_, &QPushButton::clicked, this, [this] { plot_->SetTool(EmbeddingPlot::Tool::kLasso); });
  connect(reset_button_, &QPushButton::clicked, plot_, &EmbeddingPlot::ResetView);
  connect(clear_button_, &QPushButton::clicked, this, &EmbeddingView::ClearSelection);
  connect(displacement_box_, &QCheckBox::toggled, this, &EmbeddingView::SetDisplacement);
  connect(synthetic_button_, &QPushButton::clicked, this, [this] {
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Open a synthetic image folder"));
    if (!dir.isEmpty()) SetSyntheticSource(dir);
  });
  connect(cancel_button_, &QPushButton::clicked, this, &EmbeddingView::Cancel);
  connect(plot_, &EmbeddingPlot::PointHovered, this, &EmbeddingView::OnHover);
  connect(plot_, &EmbeddingPlot::PointClicked, this, &EmbeddingView::OnClicked);
  connect(plot_, &EmbeddingPlot::SelectionChanged, this, &EmbeddingView::OnSelectionChanged);
  connect(metrics_, &MetricsPanel::CompareRequested, this, &EmbeddingView::Compare);
  connect(metrics_, &MetricsPanel::SweepRequested, this, &EmbeddingView::RunSweep);
  // Right-click: Export figure… / Copy as image / Copy data, rendered by the figure renderer.
  plot_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(plot_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QMenu menu(this);
    AddFigureActions(&menu, this, [this] { return FigureSpec("embedding"); });
    menu.exec(plot_->mapToGlobal(pos));
  });
  metrics_->setContextMenuPolicy(Qt::CustomContextMenu);
  connect(metrics_, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QMenu menu(this);
    menu.addSection(tr("Metrics table"));
    AddFigureActions(&menu, this, [this] { return FigureSpec("metrics"); });
    menu.addSection(tr("Strength sweep"));
    AddFigureActions(&menu, this, [this] { return FigureSpec("sweep"); });
    menu.exec(metrics_->mapToGlobal(pos));
  });
  plot_->SetShowArrows(displacement_box_->isChecked());
  UpdateButtons();
}

void EmbeddingView::SetSource(std::shared_ptr<const ImageSource> source) {
  source_ = std::move(source);
  real_emb_ = cv::Mat();
  real_rows_.clear();
  real_labels_.clear();
  real_row_of_.clear();
  views_.clear();
  ++views_generation_;
  has_projection_ = false;
  proj_real_ = proj_synth_ = proj_views_ = pca_map_ = cv::Mat();
  dirty_ = true;
  QStringList names;
  if (source_) {
    for (const std::string& n : source_->class_names()) names << QString::fromStdString(n);
  }
  plot_->SetClassNames(names);
  metrics_->SetClassNames(names);
  plot_->SetPoints({}, true);
  plot_->SetArrows({});
  status_label_->setText(source_ ? tr("%1 images · Compute to embed and project").arg(source_->size())
                                 : tr("No source"));
  UpdateButtons();
  if (source_ && (auto_compute_ || isVisible())) Compute();
}

nlohmann::json EmbeddingView::FigureSpec(const std::string& kind) const {
  if (!source_) return nullptr;
  const std::string real = source_->spec();
  const std::string encoder = encoder_package_.toStdString();
  const uint64_t seed = static_cast<uint64_t>(seed_box_->value());
  if (kind == "embedding") {
    nlohmann::json p = {{"real", real}, {"encoder", encoder}, {"seed", seed},
                        {"method", ProjectionMethodName(static_cast<ProjectionMethod>(method_box_->currentData().toInt()))},
                        {"colour", color_box_->currentIndex() == 1 ? "class" : "kind"},
                        {"arrows", displacement_box_->isChecked()}};
    if (synth_source_) p["synthetic"] = synth_source_->spec();
    // The view points shown, as the figure regenerates them (same recipe, seeds and model).
    if (views_placed_generation_ == views_generation_ && proj_views_.rows > 0 && view_params_.is_object()) {
      p.update(view_params_);
    }
    return {{"kind", "embedding"}, {"params", p}};
  }
  if (kind == "metrics") {
    if (!synth_source_) return nullptr;
    return {{"kind", "metrics"},
            {"params", {{"real", real}, {"synthetic", synth_source_->spec()}, {"encoder", encoder}, {"seed", seed}}}};
  }
  if (kind == "sweep") {
    return {{"kind", "sweep"},
            {"params", {{"input", real}, {"model", model_package_.toStdString()}, {"encoder", encoder}, {"seed", seed}}}};
  }
  return nullptr;
}

void EmbeddingView::SetEncoder(const QString& package) {
  if (package == encoder_package_) return;
  encoder_package_ = package;
  dirty_ = true;
}

void EmbeddingView::SetModel(const QString& package) { model_package_ = package; }

QString EmbeddingView::synthetic_spec() const {
  return synth_source_ ? QString::fromStdString(synth_source_->spec()) : QString();
}

void EmbeddingView::SetSyntheticSource(const QString& spec) {
  const std::string text = spec.toStdString();
  StartJob(tr("Opening %1").arg(spec), [this, text, spec](const ProgressFn&) -> Apply {
    auto opened = OpenImageSource(text);
    if (!opened.ok()) {
      const QString error = QString::fromStdString(opened.error());
      return [this, error] { status_label_->setText(tr("Cannot open the synthetic set: %1").arg(error)); };
    }
    std::shared_ptr<const ImageSource> synth = std::move(opened).value();
    return [this, synth, spec] {
      synth_source_ = synth;
      synth_emb_ = cv::Mat();
      synth_rows_.clear();
      synth_labels_.clear();
      ThumbnailCache::Options options;
      options.size = 96;
      options.workers = 1;
      synth_thumbs_ = std::make_unique<ThumbnailCache>(synth_source_, options);
      synth_thumbs_->SetReadyCallback([this](int64_t row) {
        QMetaObject::invokeMethod(this, [this, row] {
          if (hovered_ >= 0 && plot_->points()[hovered_].kind == PointKind::kSynthetic &&
              plot_->points()[hovered_].ref == row) {
            OnHover(hovered_, hover_pos_);
          }
        }, Qt::QueuedConnection);
      });
      status_label_->setText(tr("Synthetic set %1 · %2 images").arg(spec).arg(synth->size()));
      if (source_) Compute();
    };
  }, false);
}

void EmbeddingView::SetViews(int64_t source_index, const std::vector<cv::Mat>& classic,
                             const std::vector<cv::Mat>& generative, const nlohmann::json& view_params) {
  views_.clear();
  view_params_ = classic.empty() && generative.empty() ? nlohmann::json() : view_params;
  for (int kind = 0; kind < 2; ++kind) {
    for (const cv::Mat& image : kind == 0 ? classic : generative) {
      if (image.empty()) continue;
      ViewItem v;
      v.source_index = source_index;
      v.kind = kind == 0 ? PointKind::kClassic : PointKind::kGenerative;
      v.image = image;
      v.thumbnail = ToQImage(image);
      views_.push_back(std::move(v));
    }
  }
  ++views_generation_;
  if (!has_projection_) return;
  if (method_used_ == ProjectionMethod::kPca) {
    PlaceViews();
  } else {
    // t-SNE and UMAP cannot place new points: the old views no longer apply until recomputed.
    RebuildPoints(false);
    if (!views_.empty()) {
      status_label_->setText(tr("The views changed: %1 cannot place new points, Compute places "
                                "them together with the images")
                                 .arg(ProjectionMethodName(method_used_)));
    }
  }
}

void EmbeddingView::SetMethod(ProjectionMethod method) {
  const int i = method_box_->findData(static_cast<int>(method));
  if (i >= 0) method_box_->setCurrentIndex(i);
}

bool EmbeddingView::SetMethodByName(const QString& name) {
  const auto method = ParseProjectionMethod(name.toStdString());
  if (method) SetMethod(*method);
  return method.has_value();
}

void EmbeddingView::SetSeed(quint64 seed) { seed_box_->setValue(static_cast<int>(seed)); }

void EmbeddingView::SetDisplacement(bool on) {
  if (displacement_box_->isChecked() != on) displacement_box_->setChecked(on);
  plot_->SetShowArrows(on);
  UpdateArrows();
}

void EmbeddingView::ClearSelection() { plot_->ClearSelection(); }

bool EmbeddingView::busy() const { return in_flight_ || static_cast<bool>(pending_); }

QString EmbeddingView::status_text() const { return status_label_->text(); }

QWidget* EmbeddingView::hover_popup() const { return popup_; }
QString EmbeddingView::hover_caption() const { return popup_->toolTip(); }

int EmbeddingView::view_point_count() const {
  return views_placed_generation_ == views_generation_ ? proj_views_.rows : 0;
}

void EmbeddingView::showEvent(QShowEvent* event) {
  QWidget::showEvent(event);
  if (source_ && dirty_ && !busy()) Compute();
}

ProjectionOptions EmbeddingView::CurrentOptions(int n) const {
  ProjectionOptions o;
  o.method = static_cast<ProjectionMethod>(method_box_->currentData().toInt());
  o.seed = static_cast<uint64_t>(seed_box_->value());
  // Small sets (a filtered folder, tests): keep the neighbourhood sizes valid for N points.
  o.perplexity = std::min(o.perplexity, std::max(1.0, (n - 1) / 3.0));
  o.umap_neighbors = std::min(o.umap_neighbors, std::max(2, n - 1));
  return o;
}

std::vector<int64_t> EmbeddingView::ShownRealRows() const {
  std::vector<int64_t> rows;
  for (int r = 0; r < grid_model_->rowCount(); ++r) rows.push_back(grid_model_->SourceIndex(r));
  return rows;
}

void EmbeddingView::StartJob(const QString& what, std::function<Apply(const ProgressFn&)> work,
                             bool supersede) {
  if (in_flight_) {
    if (supersede) Cancel();
    pending_ = [this, what, work, supersede] { StartJob(what, work, supersede); };
    UpdateButtons();
    return;
  }
  pending_ = nullptr;
  job_name_ = what;
  cancel_ = std::make_shared<std::atomic<bool>>(false);
  permille_ = std::make_shared<std::atomic<int>>(0);
  auto cancel = cancel_;
  auto permille = permille_;
  ShowJobProgress(status_row_);
  status_label_->setText(what + QStringLiteral("…"));
  in_flight_ = true;
  UpdateButtons();
  watcher_.setFuture(QtConcurrent::run([work, cancel, permille]() -> Apply {
    const ProgressFn progress = [cancel, permille](double f) {
      permille->store(static_cast<int>(1000.0 * std::clamp(f, 0.0, 1.0)));
      return !cancel->load();
    };
    try {
      return work(progress);
    } catch (const std::exception& e) {
      const QString error = QString::fromUtf8(e.what());
      return Apply([error] { SL_LOG_ERROR("embeddings: " << error.toStdString()); });
    }
  }));
}

void EmbeddingView::OnJobFinished() {
  in_flight_ = false;
  HideJobProgress(status_row_);
  const QString what = job_name_;
  Apply apply = watcher_.result();
  const bool cancelled = cancel_ && cancel_->load();
  if (apply) apply();
  if (cancelled && !pending_) status_label_->setText(tr("%1: cancelled").arg(what));
  UpdateButtons();
  emit JobFinished(what, !cancelled);
  if (pending_) {
    auto next = std::move(pending_);
    pending_ = nullptr;
    next();
  }
}

void EmbeddingView::Cancel() {
  if (cancel_) cancel_->store(true);
}

void EmbeddingView::UpdateButtons() {
  const bool have = has_projection_;
  metrics_->SetCompareEnabled(
      have && !synth_emb_.empty(),
      synth_source_ ? tr("Every metric of `synthlens compare`: the real images shown in the grid "
                         "vs the synthetic set")
                    : tr("Load a synthetic set first (Synthetic set…), or run the strength sweep"));
  metrics_->SetSweepEnabled(static_cast<bool>(source_),
                            tr("For strength 0.1 … 1.0: img2img views of the grid's images with "
                               "the diffusion model (%1), embedded and compared with them")
                                .arg(model_package_));
}

void EmbeddingView::Compute() {
  if (!source_) return;
  dirty_ = false;
  auto source = source_;
  auto synth = synth_source_;
  auto project = project_;
  const QString encoder_package = encoder_package_;
  const bool reuse = encoder_ && encoder_opened_ == encoder_package;
  auto encoder = reuse ? encoder_ : nullptr;
  Embedded real{reuse ? real_emb_ : cv::Mat(), real_rows_, real_labels_};
  Embedded synthetic{reuse ? synth_emb_ : cv::Mat(), synth_rows_, synth_labels_};
  std::vector<cv::Mat> view_images;
  for (const ViewItem& v : views_) view_images.push_back(v.image);
  const int views_generation = views_generation_;
  const int n = static_cast<int>(source->size() + (synth ? synth->size() : 0) + view_images.size());
  const ProjectionOptions options = CurrentOptions(n);
  StartJob(tr("Embedding and projecting (%1)").arg(QString::fromLatin1(ProjectionMethodName(options.method))),
           [=](const ProgressFn& progress) mutable -> Apply {
    auto fail = [this, source](const std::string& error) -> Apply {
      const QString e = QString::fromStdString(error);
      return [this, e, source] {
        if (source != source_) return;
        dirty_ = true;
        if (e != QLatin1String("cancelled")) {
          SL_LOG_WARNING("embeddings: " << e.toStdString());
          status_label_->setText(tr("Cannot compute the projection: %1").arg(e));
        }
      };
    };
    if (!encoder) {
      auto opened = Encoder::Open(encoder_package.toStdString(), Device{});
      if (!opened.ok()) return fail(opened.error());
      encoder = std::shared_ptr<const Encoder>(std::move(opened).value());
    }
    // Embedding dominates for large sources; projection for t-SNE/UMAP.
    const double embed_end = options.method == ProjectionMethod::kPca ? 0.85 : 0.5;
    if (real.matrix.empty()) {
      auto e = EmbedWithRows(*source, *encoder, project.get(), SubRange(progress, 0.0, embed_end * 0.9));
      if (!e.ok()) return fail(e.error());
      real = std::move(e).value();
    }
    if (synth && synthetic.matrix.empty()) {
      auto e = EmbedWithRows(*synth, *encoder, project.get(),
                             SubRange(progress, embed_end * 0.9, embed_end));
      if (!e.ok()) return fail(e.error());
      synthetic = std::move(e).value();
    }
    cv::Mat view_emb;
    if (!view_images.empty()) {
      auto e = encoder->Embed(view_images);
      if (!e.ok()) return fail(e.error());
      view_emb = std::move(e).value();
    }
    if (!progress(embed_end)) return fail("cancelled");
    if (real.matrix.rows < 2) return fail("fewer than 2 readable images");
    const ProgressFn project_progress = SubRange(progress, embed_end, 1.0);
    // PCA fitted on the real images, the rest placed with its components; t-SNE/UMAP: the union.
    auto projected = ProjectSets(real.matrix, synthetic.matrix, view_emb, options, project_progress);
    if (!projected.ok()) return fail(projected.error());
    const cv::Mat pr = projected->real, ps = projected->synthetic, pv = projected->extra, map = projected->pca_map;
    return [=]() {
      if (source != source_) return;  // a newer source replaced this one
      encoder_ = encoder;
      encoder_opened_ = encoder_package;
      real_emb_ = real.matrix;
      real_from_cache_ = real.from_cache;
      real_rows_ = real.rows;
      real_labels_ = real.labels;
      real_row_of_.assign(static_cast<size_t>(source->size()), -1);
      for (size_t i = 0; i < real_rows_.size(); ++i) {
        if (real_rows_[i] >= 0) real_row_of_[real_rows_[i]] = static_cast<int>(i);
      }
      if (synth == synth_source_) {
        synth_emb_ = synthetic.matrix;
        synth_rows_ = synthetic.rows;
        synth_labels_ = synthetic.labels;
      }
      method_used_ = options.method;
      proj_real_ = pr;
      proj_synth_ = synth == synth_source_ ? ps : cv::Mat(0, 2, CV_32F);
      proj_views_ = pv;
      pca_map_ = map;
      has_projection_ = true;
      views_placed_generation_ = views_generation;
      const QString axis = AxisName(method_used_);
      plot_->SetAxisTitles(axis + QStringLiteral(" 1"), axis + QStringLiteral(" 2"));
      RebuildPoints(true);
      status_label_->setText(tr("%1 · %2 real, %3 synthetic, %4 view points · encoder %5")
                                 .arg(QString::fromLatin1(ProjectionMethodName(method_used_)))
                                 .arg(proj_real_.rows)
                                 .arg(proj_synth_.rows)
                                 .arg(view_point_count())
                                 .arg(QString::fromStdString(encoder->manifest().name)));
      emit ProjectionReady(static_cast<int>(plot_->points().size()));
      // Views that changed while this ran: place them now (PCA) or say so.
      if (views_generation_ != views_generation && method_used_ == ProjectionMethod::kPca) PlaceViews();
    };
  }, true);
}

void EmbeddingView::PlaceViews() {
  if (!has_projection_ || !encoder_ || method_used_ != ProjectionMethod::kPca) return;
  std::vector<cv::Mat> images;
  for (const ViewItem& v : views_) images.push_back(v.image);
  const int generation = views_generation_;
  auto encoder = encoder_;
  const cv::Mat map = pca_map_;
  auto source = source_;
  StartJob(tr("Placing %1 views").arg(images.size()), [=](const ProgressFn& progress) -> Apply {
    cv::Mat placed(0, 2, CV_32F);
    if (!images.empty()) {
      auto e = encoder->Embed(images);
      if (!e.ok()) {
        const QString error = QString::fromStdString(e.error());
        return [this, error] { status_label_->setText(tr("Cannot embed the views: %1").arg(error)); };
      }
      placed = PlaceWithPcaMap(*e, map);
    }
    progress(1.0);
    return [=] {
      if (source != source_ || generation != views_generation_ || map.data != pca_map_.data) return;
      proj_views_ = placed;
      views_placed_generation_ = generation;
      RebuildPoints(false);
      status_label_->setText(tr("PCA · %1 views placed with the fitted components").arg(placed.rows));
    };
  }, false);
}

void EmbeddingView::RebuildPoints(bool reset_view) {
  std::vector<PlotPoint> points;
  points.reserve(static_cast<size_t>(proj_real_.rows + proj_synth_.rows + proj_views_.rows));
  for (int i = 0; i < proj_real_.rows; ++i) {
    points.push_back({proj_real_.at<float>(i, 0), proj_real_.at<float>(i, 1), PointKind::kReal,
                      real_labels_[i], real_rows_[i]});
  }
  for (int i = 0; i < proj_synth_.rows; ++i) {
    points.push_back({proj_synth_.at<float>(i, 0), proj_synth_.at<float>(i, 1),
                      PointKind::kSynthetic, synth_labels_[i], synth_rows_[i]});
  }
  if (views_placed_generation_ == views_generation_) {
    for (int i = 0; i < proj_views_.rows && i < static_cast<int>(views_.size()); ++i) {
      const ViewItem& v = views_[i];
      const int row = v.source_index >= 0 && v.source_index < static_cast<int64_t>(real_row_of_.size())
                          ? real_row_of_[v.source_index] : -1;
      points.push_back({proj_views_.at<float>(i, 0), proj_views_.at<float>(i, 1), v.kind,
                        row >= 0 ? real_labels_[row] : -1, i});
    }
  }
  plot_->SetPoints(std::move(points), reset_view);
  UpdateArrows();
}

void EmbeddingView::UpdateArrows() {
  std::vector<PlotArrow> arrows;
  if (views_placed_generation_ == views_generation_) {
    for (int i = 0; i < proj_views_.rows && i < static_cast<int>(views_.size()); ++i) {
      const int64_t s = views_[i].source_index;
      const int row = s >= 0 && s < static_cast<int64_t>(real_row_of_.size()) ? real_row_of_[s] : -1;
      if (row < 0) continue;
      arrows.push_back({QPointF(proj_real_.at<float>(row, 0), proj_real_.at<float>(row, 1)),
                        QPointF(proj_views_.at<float>(i, 0), proj_views_.at<float>(i, 1)),
                        views_[i].kind});
    }
  }
  plot_->SetArrows(std::move(arrows));
}

int64_t EmbeddingView::SourceOfPoint(int point) const {
  if (point < 0 || point >= static_cast<int>(plot_->points().size())) return -1;
  const PlotPoint& p = plot_->points()[point];
  switch (p.kind) {
    case PointKind::kReal: return p.ref;
    case PointKind::kSynthetic: return -1;
    default:
      return p.ref >= 0 && p.ref < static_cast<int64_t>(views_.size()) ? views_[p.ref].source_index : -1;
  }
}

void EmbeddingView::OnHover(int point, const QPoint& global_pos) {
  hovered_ = point;
  hover_pos_ = global_pos;
  if (point < 0) {
    popup_->hide();
    popup_->setToolTip(QString());
    return;
  }
  const PlotPoint& p = plot_->points()[point];
  QImage thumb;
  QString caption;
  auto class_name = [this](int label) { return label >= 0 ? grid_model_->ClassName(label) : QString(); };
  if (p.kind == PointKind::kReal && source_) {
    thumb = grid_model_->Thumbnail(p.ref);
    caption = QString::fromStdString(source_->record(p.ref).id);
  } else if (p.kind == PointKind::kSynthetic && synth_source_ && synth_thumbs_) {
    const cv::Mat t = synth_thumbs_->Get(p.ref);
    if (!t.empty()) thumb = ToQImage(t);
    caption = tr("synthetic: %1").arg(QString::fromStdString(synth_source_->record(p.ref).id));
  } else if (p.ref >= 0 && p.ref < static_cast<int64_t>(views_.size())) {
    thumb = views_[p.ref].thumbnail;
    const int64_t s = views_[p.ref].source_index;
    caption = tr("%1 of %2").arg(tr(PointKindName(p.kind)))
                  .arg(source_ && s >= 0 && s < source_->size()
                           ? QString::fromStdString(source_->record(s).id) : QString());
  }
  const QString cls = class_name(p.label);
  if (!cls.isEmpty()) caption += QStringLiteral("\n") + cls;
  popup_->setToolTip(caption);  // kept for tests and accessibility
  if (thumb.isNull()) {
    popup_->setPixmap(QPixmap());
    popup_->setText(caption + tr("\n(loading…)"));
  } else {
    // A QLabel holds either text or a pixmap: compose both into one image.
    const QPixmap scaled = ScaleForDisplay(thumb, QSize(112, 112));
    const QFontMetrics fm(popup_->font());
    const QStringList lines = caption.split(QLatin1Char('\n'));
    int text_w = 0;
    for (const QString& l : lines) text_w = std::max(text_w, fm.horizontalAdvance(l));
    QPixmap card(std::max(scaled.width(), text_w) + 4, scaled.height() + fm.height() * lines.size() + 6);
    card.fill(Qt::white);
    QPainter painter(&card);
    painter.drawPixmap((card.width() - scaled.width()) / 2, 2, scaled);
    painter.setPen(Qt::black);
    int y = scaled.height() + 4 + fm.ascent();
    for (const QString& l : lines) {
      painter.drawText((card.width() - fm.horizontalAdvance(l)) / 2, y, l);
      y += fm.height();
    }
    painter.end();
    popup_->setPixmap(card);
  }
  popup_->adjustSize();
  popup_->move(global_pos + QPoint(14, 14));
  popup_->show();
}

void EmbeddingView::OnClicked(int point) {
  const int64_t s = SourceOfPoint(point);
  if (s >= 0) emit ActivateImage(s);
}

void EmbeddingView::OnSelectionChanged(int selected) {
  QVector<qint64> rows;
  for (int i : plot_->selected_points()) {
    const PlotPoint& p = plot_->points()[i];
    if (p.kind == PointKind::kReal) rows.push_back(p.ref);
  }
  if (selected == 0) {
    emit FilterCleared();
    return;
  }
  std::sort(rows.begin(), rows.end());
  emit FilterRequested(rows);
}

void EmbeddingView::Compare() {
  if (!has_projection_ || synth_emb_.empty()) return;
  std::vector<int> rows;
  for (int64_t s : ShownRealRows()) {
    const int r = s >= 0 && s < static_cast<int64_t>(real_row_of_.size()) ? real_row_of_[s] : -1;
    if (r >= 0) rows.push_back(r);
  }
  const cv::Mat real = Rows(real_emb_, rows);
  std::vector<int> real_labels;
  for (int r : rows) real_labels.push_back(real_labels_[r]);
  const cv::Mat synth = synth_emb_;
  const std::vector<int> synth_labels = synth_labels_;
  SetMetricsOptions options;
  options.bootstrap = metrics_->bootstrap();
  options.seed = static_cast<uint64_t>(seed_box_->value());
  const QString title = tr("%1 real (%2) vs synthetic %3 (%4)")
                            .arg(grid_model_->filtered() ? tr("selected") : tr("all"))
                            .arg(real.rows)
                            .arg(QString::fromStdString(synth_source_->spec()))
                            .arg(synth.rows);
  StartJob(tr("Comparing real vs synthetic"), [=](const ProgressFn& progress) -> Apply {
    auto json = CompareSetsJson(real, synth, options, real_labels, synth_labels, progress);
    if (!json.ok()) {
      const QString error = QString::fromStdString(json.error());
      return [this, error] {
        if (error != QLatin1String("cancelled")) metrics_->SetMessage(tr("Cannot compare: %1").arg(error));
      };
    }
    const QString text = QString::fromStdString(*json);
    return [this, text, title] { metrics_->SetMetricsJson(text, title); status_label_->setText(title); };
  }, false);
}

void EmbeddingView::RunSweep(int images, int steps) {
  if (!source_) return;
  // The grid's images (the selection when filtered), evenly spaced, at most `images`.
  const std::vector<int64_t> shown = ShownRealRows();
  std::vector<int64_t> picked;
  const int n = std::min<int>(images, static_cast<int>(shown.size()));
  for (int i = 0; i < n; ++i) picked.push_back(shown[static_cast<size_t>(i) * shown.size() / n]);
  auto source = source_;
  const QString package = model_package_;
  auto generator = generator_opened_ == package ? generator_ : nullptr;
  const QString encoder_package = encoder_package_;
  auto encoder = encoder_opened_ == encoder_package ? encoder_ : nullptr;
  const uint64_t seed = static_cast<uint64_t>(seed_box_->value());
  StartJob(tr("Strength sweep over %1 images").arg(picked.size()), [=](const ProgressFn& progress) mutable -> Apply {
    auto fail = [this](const std::string& error) -> Apply {
      const QString e = QString::fromStdString(error);
      return [this, e] {
        if (e == QLatin1String("cancelled")) return;
        SL_LOG_WARNING("sweep: " << e.toStdString());
        metrics_->SetMessage(tr("Cannot run the sweep: %1").arg(e));
        status_label_->setText(tr("Cannot run the sweep: %1").arg(e));
      };
    };
    if (picked.size() < 2) return fail("the sweep needs at least 2 images in the grid");
    if (!generator) {
      auto g = Generator::Open(package.toStdString(), Device{});
      if (!g.ok()) return fail(g.error());
      generator = std::shared_ptr<const Generator>(std::move(g).value());
    }
    if (!encoder) {
      auto e = Encoder::Open(encoder_package.toStdString(), Device{});
      if (!e.ok()) return fail(e.error());
      encoder = std::shared_ptr<const Encoder>(std::move(e).value());
    }
    std::vector<cv::Mat> reals;
    std::vector<std::string> ids;
    std::vector<int> labels;
    for (int64_t i : picked) {
      auto img = source->Load(i);
      if (!img.ok()) continue;  // unreadable: already reported by the grid
      reals.push_back(std::move(img).value());
      ids.push_back(source->record(i).id);
      labels.push_back(source->record(i).label);
    }
    SweepOptions options;
    options.strengths.clear();
    for (int k = 1; k <= kSweepSteps; ++k) options.strengths.push_back(k / static_cast<double>(kSweepSteps));
    options.steps = steps;
    options.seed = seed;
    auto sweep = RunStrengthSweep(*generator, *encoder, reals, ids, labels, options, progress);
    if (!sweep.ok()) return fail(sweep.error());
    std::vector<double> strengths;
    std::vector<QString> jsons;
    for (const SweepPoint& point : *sweep) {
      strengths.push_back(point.strength);
      jsons.push_back(QString::fromStdString(point.metrics_json));
    }
    return [=] {
      generator_ = generator;
      generator_opened_ = package;
      metrics_->SetSweep(strengths, jsons);
      status_label_->setText(tr("Sweep done: %1 images × %2 strengths").arg(reals.size()).arg(strengths.size()));
    };
  }, false);
}

}  // namespace synthlens::ui
