#pragma once

#include <QJsonObject>
#include <QStringList>
#include <QWidget>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTreeWidget;
class QTreeWidgetItem;

namespace synthlens::ui {

// Renders the JSON object of `synthlens compare` (core/metrics/set_metrics.h CompareSetsJson):
// every top-level number with its interval beside it, "per_class" as a table,
// "settings" in a collapsed section; and a sweep plot of one metric against img2img strength.
// Pure view: the embedding view computes, this panel shows (and asks through signals).
class MetricsPanel : public QWidget {
  Q_OBJECT

 public:
  explicit MetricsPanel(QWidget* parent = nullptr);

  // Shows one CompareSetsJson result; `title` names the two sets. False (and a message shown)
  // when `json` is not a JSON object.
  bool SetMetricsJson(const QString& json, const QString& title);
  void SetClassNames(const QStringList& names);
  // One CompareSetsJson result per strength, in increasing strength.
  void SetSweep(std::vector<double> strengths, std::vector<QString> jsons);
  void SetSweepMetric(const QString& key);
  void SetCompareEnabled(bool on, const QString& tooltip);
  void SetSweepEnabled(bool on, const QString& tooltip);
  void SetMessage(const QString& text);

  QString sweep_metric() const;
  int sweep_images() const;
  int sweep_steps() const;
  // Half-sampling rounds for the confidence intervals of Compare (0: none).
  int bootstrap() const;
  // Value column of a top-level metric (empty when absent), its interval column, row counts.
  QString MetricText(const QString& key) const;
  QString IntervalText(const QString& key) const;
  int metric_count() const;
  int per_class_rows() const;
  int per_class_columns() const;
  bool settings_expanded() const;
  int sweep_point_count() const;
  double SweepValue(int i) const;
  QCustomPlot* sweep_plot() const { return sweep_plot_; }

 signals:
  void CompareRequested();
  void SweepRequested(int images, int steps);

 private:
  void RenderSweep();
  void ShowSweepPoint(int i);

  QLabel* title_ = nullptr;
  QPushButton* compare_button_ = nullptr;
  QTreeWidget* tree_ = nullptr;
  QTreeWidgetItem* settings_item_ = nullptr;
  QTableWidget* per_class_ = nullptr;
  QLabel* per_class_label_ = nullptr;
  QComboBox* metric_box_ = nullptr;
  QSpinBox* bootstrap_box_ = nullptr;
  QSpinBox* images_box_ = nullptr;
  QSpinBox* steps_box_ = nullptr;
  QPushButton* sweep_button_ = nullptr;
  QCustomPlot* sweep_plot_ = nullptr;
  QStringList class_names_;
  std::vector<double> strengths_;
  std::vector<QJsonObject> sweep_;
  std::vector<double> sweep_values_;
};

}  // namespace synthlens::ui
