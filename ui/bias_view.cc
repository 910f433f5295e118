#include "ui/bias_view.h"

#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>

#include "ui/plot_hint.h"
#include "core/jobs/bias_job.h"
#include "core/util/logging.h"
#include <QMenu>
#include "ui/figures/export_dialog.h"
#include "qcustomplot.h"
#include "ui/detector_reference.h"

namespace synthlens::ui {

namespace {

// Okabe-Ito blue (real) and vermillion (synthetic), as in the Embeddings tab.
const QColor kRealColor(0x00, 0x72, 0xb2);
const QColor kSyntheticColor(0xd5, 0x5e, 0x00);
const QColor kFlagBackground(0xf6, 0xc9, 0xb0);
const QColor kFlagText(0x9a, 0x2a, 0x00);

QString Q(const std::string& s) { return QString::fromStdString(s); }

QString ValueText(const QJsonValue& v) {
  if (v.isDouble()) return BiasView::Number(v.toDouble());
  if (v.isBool()) return v.toBool() ? QStringLiteral("yes") : QStringLiteral("no");
  if (v.isString()) return v.toString();
  return QStringLiteral("–");
}

QTableWidgetItem* Cell(const QString& text, bool number) {
  auto* item = new QTableWidgetItem(text);
  if (number) item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
  return item;
}

void MarkRow(QTableWidget* table, int row) {
  for (int c = 0; c < table->columnCount(); ++c) {
    if (QTableWidgetItem* item = table->item(row, c)) {
      item->setBackground(kFlagBackground);
      item->setForeground(kFlagText);
    }
  }
}

}  // namespace

QString BiasView::Number(double v) {
  if (!std::isfinite(v)) return QString::number(v);
  const double a = std::fabs(v);
  if (a < 1e9 && v == std::floor(v)) return QString::number(static_cast<qint64>(v));
  if (a != 0 && (a >= 1e5 || a < 1e-3)) return QString::number(v, 'g', 3);
  return QString::number(v, 'f', a >= 100 ? 2 : 4);
}

BiasView::BiasView(QWidget* parent)
    : QWidget(parent),
      job_(
          this, [this] { OnJobEnded(); }, [this] { Run(); },
          [this](Result<std::string> result, bool cancelled) {
            OnJobFinished(std::move(result), cancelled);
          }) {
  BuildUi();
  // Right-click: Export figure… / Copy as image / Copy data (docs/figures.md).
  setContextMenuPolicy(Qt::CustomContextMenu);
  connect(this, &QWidget::customContextMenuRequested, this, [this](const QPoint& pos) {
    QMenu menu(this);
    AddFigureActions(&menu, this, [this] { return FigureSpec(); });
    menu.exec(mapToGlobal(pos));
  });
  Clear(tr("No bias report yet: Run bias report"));
}

// job_ cancels and waits for its worker.
BiasView::~BiasView() = default;

void BiasView::BuildUi() {
  auto* layout = new QVBoxLayout(this);
  auto* bar = new QHBoxLayout();
  run_button_ = new QPushButton(tr("Run bias report"), this);
  run_button_->setToolTip(tr("`synthlens bias`: the open source as the synthetic set against the "
                             "reference as the real set (docs/bias.md)"));
  reference_field_ = new ReferenceField(this);
  bar->addWidget(run_button_);
  bar->addWidget(reference_field_, 1);
  layout->addLayout(bar);
  status_row_ = AddJobStatusRow(this, layout, QString(), [this] { return job_.permille(); });
  inputs_label_ = new QLabel(this);
  inputs_label_->setWordWrap(true);
  layout->addWidget(inputs_label_);

  auto* split = new QSplitter(Qt::Vertical, this);
  auto* top = new QSplitter(Qt::Horizontal, split);
  auto* balance = new QGroupBox(tr("Class balance"), top);
  auto* bl = new QVBoxLayout(balance);
  chi_label_ = new QLabel(balance);
  chi_label_->setWordWrap(true);
  chi_label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
  balance_plot_ = new QCustomPlot(balance);
  balance_plot_->setMinimumSize(260, 180);
  balance_plot_->yAxis->setLabel(tr("proportion"));
  balance_plot_->legend->setVisible(true);
  // One row (real | synthetic) along the top edge: no bar hides behind it.
  balance_plot_->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
  balance_plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignHCenter);
  bl->addWidget(chi_label_);
  SetPlotHint(balance_plot_, tr("No report yet: Run compares the class balance of the two sets"));
  ApplyPlotTheme(balance_plot_);
  bl->addWidget(balance_plot_, 1);
  auto* diversity = new QGroupBox(tr("Diversity and mode collapse"), top);
  auto* dl = new QVBoxLayout(diversity);
  diversity_label_ = new QLabel(diversity);
  diversity_label_->setWordWrap(true);
  diversity_table_ = new QTableWidget(diversity);
  diversity_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  diversity_table_->verticalHeader()->hide();
  diversity_table_->verticalHeader()->setDefaultSectionSize(19);
  diversity_table_->horizontalHeader()->setMinimumSectionSize(30);
  diversity_table_->setColumnCount(10);
  diversity_table_->setHorizontalHeaderLabels({tr("class"), tr("n real"), tr("n synth"),
                                               tr("Vendi real"), tr("Vendi synth"), tr("ratio"),
                                               tr("recall"), tr("coverage"), tr("FID"),
                                               tr("collapse")});
  diversity_table_->horizontalHeaderItem(5)->setToolTip(tr("Vendi(synthetic) / Vendi(real)"));
  diversity_table_->horizontalHeaderItem(9)->setToolTip(
      tr("Mode collapse: Vendi ratio below the threshold or recall below the threshold"));
  dl->addWidget(diversity_label_);
  dl->addWidget(diversity_table_, 1);
  top->addWidget(balance);
  top->addWidget(diversity);
  top->setStretchFactor(0, 1);
  top->setStretchFactor(1, 1);
  top->setSizes({460, 600});  // the diversity table has ten columns

  auto* shifts = new QGroupBox(tr("Statistics: real vs synthetic (share of images per bin)"), split);
  auto* sl = new QVBoxLayout(shifts);
  auto* shift_split = new QSplitter(Qt::Vertical, shifts);
  histogram_host_ = new QWidget(shift_split);
  histogram_grid_ = new QGridLayout(histogram_host_);
  histogram_grid_->setContentsMargins(0, 0, 0, 0);
  histogram_grid_->setSpacing(2);
  shifts_table_ = new QTableWidget(shift_split);
  shifts_table_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  shifts_table_->verticalHeader()->hide();
  shifts_table_->verticalHeader()->setDefaultSectionSize(19);
  shifts_table_->setColumnCount(7);
  shifts_table_->setHorizontalHeaderLabels({tr("statistic"), tr("KS D"), tr("p-value"), tr("flag"),
                                            tr("mean real"), tr("mean synth"), tr("SMD")});
  shifts_table_->horizontalHeaderItem(1)->setToolTip(
      tr("Two-sample Kolmogorov–Smirnov statistic: largest gap between the two CDFs"));
  shifts_table_->horizontalHeaderItem(6)->setToolTip(
      tr("Standardised mean difference (Cohen's d)"));
  shift_split->addWidget(histogram_host_);
  shift_split->addWidget(shifts_table_);
  shift_split->setStretchFactor(0, 3);
  shift_split->setStretchFactor(1, 1);
  shift_split->setSizes({320, 200});
  sl->addWidget(shift_split);
  split->addWidget(top);
  split->addWidget(shifts);
  split->setStretchFactor(0, 2);
  split->setStretchFactor(1, 3);
  layout->addWidget(split, 1);

  connect(run_button_, &QPushButton::clicked, this, &BiasView::Run);
  connect(status_row_.cancel, &QPushButton::clicked, this, [this] { job_.CancelAll(); });
}

QString BiasView::status_text() const { return status_row_.label->text(); }

QString BiasView::chi_square_text() const { return chi_label_->text(); }

void BiasView::SetSource(std::shared_ptr<const ImageSource> source) {
  job_.CancelAll();
  source_ = std::move(source);
  if (source_) reference_field_->SetSourceSpec(Q(source_->spec()));
  Clear(source_ ? tr("No bias report for %1 yet: Run bias report").arg(Q(source_->spec()))
                : tr("No source"));
}

void BiasView::SetReference(const QString& spec) { reference_field_->SetSpec(spec); }

QString BiasView::reference() const { return reference_field_->spec(); }

void BiasView::SetLimits(qint64 real, qint64 synthetic) {
  real_limit_ = real;
  synthetic_limit_ = synthetic;
}

void BiasView::Run() {
  if (!source_) {
    status_row_.label->setText(tr("Open a source first"));
    return;
  }
  if (job_.Supersede()) return;  // runs again once the old job has ended
  BiasJobOptions options;
  options.synthetic = source_->spec();
  options.real = reference_field_->Resolve(Q(options.synthetic)).toStdString();
  options.real_limit = real_limit_;
  options.synthetic_limit = synthetic_limit_;
  options.encoder = encoder_.toStdString();
  if (const std::string problem = options.Check(); !problem.empty()) {
    status_row_.label->setText(tr("Bias report: %1").arg(Q(problem)));
    SL_LOG_ERROR("bias: " << problem);
    return;
  }
  running_synthetic_ = options.synthetic;
  ShowJobProgress(status_row_);
  status_row_.label->setText(tr("Bias report: %1 (synthetic) vs %2 (real)…")
                                 .arg(Q(options.synthetic), Q(options.real)));
  run_button_->setText(tr("Restart"));
  job_.Start([options](const ProgressFn& progress) {
    return RunBiasJob(options, progress, [](const SourceIssue& issue) {
      SL_LOG_WARNING("bias: skipped " << issue.file << ": " << issue.reason);
    });
  });
}

void BiasView::Cancel() { job_.Cancel(); }

void BiasView::OnJobEnded() {
  HideJobProgress(status_row_);
  run_button_->setText(tr("Run bias report"));
}

void BiasView::OnJobFinished(Result<std::string> result, bool cancelled) {
  if (!source_ || running_synthetic_ != source_->spec()) {
    emit JobFinished(false);  // the report belonged to a source that is no longer open
    return;
  }
  if (cancelled) {
    status_row_.label->setText(has_report() ? tr("Bias report: cancelled (showing the previous one)")
                                            : tr("Bias report: cancelled"));
    emit JobFinished(false);
    return;
  }
  if (!result.ok()) {
    status_row_.label->setText(tr("Bias report failed: %1").arg(Q(result.error())));
    SL_LOG_ERROR("bias: " << result.error());
    emit JobFinished(false);
    return;
  }
  if (!SetReportJson(Q(*result))) {
    emit JobFinished(false);
    return;
  }
  emit JobFinished(true);
}

void BiasView::Clear(const QString& message) {
  report_ = {};
  report_json_.clear();
  status_row_.label->setText(message);
  inputs_label_->clear();
  chi_label_->setText(tr("No report"));
  balance_plot_->clearPlottables();
  SetPlotHint(balance_plot_, tr("No report yet: Run compares the class balance of the two sets"));
  balance_plot_->replot();
  diversity_label_->clear();
  diversity_table_->setRowCount(0);
  shifts_table_->setRowCount(0);
  for (QCustomPlot* plot : histogram_plots_) plot->deleteLater();
  histogram_plots_.clear();
  histogram_stats_.clear();
}

bool BiasView::SetReportJson(const QString& json) {
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &error);
  if (!doc.isObject()) {
    status_row_.label->setText(tr("Bias report: not a JSON object (%1)").arg(error.errorString()));
    return false;
  }
  const QString status = status_row_.label->text();
  Clear(status);
  report_ = doc.object();
  report_json_ = json;
  const QJsonObject inputs = report_.value(QStringLiteral("inputs")).toObject();
  const QJsonObject sizes = report_.value(QStringLiteral("sizes")).toObject();
  if (!inputs.isEmpty()) {
    status_row_.label->setText(
        tr("Bias report: %1 synthetic images (%2) vs %3 real (%4)")
            .arg(ValueText(inputs.value(QStringLiteral("synthetic_images"))),
                 inputs.value(QStringLiteral("synthetic")).toString(),
                 ValueText(inputs.value(QStringLiteral("real_images"))),
                 inputs.value(QStringLiteral("real")).toString()));
    QStringList parts;
    const QJsonValue encoder = inputs.value(QStringLiteral("encoder"));
    parts << (encoder.isString() ? tr("encoder %1").arg(encoder.toString())
                                 : tr("no encoder: statistics shifts only"));
    if (inputs.value(QStringLiteral("classes")).isString()) {
      parts << tr("classes: %1").arg(inputs.value(QStringLiteral("classes")).toString());
    }
    inputs_label_->setText(parts.join(QStringLiteral(" · ")));
  } else {
    status_row_.label->setText(tr("Bias report: %1 real, %2 synthetic images")
                                   .arg(ValueText(sizes.value(QStringLiteral("n_real"))),
                                        ValueText(sizes.value(QStringLiteral("n_synthetic")))));
  }
  RenderBalance(report_.value(QStringLiteral("class_balance")).toObject());
  RenderShifts(report_.value(QStringLiteral("shifts")).toObject());
  RenderDiversity(report_.value(QStringLiteral("diversity")).toObject(), sizes);
  emit ReportChanged();
  return true;
}

void BiasView::RenderBalance(const QJsonObject& balance) {
  balance_plot_->clearPlottables();
  if (balance.isEmpty() || balance.contains(QStringLiteral("skipped"))) {
    chi_label_->setText(tr("Class balance skipped: %1")
                            .arg(balance.value(QStringLiteral("skipped")).toString(tr("no data"))));
    SetPlotHint(balance_plot_, tr("No class balance: %1")
                                   .arg(balance.value(QStringLiteral("skipped")).toString(tr("no data"))));
    balance_plot_->replot();
    return;
  }
  SetPlotHint(balance_plot_, QString());
  const QJsonObject chi = balance.value(QStringLiteral("chi_square")).toObject();
  const bool flag = chi.value(QStringLiteral("flag")).toBool();
  QString text;
  if (chi.value(QStringLiteral("p_value")).isDouble()) {
    text = tr("χ² = %1 (dof %2), p = %3 — %4")
               .arg(Number(chi.value(QStringLiteral("statistic")).toDouble()),
                    ValueText(chi.value(QStringLiteral("dof"))),
                    Number(chi.value(QStringLiteral("p_value")).toDouble()),
                    flag ? tr("<b style='color:#9a2a00'>⚑ flagged: the synthetic class "
                              "proportions differ from the real ones</b>")
                         : tr("not flagged"));
  } else {
    text = tr("χ² test skipped (fewer than two classes tested)");
  }
  const QJsonObject over = balance.value(QStringLiteral("most_over_represented")).toObject();
  const QJsonObject under = balance.value(QStringLiteral("most_under_represented")).toObject();
  text += tr("<br>total variation %1")
              .arg(Number(balance.value(QStringLiteral("total_variation")).toDouble()));
  if (!over.isEmpty()) {
    text += tr(" · most over-represented %1 (%2)")
                .arg(over.value(QStringLiteral("name")).toString().toHtmlEscaped(),
                     Number(over.value(QStringLiteral("difference")).toDouble()));
  }
  if (!under.isEmpty()) {
    text += tr(" · most under-represented %1 (%2)")
                .arg(under.value(QStringLiteral("name")).toString().toHtmlEscaped(),
                     Number(under.value(QStringLiteral("difference")).toDouble()));
  }
  chi_label_->setText(text);

  const QJsonArray classes = balance.value(QStringLiteral("classes")).toArray();
  auto* real = new QCPBars(balance_plot_->xAxis, balance_plot_->yAxis);
  auto* synthetic = new QCPBars(balance_plot_->xAxis, balance_plot_->yAxis);
  auto* group = new QCPBarsGroup(balance_plot_);
  for (QCPBars* b : {real, synthetic}) {
    b->setWidth(0.38);
    b->setBarsGroup(group);
  }
  real->setName(tr("real"));
  synthetic->setName(tr("synthetic"));
  real->setPen(QPen(kRealColor.darker(120)));
  real->setBrush(kRealColor);
  synthetic->setPen(QPen(kSyntheticColor.darker(120)));
  synthetic->setBrush(kSyntheticColor);
  auto ticker = QSharedPointer<QCPAxisTickerText>::create();
  double top = 0;
  for (int i = 0; i < classes.size(); ++i) {
    const QJsonObject c = classes[i].toObject();
    const double p = c.value(QStringLiteral("real_proportion")).toDouble();
    const double q = c.value(QStringLiteral("synthetic_proportion")).toDouble();
    real->addData(i, p);
    synthetic->addData(i, q);
    top = std::max({top, p, q});
    QString name = c.value(QStringLiteral("name")).toString();
    if (name.isEmpty()) name = QString::number(c.value(QStringLiteral("class")).toInt());
    ticker->addTick(i, name);
  }
  balance_plot_->xAxis->setTicker(ticker);
  // Rotated labels run down-left from their tick, so the last class's name stays inside.
  balance_plot_->xAxis->setTickLabelRotation(classes.size() > 5 ? -35 : 0);
  balance_plot_->xAxis->setRange(-0.6, classes.size() - 0.4);
  balance_plot_->yAxis->setRange(0, std::max(0.05, top * 1.45));  // room for the legend
  balance_plot_->replot();
}

void BiasView::RenderShifts(const QJsonObject& shifts) {
  // The statistics in ImageStatsFields order first, any other after them.
  QStringList order = {QStringLiteral("brightness"), QStringLiteral("contrast"),
                       QStringLiteral("saturation"), QStringLiteral("sharpness"),
                       QStringLiteral("entropy"),    QStringLiteral("mean_r"),
                       QStringLiteral("mean_g"),     QStringLiteral("mean_b")};
  QStringList stats;
  for (const QString& s : order) {
    if (shifts.contains(s)) stats << s;
  }
  for (auto it = shifts.begin(); it != shifts.end(); ++it) {
    if (!stats.contains(it.key())) stats << it.key();
  }
  histogram_stats_ = stats;
  shifts_table_->setRowCount(static_cast<int>(stats.size()));
  const int columns = 4;
  QFont small = font();
  small.setPointSizeF(small.pointSizeF() * 0.8);
  for (int i = 0; i < stats.size(); ++i) {
    const QJsonObject s = shifts.value(stats[i]).toObject();
    const bool flag = s.value(QStringLiteral("flag")).toBool();
    const QJsonObject real = s.value(QStringLiteral("real")).toObject();
    const QJsonObject synth = s.value(QStringLiteral("synthetic")).toObject();
    shifts_table_->setItem(i, 0, Cell(stats[i], false));
    shifts_table_->setItem(i, kKsColumn, Cell(ValueText(s.value(QStringLiteral("ks_statistic"))), true));
    auto* p = Cell(ValueText(s.value(QStringLiteral("p_value"))), true);
    p->setToolTip(tr("method: %1").arg(s.value(QStringLiteral("method")).toString()));
    shifts_table_->setItem(i, kPColumn, p);
    shifts_table_->setItem(i, kFlagColumn, Cell(flag ? tr("⚑ shifted") : QString(), false));
    shifts_table_->setItem(i, 4, Cell(ValueText(real.value(QStringLiteral("mean"))), true));
    shifts_table_->setItem(i, 5, Cell(ValueText(synth.value(QStringLiteral("mean"))), true));
    shifts_table_->setItem(
        i, 6, Cell(ValueText(s.value(QStringLiteral("standardised_mean_difference"))), true));
    if (flag) MarkRow(shifts_table_, i);

    // Overlaid step histograms, as shares of each side's images (the sets differ in size).
    auto* plot = new QCustomPlot(histogram_host_);
    ApplyPlotTheme(plot);
    plot->setMinimumSize(150, 110);
    plot->setObjectName(QStringLiteral("histogram_") + stats[i]);
    plot->plotLayout()->insertRow(0);
    auto* title = new QCPTextElement(
        plot,
        tr("%1 · D %2 · p %3%4")
            .arg(stats[i], ValueText(s.value(QStringLiteral("ks_statistic"))),
                 ValueText(s.value(QStringLiteral("p_value"))), flag ? tr(" ⚑") : QString()),
        small);
    if (flag) title->setTextColor(kFlagText);
    plot->plotLayout()->addElement(0, 0, title);
    plot->xAxis->setTickLabelFont(small);
    plot->yAxis->setTickLabelFont(small);
    plot->xAxis->ticker()->setTickCount(3);
    plot->yAxis->ticker()->setTickCount(3);
    plot->axisRect()->setAutoMargins(QCP::msLeft | QCP::msBottom);
    plot->axisRect()->setMargins(QMargins(0, 0, 4, 0));
    const QJsonObject h = s.value(QStringLiteral("histogram")).toObject();
    const QJsonArray edges = h.value(QStringLiteral("edges")).toArray();
    double top = 0;
    const std::pair<const char*, QColor> sides[] = {{"real", kRealColor},
                                                    {"synthetic", kSyntheticColor}};
    for (const auto& [key, color] : sides) {
      const QJsonArray counts = h.value(QLatin1String(key)).toArray();
      if (edges.size() != counts.size() + 1 || counts.isEmpty()) continue;
      double total = 0;
      for (const QJsonValue& c : counts) total += c.toDouble();
      if (total <= 0) continue;
      QVector<double> x, y;
      for (int b = 0; b < counts.size(); ++b) {
        x << edges[b].toDouble();
        y << counts[b].toDouble() / total;
        top = std::max(top, y.back());
      }
      x << edges[counts.size()].toDouble();
      y << y.back();
      QCPGraph* g = plot->addGraph();
      g->setData(x, y, true);
      g->setLineStyle(QCPGraph::lsStepLeft);
      g->setPen(QPen(color, 1.5));
      QColor fill = color;
      fill.setAlpha(60);
      g->setBrush(fill);
      g->setName(QLatin1String(key));
    }
    if (!edges.isEmpty()) plot->xAxis->setRange(edges.first().toDouble(), edges.last().toDouble());
    plot->yAxis->setRange(0, std::max(1e-3, top * 1.1));
    if (i == 0) {
      // One line under the title, outside the bars.
      plot->legend->setVisible(true);
      plot->legend->setFont(small);
      plot->legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
      plot->legend->setColumnSpacing(8);
      plot->axisRect()->insetLayout()->take(plot->legend);
      plot->plotLayout()->insertRow(1);
      plot->plotLayout()->addElement(1, 0, plot->legend);
      plot->plotLayout()->setRowStretchFactor(1, 0.001);
    }
    plot->replot();
    histogram_grid_->addWidget(plot, i / columns, i % columns);
    histogram_plots_.push_back(plot);
  }
  shifts_table_->resizeColumnsToContents();
}

void BiasView::RenderDiversity(const QJsonObject& diversity, const QJsonObject& sizes) {
  diversity_table_->setRowCount(0);
  if (diversity.isEmpty() || diversity.contains(QStringLiteral("skipped"))) {
    diversity_label_->setText(tr("Diversity skipped: %1")
                                  .arg(diversity.value(QStringLiteral("skipped")).toString(tr("no data"))));
    return;
  }
  QString text;
  if (diversity.contains(QStringLiteral("error"))) {
    text = tr("neighbourhood metrics: %1 · ").arg(diversity.value(QStringLiteral("error")).toString());
  }
  const QJsonArray collapsed = diversity.value(QStringLiteral("mode_collapse_classes")).toArray();
  QStringList names;
  const QJsonObject per_class = diversity.value(QStringLiteral("per_class")).toObject();
  for (const QJsonValue& c : collapsed) {
    const QString key = QString::number(c.toInt());
    const QString name = per_class.value(key).toObject().value(QStringLiteral("name")).toString();
    names << (name.isEmpty() ? key : name);
  }
  text += collapsed.isEmpty()
              ? tr("no class flagged for mode collapse")
              : tr("<b style='color:#9a2a00'>⚑ mode collapse: %1</b>").arg(names.join(QStringLiteral(", ")));
  text += tr(" · precision %1 · density %2")
              .arg(ValueText(diversity.value(QStringLiteral("precision"))),
                   ValueText(diversity.value(QStringLiteral("density"))));
  diversity_label_->setText(text);

  auto add_row = [this](const QString& name, const QJsonObject& o, const QJsonValue& n_real,
                        const QJsonValue& n_synth) {
    const int row = diversity_table_->rowCount();
    diversity_table_->insertRow(row);
    diversity_table_->setItem(row, 0, Cell(name, false));
    diversity_table_->setItem(row, 1, Cell(ValueText(n_real), true));
    diversity_table_->setItem(row, 2, Cell(ValueText(n_synth), true));
    const char* keys[] = {"vendi_real", "vendi_synthetic", "vendi_ratio", "recall", "coverage", "fid"};
    for (int k = 0; k < 6; ++k) {
      diversity_table_->setItem(row, 3 + k, Cell(ValueText(o.value(QLatin1String(keys[k]))), true));
    }
    const bool collapse = o.value(QStringLiteral("mode_collapse")).toBool();
    QString last = collapse ? tr("⚑ collapsed") : QString();
    if (o.contains(QStringLiteral("skipped"))) last = o.value(QStringLiteral("skipped")).toString();
    diversity_table_->setItem(row, 9, Cell(last, false));
    if (collapse) MarkRow(diversity_table_, row);
  };
  add_row(tr("all"), diversity, sizes.value(QStringLiteral("n_real")),
          sizes.value(QStringLiteral("n_synthetic")));
  QStringList keys = per_class.keys();
  std::sort(keys.begin(), keys.end(), [](const QString& a, const QString& b) { return a.toInt() < b.toInt(); });
  for (const QString& key : keys) {
    const QJsonObject o = per_class.value(key).toObject();
    const QString name = o.value(QStringLiteral("name")).toString();
    add_row(name.isEmpty() ? key : name, o, o.value(QStringLiteral("n_real")),
            o.value(QStringLiteral("n_synthetic")));
  }
  diversity_table_->resizeColumnsToContents();
}

QCustomPlot* BiasView::histogram_plot(const QString& statistic) const {
  const int i = histogram_stats_.indexOf(statistic);
  return i >= 0 && i < static_cast<int>(histogram_plots_.size()) ? histogram_plots_[i] : nullptr;
}

int BiasView::ShiftRow(const QString& statistic) const {
  for (int r = 0; r < shifts_table_->rowCount(); ++r) {
    if (shifts_table_->item(r, 0) && shifts_table_->item(r, 0)->text() == statistic) return r;
  }
  return -1;
}

nlohmann::json BiasView::FigureSpec() const {
  if (!source_) return nullptr;
  const std::string synthetic = source_->spec();
  return {{"kind", "bias"},
          {"params", {{"real", reference_field_->Resolve(Q(synthetic)).toStdString()}, {"synthetic", synthetic},
                      {"encoder", encoder_.isEmpty() ? std::string("none") : encoder_.toStdString()},
                      {"real_limit", real_limit_}, {"synthetic_limit", synthetic_limit_}}}};
}

}  // namespace synthlens::ui
