#include "ui/metrics_panel.h"

#include <QComboBox>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <cmath>

#include "ui/plot_hint.h"
#include "qcustomplot.h"

namespace synthlens::ui {
namespace {

// The keys of CLI.md first, in that order; any other number follows alphabetically.
const char* const kMetricOrder[] = {"fid",         "kid_mean",        "kid_std",  "precision",
                                    "recall",      "density",         "coverage", "vendi_real",
                                    "vendi_synthetic", "authpct",     "c2st_accuracy"};

QString Number(double v) {
  if (!std::isfinite(v)) return QString::number(v);
  const double a = std::fabs(v);
  // Counts (n_real, sizes in settings) read as integers, not "5.0000".
  if (a < 1e9 && v == std::floor(v)) return QString::number(static_cast<qint64>(v));
  if (a != 0 && (a >= 1e5 || a < 1e-3)) return QString::number(v, 'g', 4);
  return QString::number(v, 'f', a >= 100 ? 2 : 4);
}

QString ValueText(const QJsonValue& v) {
  if (v.isDouble()) return Number(v.toDouble());
  if (v.isBool()) return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
  if (v.isString()) return v.toString();
  if (v.isNull()) return QStringLiteral("null");
  return QString::fromUtf8(QJsonDocument(v.isArray() ? QJsonDocument(v.toArray())
                                                     : QJsonDocument(v.toObject()))
                               .toJson(QJsonDocument::Compact));
}

void AddTree(QTreeWidgetItem* parent, const QString& key, const QJsonValue& v) {
  auto* item = new QTreeWidgetItem(parent, {key, v.isObject() || v.isArray() ? QString() : ValueText(v)});
  if (v.isObject()) {
    const QJsonObject o = v.toObject();
    for (auto it = o.begin(); it != o.end(); ++it) AddTree(item, it.key(), it.value());
  } else if (v.isArray()) {
    const QJsonArray a = v.toArray();
    bool scalars = true;
    for (const QJsonValue& e : a) scalars = scalars && !e.isObject() && !e.isArray();
    if (scalars) {
      item->setText(1, ValueText(v));
    } else {
      for (int i = 0; i < a.size(); ++i) AddTree(item, QString::number(i), a[i]);
    }
  }
}

QStringList OrderedNumberKeys(const QJsonObject& o) {
  QStringList keys;
  for (const char* k : kMetricOrder) {
    if (o.value(QLatin1String(k)).isDouble()) keys << QLatin1String(k);
  }
  for (auto it = o.begin(); it != o.end(); ++it) {
    if (it.value().isDouble() && !keys.contains(it.key())) keys << it.key();
  }
  return keys;
}

}  // namespace

MetricsPanel::MetricsPanel(QWidget* parent) : QWidget(parent) {
  auto* layout = new QVBoxLayout(this);
  layout->setContentsMargins(0, 0, 0, 0);
  auto* top = new QHBoxLayout();
  title_ = new QLabel(tr("No comparison yet"), this);
  title_->setWordWrap(true);
  compare_button_ = new QPushButton(tr("Compare"), this);
  compare_button_->setToolTip(tr("Every metric of `synthlens compare`: the real images shown in "
                                 "the grid vs the synthetic set"));
  bootstrap_box_ = new QSpinBox(this);
  bootstrap_box_->setRange(0, 1000);
  bootstrap_box_->setValue(20);
  bootstrap_box_->setPrefix(tr("interval rounds "));
  bootstrap_box_->setToolTip(tr("Rounds of half-sampling for the 95 % intervals (0: none); each costs about half a Compare"));
  top->addWidget(title_, 1);
  top->addWidget(bootstrap_box_);
  top->addWidget(compare_button_);
  layout->addLayout(top);

  auto* split = new QSplitter(Qt::Vertical, this);
  tree_ = new QTreeWidget(split);
  tree_->setColumnCount(3);
  tree_->setHeaderLabels({tr("metric"), tr("value"), tr("interval")});
  tree_->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
  tree_->setAlternatingRowColors(true);
  tree_->setRootIsDecorated(true);
  auto* per_class_host = new QWidget(split);
  auto* pcl = new QVBoxLayout(per_class_host);
  pcl->setContentsMargins(0, 0, 0, 0);
  per_class_label_ = new QLabel(tr("Per class"), per_class_host);
  per_class_ = new QTableWidget(per_class_host);
  per_class_->setEditTriggers(QAbstractItemView::NoEditTriggers);
  per_class_->verticalHeader()->setDefaultSectionSize(20);
  per_class_->horizontalHeader()->setDefaultSectionSize(70);
  pcl->addWidget(per_class_label_);
  pcl->addWidget(per_class_);

  auto* sweep_box = new QGroupBox(tr("Strength sweep (img2img, current diffusion model)"), split);
  auto* sl = new QVBoxLayout(sweep_box);
  auto* controls = new QHBoxLayout();
  metric_box_ = new QComboBox(sweep_box);
  for (const char* k : kMetricOrder) metric_box_->addItem(QLatin1String(k));
  metric_box_->setCurrentText(QStringLiteral("fid"));
  images_box_ = new QSpinBox(sweep_box);
  images_box_->setRange(2, 10000);
  images_box_->setValue(32);
  images_box_->setToolTip(tr("Real images of the grid (the selection, if any) to generate from, "
                             "evenly spaced"));
  steps_box_ = new QSpinBox(sweep_box);
  steps_box_->setRange(1, 1000);
  steps_box_->setValue(10);
  steps_box_->setToolTip(tr("Sampling steps at strength 1"));
  sweep_button_ = new QPushButton(tr("Run sweep"), sweep_box);
  sweep_button_->setToolTip(tr("For strength 0.1 … 1.0: generate one img2img view per image, "
                               "embed, and compare real vs generated"));
  controls->addWidget(new QLabel(tr("Metric"), sweep_box));
  controls->addWidget(metric_box_);
  controls->addWidget(new QLabel(tr("Images"), sweep_box));
  controls->addWidget(images_box_);
  controls->addWidget(new QLabel(tr("Steps"), sweep_box));
  controls->addWidget(steps_box_);
  controls->addStretch(1);
  controls->addWidget(sweep_button_);
  sl->addLayout(controls);
  sweep_plot_ = new QCustomPlot(sweep_box);
  sweep_plot_->setMinimumHeight(150);
  sweep_plot_->xAxis->setLabel(tr("img2img strength"));
  sweep_plot_->xAxis->setRange(0, 1.05);
  sweep_plot_->yAxis->setLabel(QStringLiteral("fid"));
  sweep_plot_->addGraph();
  sweep_plot_->graph(0)->setPen(QPen(QColor(204, 121, 167), 2));
  sweep_plot_->graph(0)->setScatterStyle(
      QCPScatterStyle(QCPScatterStyle::ssDisc, QPen(QColor(204, 121, 167).darker(150)),
                      QBrush(QColor(204, 121, 167)), 8));
  SetPlotHint(sweep_plot_, tr("No sweep yet: Run sweep generates views at strengths 0.1 … 1.0"));
  ApplyPlotTheme(sweep_plot_);
  sl->addWidget(sweep_plot_, 1);
  split->setStretchFactor(0, 3);
  split->setStretchFactor(1, 1);
  split->setStretchFactor(2, 2);
  layout->addWidget(split, 1);

  connect(compare_button_, &QPushButton::clicked, this, &MetricsPanel::CompareRequested);
  connect(sweep_button_, &QPushButton::clicked, this,
          [this] { emit SweepRequested(images_box_->value(), steps_box_->value()); });
  connect(metric_box_, &QComboBox::currentTextChanged, this, [this] { RenderSweep(); });
  // Clicking a sweep point shows that strength's full comparison above.
  connect(sweep_plot_, &QCustomPlot::mousePress, this, [this](QMouseEvent* e) {
    int best = -1;
    double best_d = 12 * 12;
    for (size_t i = 0; i < strengths_.size(); ++i) {
      if (!std::isfinite(sweep_values_[i])) continue;
      const double dx = sweep_plot_->xAxis->coordToPixel(strengths_[i]) - e->position().x();
      const double dy = sweep_plot_->yAxis->coordToPixel(sweep_values_[i]) - e->position().y();
      if (dx * dx + dy * dy < best_d) best_d = dx * dx + dy * dy, best = static_cast<int>(i);
    }
    if (best >= 0) ShowSweepPoint(best);
  });
}

bool MetricsPanel::SetMetricsJson(const QString& json, const QString& title) {
  tree_->clear();
  per_class_->clear();
  per_class_->setRowCount(0);
  per_class_->setColumnCount(0);
  settings_item_ = nullptr;
  QJsonParseError error;
  const QJsonDocument doc = QJsonDocument::fromJson(json.toUtf8(), &error);
  if (!doc.isObject()) {
    title_->setText(tr("Cannot read the metrics: %1").arg(error.errorString()));
    return false;
  }
  title_->setText(title);
  const QJsonObject o = doc.object();
  const QJsonObject intervals = o.value(QStringLiteral("intervals")).toObject();
  for (const QString& key : OrderedNumberKeys(o)) {
    auto* item = new QTreeWidgetItem(tree_, {key, Number(o.value(key).toDouble())});
    const QJsonArray iv = intervals.value(key).toArray();
    if (iv.size() == 2) {
      item->setText(2, QStringLiteral("[%1, %2]").arg(Number(iv[0].toDouble()), Number(iv[1].toDouble())));
    }
    item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
  }
  // Anything else that is not one of the three sections is shown as a nested entry, so a new
  // key of `compare` is never silently dropped.
  for (auto it = o.begin(); it != o.end(); ++it) {
    const QString& key = it.key();
    if (it.value().isDouble() || key == QLatin1String("settings") ||
        key == QLatin1String("per_class")) {
      continue;
    }
    if (key == QLatin1String("intervals")) {
      // Intervals of keys without a top-level number would otherwise be lost.
      for (auto iv = intervals.begin(); iv != intervals.end(); ++iv) {
        if (!o.value(iv.key()).isDouble()) AddTree(tree_->invisibleRootItem(), iv.key(), iv.value());
      }
      continue;
    }
    AddTree(tree_->invisibleRootItem(), key, it.value());
  }
  if (o.contains(QStringLiteral("settings"))) {
    AddTree(tree_->invisibleRootItem(), QStringLiteral("settings"), o.value(QStringLiteral("settings")));
    settings_item_ = tree_->topLevelItem(tree_->topLevelItemCount() - 1);
    settings_item_->setExpanded(false);
    settings_item_->setText(1, tr("(%1 entries)").arg(settings_item_->childCount()));
  }

  // per_class: {class: {metric: value}} or [{class|label: c, metric: value}, ...].
  std::vector<std::pair<QString, QJsonObject>> rows;
  const QJsonValue pc = o.value(QStringLiteral("per_class"));
  if (pc.isObject()) {
    const QJsonObject pco = pc.toObject();
    for (auto it = pco.begin(); it != pco.end(); ++it) rows.emplace_back(it.key(), it.value().toObject());
    std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
      bool oa = false, ob = false;
      const int ia = a.first.toInt(&oa), ib = b.first.toInt(&ob);
      return oa && ob ? ia < ib : a.first < b.first;
    });
  } else if (pc.isArray()) {
    for (const QJsonValue& v : pc.toArray()) {
      const QJsonObject r = v.toObject();
      QJsonValue c = r.value(QStringLiteral("class"));
      if (c.isUndefined()) c = r.value(QStringLiteral("label"));
      rows.emplace_back(c.isDouble() ? QString::number(c.toInt()) : c.toString(), r);
    }
  }
  QStringList columns;
  for (const auto& [name, r] : rows) {
    for (const QString& k : OrderedNumberKeys(r)) {
      if (k != QLatin1String("class") && k != QLatin1String("label") && !columns.contains(k)) columns << k;
    }
  }
  per_class_->setRowCount(static_cast<int>(rows.size()));
  per_class_->setColumnCount(columns.size());
  per_class_->setHorizontalHeaderLabels(columns);
  QStringList row_names;
  for (int r = 0; r < static_cast<int>(rows.size()); ++r) {
    bool is_int = false;
    const int label = rows[r].first.toInt(&is_int);
    row_names << (is_int && label >= 0 && label < class_names_.size()
                      ? QStringLiteral("%1 %2").arg(label).arg(class_names_[label])
                      : rows[r].first);
    for (int c = 0; c < columns.size(); ++c) {
      const QJsonValue v = rows[r].second.value(columns[c]);
      auto* item = new QTableWidgetItem(v.isDouble() ? Number(v.toDouble()) : QString());
      item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
      per_class_->setItem(r, c, item);
    }
  }
  per_class_->setVerticalHeaderLabels(row_names);
  per_class_label_->setText(rows.empty() ? tr("Per class: none (labels missing on one side)")
                                         : rows.size() == 1 ? tr("Per class (1 class)")
                                                          : tr("Per class (%1 classes)").arg(rows.size()));
  return true;
}

void MetricsPanel::SetClassNames(const QStringList& names) { class_names_ = names; }

void MetricsPanel::SetSweep(std::vector<double> strengths, std::vector<QString> jsons) {
  strengths_ = std::move(strengths);
  sweep_.clear();
  for (const QString& j : jsons) sweep_.push_back(QJsonDocument::fromJson(j.toUtf8()).object());
  RenderSweep();
  if (!sweep_.empty()) ShowSweepPoint(static_cast<int>(sweep_.size()) - 1);
}

void MetricsPanel::SetSweepMetric(const QString& key) { metric_box_->setCurrentText(key); }

void MetricsPanel::SetCompareEnabled(bool on, const QString& tooltip) {
  compare_button_->setEnabled(on);
  compare_button_->setToolTip(tooltip);
}

void MetricsPanel::SetSweepEnabled(bool on, const QString& tooltip) {
  sweep_button_->setEnabled(on);
  sweep_button_->setToolTip(tooltip);
}

void MetricsPanel::SetMessage(const QString& text) { title_->setText(text); }

QString MetricsPanel::sweep_metric() const { return metric_box_->currentText(); }
int MetricsPanel::sweep_images() const { return images_box_->value(); }
int MetricsPanel::sweep_steps() const { return steps_box_->value(); }
int MetricsPanel::bootstrap() const { return bootstrap_box_->value(); }

void MetricsPanel::RenderSweep() {
  const QString key = metric_box_->currentText();
  sweep_values_.clear();
  QVector<double> xs, ys;
  for (size_t i = 0; i < sweep_.size() && i < strengths_.size(); ++i) {
    const QJsonValue v = sweep_[i].value(key);
    const double y = v.isDouble() ? v.toDouble() : std::nan("");
    sweep_values_.push_back(y);
    if (std::isfinite(y)) {
      xs << strengths_[i];
      ys << y;
    }
  }
  sweep_plot_->graph(0)->setData(xs, ys);
  SetPlotHint(sweep_plot_, xs.isEmpty() ? tr("No sweep yet: Run sweep generates views at strengths 0.1 … 1.0")
                                        : QString());
  sweep_plot_->yAxis->setLabel(key);
  bool found = false;
  const QCPRange r = sweep_plot_->graph(0)->getValueRange(found);
  if (found) {
    const double pad = std::max(1e-6, 0.1 * r.size());
    sweep_plot_->yAxis->setRange(r.lower - pad, r.upper + pad);
  }
  sweep_plot_->replot(QCustomPlot::rpQueuedReplot);
}

void MetricsPanel::ShowSweepPoint(int i) {
  if (i < 0 || i >= static_cast<int>(sweep_.size())) return;
  SetMetricsJson(QString::fromUtf8(QJsonDocument(sweep_[i]).toJson(QJsonDocument::Compact)),
                 tr("Real vs img2img views at strength %1").arg(strengths_[i], 0, 'f', 1));
}

QString MetricsPanel::MetricText(const QString& key) const {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    if (tree_->topLevelItem(i)->text(0) == key) return tree_->topLevelItem(i)->text(1);
  }
  return {};
}

QString MetricsPanel::IntervalText(const QString& key) const {
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    if (tree_->topLevelItem(i)->text(0) == key) return tree_->topLevelItem(i)->text(2);
  }
  return {};
}

int MetricsPanel::metric_count() const {
  int n = 0;
  for (int i = 0; i < tree_->topLevelItemCount(); ++i) {
    n += tree_->topLevelItem(i)->childCount() == 0 && !tree_->topLevelItem(i)->text(1).isEmpty();
  }
  return n;
}

int MetricsPanel::per_class_rows() const { return per_class_->rowCount(); }
int MetricsPanel::per_class_columns() const { return per_class_->columnCount(); }
bool MetricsPanel::settings_expanded() const { return settings_item_ && settings_item_->isExpanded(); }
int MetricsPanel::sweep_point_count() const { return sweep_plot_->graph(0)->dataCount(); }
double MetricsPanel::SweepValue(int i) const {
  return i >= 0 && i < static_cast<int>(sweep_values_.size()) ? sweep_values_[i] : std::nan("");
}

}  // namespace synthlens::ui
