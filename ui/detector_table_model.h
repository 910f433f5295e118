#pragma once

#include <QAbstractTableModel>
#include <QSortFilterProxyModel>
#include <QString>
#include <memory>
#include <vector>

namespace synthlens {
struct DetectJobResult;
}

namespace synthlens::ui {

// One row per image of a detect run (DetectJobResult rows): the image id, its number of flags,
// the learned detector's artifact probability (empty until trained), then one score column per
// detector. Flagged cells are highlighted; header tooltips give each detector's description,
// threshold and rule. Sort values (kSortRole) are numbers, NaN for "does not apply".
class DetectTableModel : public QAbstractTableModel {
  Q_OBJECT

 public:
  static constexpr int kSortRole = Qt::UserRole + 1;
  static constexpr int kSourceIndexRole = Qt::UserRole + 2;
  static constexpr int kIdColumn = 0;
  static constexpr int kFlagsColumn = 1;
  static constexpr int kProbabilityColumn = 2;
  static constexpr int kFirstScoreColumn = 3;

  explicit DetectTableModel(QObject* parent = nullptr);

  void SetResult(std::shared_ptr<const DetectJobResult> result);
  // Per detect row, or empty to clear the column.
  void SetProbability(std::vector<double> probability);
  const std::shared_ptr<const DetectJobResult>& result() const { return result_; }
  bool has_probability() const { return !probability_.empty(); }

  static int ScoreColumn(int detector) { return kFirstScoreColumn + detector; }
  // Detector of a column; -1 for the id, flags and probability columns.
  static int DetectorOfColumn(int column) {
    return column >= kFirstScoreColumn ? column - kFirstScoreColumn : -1;
  }
  int FlagCount(int row) const;
  // Detect row of a source index; -1 when the run has no such image.
  int RowOfSourceIndex(qint64 source_index) const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  int columnCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;
  QVariant headerData(int section, Qt::Orientation orientation, int role) const override;

  // "0.123", "12.3", "1.2e-05"; "n/a" for NaN.
  static QString ScoreText(double v);

 private:
  std::shared_ptr<const DetectJobResult> result_;
  std::vector<int> flag_counts_;
  std::vector<int> id_rank_;  // row -> rank of its id in natural order
  std::vector<double> probability_;
  std::vector<int> row_of_index_;  // source index -> row, -1
};

// Filters the detector table by flag ("flagged by <detector>", "any flag") and by a text
// filter on the image id, and sorts numerically with "n/a" (NaN) always last.
class DetectFilterProxy : public QSortFilterProxyModel {
  Q_OBJECT

 public:
  static constexpr int kAllImages = -2;
  static constexpr int kAnyFlag = -1;

  explicit DetectFilterProxy(QObject* parent = nullptr);
  // kAllImages, kAnyFlag or a detector index.
  void SetFlagFilter(int detector);
  int flag_filter() const { return flag_filter_; }

 protected:
  bool filterAcceptsRow(int source_row, const QModelIndex& source_parent) const override;
  bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;

 private:
  int flag_filter_ = kAllImages;
};

}  // namespace synthlens::ui
