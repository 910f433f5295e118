#include "ui/detector_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QPushButton>
#include <QSplitter>
#include <QTableView>
#include <QTableWidget>
#include <QTimer>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/plot_hint.h"
#include "core/detect/detectors.h"
#include "core/jobs/detect_job.h"
#include "core/jobs/review_job.h"
#include "core/util/logging.h"
#include <QMenu>
#include "ui/figures/export_dialog.h"
#include "qcustomplot.h"
#include "ui/detector_reference.h"
#include "ui/detector_table_model.h"
#include "ui/image_grid_model.h"
#include "ui/label_panel.h"
#include "ui/learned_detector.h"

namespace synthlens::ui {

namespace {

// Okabe-Ito: the reference in blue, the image in vermillion (as real/synthetic elsewhere).
const QColor kReferenceColor(0x00, 0x72, 0xb2);
const QColor kImageColor(0xd5, 0x5e, 0x00);
const QColor kFlagBackground(0xf6, 0xc9, 0xb0);

QString Q(const std::string& s) { return QString::fromStdString(s); }

}  // namespace

DetectorView::DetectorView(ImageGridModel* grid_model, QListView* grid, QWidget* parent)
    : QWidget(parent),
      grid_model_(grid_model),
      grid_(grid),
      job_(
          this, [this] { OnJobEnded(); }, [this] { Run(); },
          [this](Result<DetectJobResult> result, bool cancelled) {
            OnJobFinished(std::move(result), cancelled);
          }) {
  learned_ = new LearnedDetector(this);
  BuildUi();
  // Right-click: Export figure… / Copy as image / Copy data (docs/figures.md).
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QMenu menu(this);
    AddFigureActions(&menu, this, [this] { return FigureSpec(); });
    menu.exec(mapToGlobal(pos));
  });
  connect(grid_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &DetectorView::OnGridCurrentChanged);
  connect(learned_, &LearnedDetector::Updated, this, &DetectorView::UpdateLearned);
  UpdateLearned();
}

// job_ cancels and waits for its worker.
DetectorView::~DetectorView() = default;

void DetectorView::BuildUi() {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  run_button_ = new QPushButton(tr("Run detectors"), this);
  run_button_->setToolTip(tr("Every artifact detector of `synthlens detect` on the open source, "
                             "thresholds calibrated on the reference (docs/detectors.md)"));
  reference_field_ = new ReferenceField(this);
  thresholds_field_ = new QLineEdit(this);
  thresholds_field_->setPlaceholderText(tr("Thresholds: p99 of the reference (e.g. light=0.02,blur=p95)"));
  thresholds_field_->setClearButtonEnabled(true);
  thresholds_field_->setToolTip(
      tr("Per-detector threshold overrides, as `synthlens detect --thresholds`: NAME=pNN is a "
         "percentile of the reference's scores, NAME=VALUE an absolute threshold; the others "
         "stay at the reference's 99th percentile. Return re-runs."));
  bar->addWidget(run_button_);
  bar->addWidget(reference_field_, 1);
  layout->addLayout(bar);
  layout->addWidget(thresholds_field_);
  connect(thresholds_field_, &QLineEdit::returnPressed, this, &DetectorView::Run);
  status_row_ = AddJobStatusRow(this, layout, tr("No detector results yet: Run detectors"),
                                [this] { return job_.permille(); });
  summary_ = new QLabel(this);
  summary_->setWordWrap(true);
  summary_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  layout->addWidget(summary_);

  auto* filters = new QHBoxLayout();
  filter_box_ = new QComboBox(this);
  filter_box_->setToolTip(tr("Which images the table lists"));
  filter_box_->setSizeAdjustPolicy(QComboBox::AdjustToContents);
  text_filter_ = new QLineEdit(this);
  text_filter_->setPlaceholderText(tr("Filter ids…"));
  text_filter_->setClearButtonEnabled(true);
  grid_flagged_button_ = new QPushButton(tr("Show flagged in grid"), this);
  grid_flagged_button_->setToolTip(tr("Show only the images the table's flag filter keeps (any "
                                      "flag when it lists all images) in the grid"));
  grid_all_button_ = new QPushButton(tr("Show all in grid"), this);
  filters->addWidget(filter_box_);
  filters->addWidget(text_filter_, 1);
  filters->addWidget(grid_flagged_button_);
  filters->addWidget(grid_all_button_);
  layout->addLayout(filters);

  auto* learned_bar = new QHBoxLayout();
  learned_label_ = new QLabel(this);
  learned_label_->setWordWrap(true);
  review_button_ = new QPushButton(tr("Review next"), this);
  review_button_->setToolTip(tr("Go to the unlabelled image the learned detector finds most "
                                "likely to be an artifact (label it in the Labels tab)"));
  learned_bar->addWidget(learned_label_, 1);
  learned_bar->addWidget(review_button_);
  layout->addLayout(learned_bar);

  auto* split = new QSplitter(Qt::Horizontal, this);
  model_ = new DetectTableModel(this);
  proxy_ = new DetectFilterProxy(this);
  proxy_->setSourceModel(model_);
  table_ = new QTableView(split);
  table_->setModel(proxy_);
  table_->setSortingEnabled(true);
  table_->sortByColumn(DetectTableModel::kIdColumn, Qt::AscendingOrder);
  table_->setSelectionBehavior(QAbstractItemView::SelectRows);
  table_->setSelectionMode(QAbstractItemView::SingleSelection);
  table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  table_->verticalHeader()->hide();
  table_->verticalHeader()->setDefaultSectionSize(20);
  table_->horizontalHeader()->setResizeContentsPrecision(200);  // 10,000 rows stay instant
  table_->horizontalHeader()->setDefaultSectionSize(72);
  table_->setWordWrap(false);
  table_->setColumnHidden(DetectTableModel::kProbabilityColumn, true);

  auto* right = new QSplitter(Qt::Vertical, split);
  auto* breakdown_host = new QWidget(right);
  auto* bl = new QVBoxLayout(breakdown_host);
  bl->setContentsMargins(0, 0, 0, 0);
  breakdown_title_ = new QLabel(tr("No image"), breakdown_host);
  breakdown_title_->setWordWrap(true);
  breakdown_ = new QTableWidget(breakdown_host);
  breakdown_->setColumnCount(4);
  breakdown_->setHorizontalHeaderLabels({tr("detector"), tr("score"), tr("threshold"), tr("flag")});
  breakdown_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  breakdown_->setSelectionMode(QAbstractItemView::NoSelection);
  breakdown_->verticalHeader()->hide();
  breakdown_->verticalHeader()->setDefaultSectionSize(18);
  breakdown_->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
  for (int c = 1; c < 4; ++c) {
    breakdown_->horizontalHeader()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
  }
  bl->addWidget(breakdown_title_);
  bl->addWidget(breakdown_, 1);
  spectrum_ = new QCustomPlot(right);
  spectrum_->setMinimumSize(240, 180);
  spectrum_->xAxis->setLabel(tr("frequency (cycles/pixel)"));
  spectrum_->yAxis->setLabel(tr("log(1 + |F|)"));
  spectrum_->setToolTip(tr("Azimuthally averaged log amplitude spectrum of the current image "
                           "against the reference set's mean ± one standard deviation"));
  spectrum_->legend->setVisible(true);
  QFont legend_font = font();
  legend_font.setPointSizeF(legend_font.pointSizeF() * 0.85);
  spectrum_->legend->setFont(legend_font);
  spectrum_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
  right->addWidget(breakdown_host);
  SetPlotHint(spectrum_, tr("No spectrum yet: Run the detectors"));
  ApplyPlotTheme(spectrum_);
  right->addWidget(spectrum_);
  right->setStretchFactor(0, 1);
  right->setStretchFactor(1, 1);
  right->setSizes({360, 320});
  split->addWidget(table_);
  split->addWidget(right);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 2);
  split->setSizes({520, 360});
  layout->addWidget(split, 1);

  learned_tick_ = new QTimer(this);
  learned_tick_->setInterval(1000);  // "retrained N s ago"
  connect(learned_tick_, &QTimer::timeout, this,
          [this] { learned_label_->setText(learned_->status_text()); });
  learned_tick_->start();

  connect(run_button_, &QPushButton::clicked, this, &DetectorView::Run);
  connect(status_row_.cancel, &QPushButton::clicked, this, [this] { job_.CancelAll(); });
  connect(filter_box_, &QComboBox::activated, this,
          [this](int i) { SetFlagFilter(filter_box_->itemData(i).toInt()); });
  connect(text_filter_, &QLineEdit::textChanged, this, &DetectorView::SetTextFilter);
  connect(grid_flagged_button_, &QPushButton::clicked, this, &DetectorView::ShowFlaggedInGrid);
  connect(grid_all_button_, &QPushButton::clicked, this, &DetectorView::ShowAllInGrid);
  connect(review_button_, &QPushButton::clicked, this, &DetectorView::ReviewNext);
  connect(table_->selectionModel(), &QItemSelectionModel::currentChanged, this,
          &DetectorView::OnTableCurrentChanged);
  connect(reference_field_, &ReferenceField::Changed, this, [this] {
    if (result_ && !job_.busy()) {
      SetStatus(tr("Reference changed to %1: Run detectors to recalibrate")
                    .arg(reference_field_->spec().isEmpty() ? tr("the source itself")
                                                            : reference_field_->spec()));
    }
  });
  UpdateFilterBox();
}

void DetectorView::SetStatus(const QString& text) { status_row_.label->setText(text); }

QString DetectorView::status_text() const { return status_row_.label->text(); }

QString DetectorView::summary_text() const { return summary_->text(); }

QString DetectorView::learned_text() const { return learned_label_->text(); }

void DetectorView::SetSource(std::shared_ptr<const ImageSource> source) {
  job_.CancelAll();
  source_ = std::move(source);
  source_key_ = source_ ? LabelPanel::SourceKey(Q(source_->spec())) : QString();
  if (source_) reference_field_->SetSourceSpec(Q(source_->spec()));
  result_.reset();
  model_->SetResult(nullptr);
  learned_->SetDetectResult(nullptr, QString());
  shown_index_ = -1;
  UpdateFilterBox();
  UpdateSummary();
  UpdateBreakdown(-1);
  UpdateSpectrum(-1);
  SetStatus(source_ ? tr("No detector results for %1 yet: Run detectors").arg(Q(source_->spec()))
                    : tr("No source"));
  emit FlaggedChanged({});
  emit ResultsChanged();
}

void DetectorView::SetProjectPath(const QString& path) { learned_->SetProjectPath(path); }

void DetectorView::SetReference(const QString& spec) { reference_field_->SetSpec(spec); }

QString DetectorView::reference() const { return reference_field_->spec(); }

void DetectorView::SetThresholds(const QString& spec) { thresholds_field_->setText(spec); }

QString DetectorView::thresholds() const { return thresholds_field_->text(); }

void DetectorView::Run() {
  if (!source_) {
    SetStatus(tr("Open a source first"));
    return;
  }
  if (job_.Supersede()) return;  // runs again once the old job has ended
  DetectJobOptions options;
  options.input = source_->spec();
  const std::string reference = reference_field_->Resolve(Q(options.input)).toStdString();
  options.reference = reference == options.input ? std::string() : reference;
  options.reference_limit = reference_limit_;
  options.encoder = encoder_.toStdString();
  options.thresholds = thresholds_field_->text().trimmed().toStdString();
  if (const std::string problem = options.Check(); !problem.empty()) {
    SetStatus(tr("Detectors: %1").arg(Q(problem)));
    SL_LOG_ERROR("detectors: " << problem);
    return;
  }
  running_input_ = options.input;
  running_reference_ = options.reference.empty() ? tr("the source itself") : Q(options.reference);
  ShowJobProgress(status_row_);
  SetStatus(tr("Running the detectors on %1 against %2…").arg(Q(options.input), running_reference_));
  run_button_->setText(tr("Restart"));
  job_.Start([options](const ProgressFn& progress) {
    return RunDetectJob(options, progress, [](const SourceIssue& issue) {
      SL_LOG_WARNING("detectors: skipped " << issue.file << ": " << issue.reason);
    });
  });
}

void DetectorView::Cancel() { job_.Cancel(); }

void DetectorView::OnJobEnded() {
  HideJobProgress(status_row_);
  run_button_->setText(tr("Run detectors"));
}

void DetectorView::OnJobFinished(Result<DetectJobResult> result, bool cancelled) {
  if (!source_ || running_input_ != source_->spec()) {
    emit JobFinished(false);  // the run belonged to a source that is no longer open
    return;
  }
  if (cancelled) {
    SetStatus(result_ ? tr("Detectors: cancelled (showing the previous results)")
                      : tr("Detectors: cancelled"));
    emit JobFinished(false);
    return;
  }
  if (!result.ok()) {
    SetStatus(tr("Detectors failed: %1").arg(Q(result.error())));
    SL_LOG_ERROR("detectors: " << result.error());
    emit JobFinished(false);
    return;
  }
  result_ = std::make_shared<const DetectJobResult>(std::move(result).value());
  result_reference_ = running_reference_;
  model_->SetResult(result_);
  table_->resizeColumnsToContents();
  reviewed_.clear();
  learned_->SetDetectResult(result_, source_key_);
  UpdateFilterBox();
  proxy_->SetFlagFilter(kAllImages);
  UpdateSummary();
  SetStatus(tr("Detectors: %1 images against %2 (%3 reference images%4) in %5 s")
                .arg(result_->ids.size())
                .arg(result_reference_)
                .arg(result_->reference_count)
                .arg(result_->encoder_name.empty()
                         ? tr(", pixel detectors only")
                         : tr(", encoder %1").arg(Q(result_->encoder_name)))
                .arg(result_->seconds, 0, 'f', 1));
  SL_LOG_INFO("detectors: " << result_->ids.size() << " images, "
                            << FlaggedIndices(kAnyFlag).size() << " flagged");
  OnGridCurrentChanged();
  emit FlaggedChanged(FlaggedIndices(kAnyFlag));
  emit ResultsChanged();
  emit JobFinished(true);
}

QVector<qint64> DetectorView::FlaggedIndices(int detector) const {
  QVector<qint64> out;
  if (!result_) return out;
  for (size_t r = 0; r < result_->ids.size(); ++r) {
    const auto& flags = result_->flags[r];
    bool flagged = false;
    if (detector < 0) {
      flagged = std::any_of(flags.begin(), flags.end(), [](uint8_t f) { return f != 0; });
    } else if (detector < static_cast<int>(flags.size())) {
      flagged = flags[detector] != 0;
    }
    if (flagged) out.push_back(result_->indices[r]);
  }
  return out;
}

void DetectorView::SetFlagFilter(int detector) {
  proxy_->SetFlagFilter(detector);
  const int i = filter_box_->findData(detector);
  if (i >= 0) filter_box_->setCurrentIndex(i);
  OnGridCurrentChanged();  // keep the current image's row selected when it is still listed
}

void DetectorView::SetTextFilter(const QString& text) {
  if (text_filter_->text() != text) text_filter_->setText(text);
  proxy_->setFilterFixedString(text);
}

void DetectorView::ShowFlaggedInGrid() {
  if (!result_) {
    SetStatus(tr("Run the detectors first"));
    return;
  }
  const int filter = proxy_->flag_filter() == kAllImages ? kAnyFlag : proxy_->flag_filter();
  const QVector<qint64> flagged = FlaggedIndices(filter);
  const QString what = filter == kAnyFlag ? tr("any detector")
                                          : Q(result_->detectors[filter].name);
  if (flagged.isEmpty()) {
    SetStatus(tr("No image is flagged by %1").arg(what));
    return;
  }
  emit FilterRequested(flagged);
  SetStatus(tr("The grid shows the %1 images flagged by %2").arg(flagged.size()).arg(what));
}

void DetectorView::ShowAllInGrid() { emit FilterCleared(); }

bool DetectorView::ReviewNext() {
  if (!learned_->has_model()) {
    SetStatus(learned_->status_text());
    return false;
  }
  const qint64 current = grid_model_->SourceIndex(grid_->currentIndex().row());
  for (qint64 index : learned_->review_order()) {
    if (index == current) continue;
    if (std::find(reviewed_.begin(), reviewed_.end(), index) != reviewed_.end()) continue;
    reviewed_.push_back(index);
    emit ActivateImage(index);
    return true;
  }
  SetStatus(tr("Every unlabelled image has been visited; label some to retrain"));
  return false;
}

void DetectorView::LabelsChanged() { learned_->Poll(); }

qint64 DetectorView::SourceIndexOfViewRow(int view_row) const {
  if (view_row < 0 || view_row >= proxy_->rowCount()) return -1;
  return proxy_->index(view_row, 0).data(DetectTableModel::kSourceIndexRole).toLongLong();
}

int DetectorView::ScoreColumn(int detector) const { return DetectTableModel::ScoreColumn(detector); }

int DetectorView::DetectorIndex(const QString& name) const {
  return result_ ? result_->DetectorIndex(name.toStdString()) : -1;
}

void DetectorView::OnTableCurrentChanged() {
  if (syncing_) return;
  const QModelIndex current = table_->currentIndex();
  if (!current.isValid()) return;
  const qint64 index = current.data(DetectTableModel::kSourceIndexRole).toLongLong();
  ShowImage(index);
  emit ActivateImage(index);
}

void DetectorView::OnGridCurrentChanged() {
  const QModelIndex current = grid_->currentIndex();
  const qint64 index = current.isValid() ? grid_model_->SourceIndex(current.row()) : -1;
  ShowImage(index);
  const int row = model_->RowOfSourceIndex(index);
  if (row < 0) return;
  const QModelIndex view_index = proxy_->mapFromSource(model_->index(row, 0));
  if (!view_index.isValid()) return;
  syncing_ = true;
  table_->selectionModel()->setCurrentIndex(
      view_index, QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
  table_->scrollTo(view_index);
  syncing_ = false;
}

void DetectorView::ShowImage(qint64 source_index) {
  shown_index_ = source_index;
  const int row = model_->RowOfSourceIndex(source_index);
  UpdateBreakdown(row);
  UpdateSpectrum(row);
}

void DetectorView::UpdateBreakdown(int row) {
  breakdown_->setRowCount(0);
  if (!result_ || row < 0) {
    breakdown_title_->setText(result_ && shown_index_ >= 0
                                  ? tr("This image was not analysed (unreadable?)")
                                  : tr("No image"));
    return;
  }
  const DetectJobResult& r = *result_;
  const int n = static_cast<int>(r.detectors.size());
  breakdown_->setRowCount(n);
  int flags = 0;
  for (int d = 0; d < n; ++d) {
    const double score = r.scores[row][d];
    const bool flagged = r.flags[row][d] != 0;
    flags += flagged;
    auto* name = new QTableWidgetItem(Q(r.detectors[d].name));
    name->setToolTip(Q(r.detectors[d].description));
    auto* value = new QTableWidgetItem(DetectTableModel::ScoreText(score));
    auto* threshold = new QTableWidgetItem(DetectTableModel::ScoreText(r.thresholds[d]) +
                                           QStringLiteral(" (") + Q(r.rules[d]) +
                                           QStringLiteral(")"));
    auto* flag = new QTableWidgetItem(flagged ? tr("⚑ flagged") : QString());
    value->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    threshold->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    QTableWidgetItem* items[] = {name, value, threshold, flag};
    for (int c = 0; c < 4; ++c) {
      if (flagged) items[c]->setBackground(kFlagBackground);
      if (std::isnan(score)) items[c]->setForeground(palette().color(QPalette::Disabled, QPalette::Text));
      breakdown_->setItem(d, c, items[c]);
    }
  }
  QString title = tr("<b>%1</b> · %2 of %3 detectors flag it")
                      .arg(Q(r.ids[row]).toHtmlEscaped())
                      .arg(flags)
                      .arg(n);
  if (!r.source_ids.empty() && !r.source_ids[row].empty()) {
    title += tr(" · view of %1").arg(Q(r.source_ids[row]).toHtmlEscaped());
  }
  const auto& p = learned_->probability();
  if (!p.empty() && row < static_cast<int>(p.size())) {
    title += tr(" · learned p(artifact) %1").arg(DetectTableModel::ScoreText(p[row]));
  }
  breakdown_title_->setText(title);
}

void DetectorView::UpdateSpectrum(int row) {
  spectrum_->clearGraphs();
  const bool has_reference = result_ && !result_->reference_spectrum_mean.empty();
  SetPlotHint(spectrum_, has_reference ? QString() : tr("No spectrum yet: Run the detectors"));
  if (has_reference) {
    const std::vector<double> freqs = SpectrumFrequencies();
    const auto& mean = result_->reference_spectrum_mean;
    const auto& sd = result_->reference_spectrum_std;
    QVector<double> x(freqs.begin(), freqs.end()), lo, hi, m(mean.begin(), mean.end());
    for (size_t i = 0; i < mean.size(); ++i) {
      lo.push_back(mean[i] - sd[i]);
      hi.push_back(mean[i] + sd[i]);
    }
    QCPGraph* lower = spectrum_->addGraph();
    lower->setData(x, lo, true);
    lower->setPen(Qt::NoPen);
    lower->removeFromLegend();
    QCPGraph* upper = spectrum_->addGraph();
    upper->setData(x, hi, true);
    upper->setPen(Qt::NoPen);
    QColor band = kReferenceColor;
    band.setAlpha(50);
    upper->setBrush(band);
    upper->setChannelFillGraph(lower);
    upper->setName(tr("reference mean ± std"));
    QCPGraph* reference = spectrum_->addGraph();
    reference->setData(x, m, true);
    reference->setPen(QPen(kReferenceColor, 1.5, Qt::DashLine));
    reference->setName(tr("reference mean"));
    if (row >= 0 && row < static_cast<int>(result_->spectra.size()) &&
        !result_->spectra[row].empty()) {
      const auto& s = result_->spectra[row];
      QCPGraph* image = spectrum_->addGraph();
      image->setData(x, QVector<double>(s.begin(), s.end()), true);
      image->setPen(QPen(kImageColor, 2));
      image->setName(tr("image %1").arg(Q(result_->ids[row])));
    }
    spectrum_->rescaleAxes();
    spectrum_->xAxis->setRange(0, x.isEmpty() ? 0.5 : x.back() * 1.02);
    spectrum_->yAxis->scaleRange(1.08);
  }
  spectrum_->replot();
}

void DetectorView::UpdateSummary() {
  if (!result_) {
    summary_->setText(QString());
    return;
  }
  const DetectJobResult& r = *result_;
  QStringList counts;
  int quiet = 0;
  for (size_t d = 0; d < r.detectors.size(); ++d) {
    const int64_t c = r.FlaggedCount(static_cast<int>(d));
    if (c > 0) {
      counts << QStringLiteral("%1 %2").arg(Q(r.detectors[d].name)).arg(c);
    } else {
      ++quiet;
    }
  }
  QString text = tr("<b>%1 images</b> · <b>%2 flagged by any detector</b>")
                     .arg(r.ids.size())
                     .arg(FlaggedIndices(kAnyFlag).size());
  if (!counts.isEmpty()) text += QStringLiteral(" · ") + counts.join(QStringLiteral(" · "));
  if (quiet > 0) text += tr(" · %1 detectors flag none").arg(quiet);
  if (r.skipped > 0) text += tr(" · %1 unreadable skipped").arg(r.skipped);
  summary_->setText(text);
}

void DetectorView::UpdateFilterBox() {
  const int keep = proxy_->flag_filter();
  filter_box_->clear();
  if (!result_) {
    filter_box_->addItem(tr("All images"), kAllImages);
    filter_box_->setEnabled(false);
    grid_flagged_button_->setEnabled(false);
    grid_all_button_->setEnabled(false);
    text_filter_->setEnabled(false);
    return;
  }
  filter_box_->setEnabled(true);
  grid_flagged_button_->setEnabled(true);
  grid_all_button_->setEnabled(true);
  text_filter_->setEnabled(true);
  filter_box_->addItem(tr("All images (%1)").arg(result_->ids.size()), kAllImages);
  filter_box_->addItem(tr("Any flag (%1)").arg(FlaggedIndices(kAnyFlag).size()), kAnyFlag);
  for (size_t d = 0; d < result_->detectors.size(); ++d) {
    filter_box_->addItem(tr("Flagged by %1 (%2)")
                             .arg(Q(result_->detectors[d].name))
                             .arg(result_->FlaggedCount(static_cast<int>(d))),
                         static_cast<int>(d));
    filter_box_->setItemData(filter_box_->count() - 1, Q(result_->detectors[d].description),
                             Qt::ToolTipRole);
  }
  const int i = filter_box_->findData(keep);
  filter_box_->setCurrentIndex(i >= 0 ? i : 0);
}

void DetectorView::UpdateLearned() {
  learned_label_->setText(learned_->status_text());
  review_button_->setEnabled(learned_->has_model());
  std::vector<double> p = learned_->probability();
  const bool have = !p.empty() && result_ && p.size() == result_->ids.size();
  model_->SetProbability(have ? std::move(p) : std::vector<double>());
  table_->setColumnHidden(DetectTableModel::kProbabilityColumn, !have);
  reviewed_.clear();
  if (result_) UpdateBreakdown(model_->RowOfSourceIndex(shown_index_));
}

nlohmann::json DetectorView::FigureSpec() const {
  if (!source_) return nullptr;
  const std::string input = source_->spec();
  return {{"kind", "detectors"},
          {"params", {{"input", input}, {"reference", reference_field_->Resolve(Q(input)).toStdString()},
                      {"encoder", encoder_.isEmpty() ? std::string("none") : encoder_.toStdString()},
                      {"reference_limit", reference_limit_}, {"thresholds", thresholds().toStdString()}}}};
}

}  // namespace synthlens::ui
