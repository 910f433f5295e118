#pragma once

#include <nlohmann/json.hpp>

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QWidget>
#include <memory>
#include <string>
#include <vector>

#include "core/io/image_source.h"
#include "core/util/result.h"
#include "ui/background_job.h"
#include "ui/job_status_row.h"

class QCustomPlot;
class QGridLayout;
class QLabel;
class QPushButton;
class QTableWidget;

namespace synthlens::ui {

class ReferenceField;

// The "Bias" tab (docs/studio.md, docs/bias.md): `synthlens bias` with the open source as the
// synthetic set and the reference as the real set, run in the background (progress + Cancel).
// Shows the class balance (real vs synthetic proportions per class, chi-square), real vs
// synthetic histograms of every per-image statistic with the KS test, and the diversity part
// (Vendi, recall/coverage overall and per class, per-class FID, mode collapse) in a table.
class BiasView : public QWidget {
  Q_OBJECT

 public:
  explicit BiasView(QWidget* parent = nullptr);
  ~BiasView() override;

  // The synthetic set (the grid's source); drops the previous report.
  void SetSource(std::shared_ptr<const ImageSource> source);
  // Encoder for classes and diversity: "builtin" (default), a folder, "pixels[:RES]", or "none"
  // (statistics shifts only).
  void SetEncoder(const QString& package) { encoder_ = package; }
  // The real set; "" = the open source itself.
  void SetReference(const QString& spec);
  QString reference() const;
  // The figure spec of what the tab shows (docs/figures.md); null before there is a source.
  nlohmann::json FigureSpec() const;
  // First N images of each side (-1 all).
  void SetLimits(qint64 real, qint64 synthetic);

  void Run();  // supersedes a running report
  void Cancel();
  bool busy() const { return job_.busy(); }
  bool has_report() const { return !report_.isEmpty(); }
  const QJsonObject& report() const { return report_; }
  QString report_json() const { return report_json_; }
  QString status_text() const;

  // Shows one BiasReportJson / RunBiasJob object (pure view; false for text that is not a JSON
  // object).
  bool SetReportJson(const QString& json);

  // What the tab shows, for tests and the screenshot.
  QString chi_square_text() const;
  QCustomPlot* balance_plot() const { return balance_plot_; }
  QTableWidget* shifts_table() const { return shifts_table_; }
  QTableWidget* diversity_table() const { return diversity_table_; }
  QStringList histogram_statistics() const { return histogram_stats_; }
  QCustomPlot* histogram_plot(const QString& statistic) const;
  // The statistic row of the shifts table; -1 when absent.
  int ShiftRow(const QString& statistic) const;
  // Column of the shifts table: 0 statistic, 1 KS D, 2 p-value, 3 flag, 4 mean real,
  // 5 mean synthetic, 6 standardised mean difference.
  static constexpr int kKsColumn = 1;
  static constexpr int kPColumn = 2;
  static constexpr int kFlagColumn = 3;
  // Number format of every value shown (4 decimals, integers as such, tiny p-values as 1.2e-05).
  static QString Number(double v);

 signals:
  void ReportChanged();
  void JobFinished(bool ok);

 private:
  void BuildUi();
  void OnJobEnded();
  void OnJobFinished(Result<std::string> result, bool cancelled);
  void Clear(const QString& message);
  void RenderBalance(const QJsonObject& balance);
  void RenderShifts(const QJsonObject& shifts);
  void RenderDiversity(const QJsonObject& diversity, const QJsonObject& sizes);

  std::shared_ptr<const ImageSource> source_;
  QString encoder_ = QStringLiteral("builtin");
  qint64 real_limit_ = -1, synthetic_limit_ = -1;
  QJsonObject report_;
  QString report_json_;

  BackgroundJob<std::string> job_;
  std::string running_synthetic_;  // the synthetic spec of the running (or last) job

  QPushButton* run_button_ = nullptr;
  ReferenceField* reference_field_ = nullptr;
  JobStatusRow status_row_;
  QLabel* inputs_label_ = nullptr;
  QLabel* chi_label_ = nullptr;
  QCustomPlot* balance_plot_ = nullptr;
  QLabel* diversity_label_ = nullptr;
  QTableWidget* diversity_table_ = nullptr;
  QWidget* histogram_host_ = nullptr;
  QGridLayout* histogram_grid_ = nullptr;
  std::vector<QCustomPlot*> histogram_plots_;
  QStringList histogram_stats_;
  QTableWidget* shifts_table_ = nullptr;
};

}  // namespace synthlens::ui
