#include "ui/detector_table_model.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/jobs/detect_job.h"
#include "core/util/natural_order.h"

namespace synthlens::ui {
namespace {

// Okabe-Ito vermillion, light: a flagged cell; the text stays dark for contrast.
const QColor kFlagBackground(0xf6, 0xc9, 0xb0);
const QColor kFlagText(0x80, 0x20, 0x00);

}  // namespace

DetectTableModel::DetectTableModel(QObject* parent) : QAbstractTableModel(parent) {}

void DetectTableModel::SetResult(std::shared_ptr<const DetectJobResult> result) {
  beginResetModel();
  result_ = std::move(result);
  probability_.clear();
  flag_counts_.clear();
  id_rank_.clear();
  row_of_index_.clear();
  if (result_) {
    flag_counts_.resize(result_->ids.size(), 0);
    int64_t max_index = -1;
    for (size_t r = 0; r < result_->ids.size(); ++r) {
      for (uint8_t f : result_->flags[r]) flag_counts_[r] += f != 0;
      max_index = std::max(max_index, result_->indices[r]);
    }
    std::vector<int> order(result_->ids.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return NaturalLess(result_->ids[a], result_->ids[b]); });
    id_rank_.assign(order.size(), 0);
    for (size_t k = 0; k < order.size(); ++k) id_rank_[order[k]] = static_cast<int>(k);
    row_of_index_.assign(static_cast<size_t>(max_index + 1), -1);
    for (size_t r = 0; r < result_->indices.size(); ++r) {
      row_of_index_[static_cast<size_t>(result_->indices[r])] = static_cast<int>(r);
    }
  }
  endResetModel();
}

void DetectTableModel::SetProbability(std::vector<double> probability) {
  if (result_ && !probability.empty() && probability.size() != result_->ids.size()) return;
  probability_ = std::move(probability);
  if (rowCount() > 0) {
    emit dataChanged(index(0, kProbabilityColumn), index(rowCount() - 1, kProbabilityColumn));
  }
  if (columnCount() > kProbabilityColumn) {
    emit headerDataChanged(Qt::Horizontal, kProbabilityColumn, kProbabilityColumn);
  }
}

int DetectTableModel::FlagCount(int row) const {
  return row >= 0 && row < static_cast<int>(flag_counts_.size()) ? flag_counts_[row] : 0;
}

int DetectTableModel::RowOfSourceIndex(qint64 source_index) const {
  if (source_index < 0 || source_index >= static_cast<qint64>(row_of_index_.size())) return -1;
  return row_of_index_[static_cast<size_t>(source_index)];
}

int DetectTableModel::rowCount(const QModelIndex& parent) const {
  return parent.isValid() || !result_ ? 0 : static_cast<int>(result_->ids.size());
}

int DetectTableModel::columnCount(const QModelIndex& parent) const {
  return parent.isValid() || !result_ ? 0
                                      : kFirstScoreColumn + static_cast<int>(result_->detectors.size());
}

QString DetectTableModel::ScoreText(double v) {
  if (std::isnan(v)) return QStringLiteral("n/a");
  const double a = std::fabs(v);
  if (a != 0 && (a >= 1e5 || a < 1e-3)) return QString::number(v, 'g', 3);
  return QString::number(v, 'f', a >= 100 ? 1 : 3);
}

QVariant DetectTableModel::data(const QModelIndex& index, int role) const {
  if (!result_ || !index.isValid()) return {};
  const int row = index.row();
  const int column = index.column();
  const DetectJobResult& r = *result_;
  if (role == kSourceIndexRole) return static_cast<qint64>(r.indices[row]);
  if (column == kIdColumn) {
    if (role == Qt::DisplayRole) return QString::fromStdString(r.ids[row]);
    if (role == kSortRole) return static_cast<double>(id_rank_[row]);  // natural order: test_2 < test_10
    return {};
  }
  if (column == kFlagsColumn) {
    if (role == Qt::DisplayRole || role == kSortRole) return flag_counts_[row];
    if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::FontRole && flag_counts_[row] > 0) {
      QFont bold;
      bold.setBold(true);
      return bold;
    }
    return {};
  }
  if (column == kProbabilityColumn) {
    const double p = probability_.empty() ? std::nan("") : probability_[row];
    if (role == Qt::DisplayRole) return probability_.empty() ? QString() : ScoreText(p);
    if (role == kSortRole) return p;
    if (role == Qt::TextAlignmentRole) return int(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && !probability_.empty()) {
      return tr("Learned detector: probability of an artifact %1").arg(ScoreText(p));
    }
    return {};
  }
  const int d = DetectorOfColumn(column);
  if (d < 0 || d >= static_cast<int>(r.detectors.size())) return {};
  const double score = r.scores[row][d];
  const bool flagged = r.flags[row][d] != 0;
  switch (role) {
    case Qt::DisplayRole: return ScoreText(score);
    case kSortRole: return score;
    case Qt::TextAlignmentRole: return int(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::BackgroundRole: return flagged ? QBrush(kFlagBackground) : QVariant();
    case Qt::ForegroundRole: return flagged ? QBrush(kFlagText) : QVariant();
    case Qt::ToolTipRole:
      return tr("%1: score %2 %3 threshold %4 (%5)%6")
          .arg(QString::fromStdString(r.detectors[d].name), ScoreText(score),
               flagged ? QStringLiteral(">") : QStringLiteral("≤"), ScoreText(r.thresholds[d]),
               QString::fromStdString(r.rules[d]),
               flagged ? tr(" — flagged") : QString());
    default: return {};
  }
}

QVariant DetectTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
  if (orientation != Qt::Horizontal || !result_) {
    return QAbstractTableModel::headerData(section, orientation, role);
  }
  const DetectJobResult& r = *result_;
  if (role == Qt::DisplayRole) {
    if (section == kIdColumn) return tr("image");
    if (section == kFlagsColumn) return tr("flags");
    if (section == kProbabilityColumn) return tr("p(artifact)");
    const int d = DetectorOfColumn(section);
    if (d >= 0 && d < static_cast<int>(r.detectors.size())) {
      return QString::fromStdString(r.detectors[d].name);
    }
    return {};
  }
  if (role == Qt::ToolTipRole) {
    if (section == kIdColumn) return tr("Image id in the source");
    if (section == kFlagsColumn) return tr("Number of detectors that flag the image");
    if (section == kProbabilityColumn) {
      return tr("Learned detector (hand labels of the Labels tab): probability of an artifact");
    }
    const int d = DetectorOfColumn(section);
    if (d < 0 || d >= static_cast<int>(r.detectors.size())) return {};
    const DetectorInfo& info = r.detectors[d];
    return tr("<b>%1</b>: %2<br>threshold %3 (%4); flagged when the score is above it<br>"
              "%5 of %6 images flagged<br><i>follows %7</i>")
        .arg(QString::fromStdString(info.name).toHtmlEscaped(),
             QString::fromStdString(info.description).toHtmlEscaped(),
             ScoreText(r.thresholds[d]), QString::fromStdString(r.rules[d]).toHtmlEscaped())
        .arg(r.FlaggedCount(d))
        .arg(r.ids.size())
        .arg(QString::fromStdString(info.reference).toHtmlEscaped());
  }
  return {};
}

DetectFilterProxy::DetectFilterProxy(QObject* parent) : QSortFilterProxyModel(parent) {
  setSortRole(DetectTableModel::kSortRole);
  setFilterKeyColumn(DetectTableModel::kIdColumn);
  setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void DetectFilterProxy::SetFlagFilter(int detector) {
  if (detector == flag_filter_) return;
  // Qt 6.x: begin/endFilterChange are newer than 6.4; invalidateFilter works everywhere.
  flag_filter_ = detector;
  invalidateFilter();
}

bool DetectFilterProxy::filterAcceptsRow(int source_row, const QModelIndex& source_parent) const {
  if (!QSortFilterProxyModel::filterAcceptsRow(source_row, source_parent)) return false;
  if (flag_filter_ == kAllImages) return true;
  auto* model = qobject_cast<const DetectTableModel*>(sourceModel());
  if (!model || !model->result()) return true;
  if (flag_filter_ == kAnyFlag) return model->FlagCount(source_row) > 0;
  const auto& flags = model->result()->flags[source_row];
  return flag_filter_ >= 0 && flag_filter_ < static_cast<int>(flags.size()) &&
         flags[flag_filter_] != 0;
}

bool DetectFilterProxy::lessThan(const QModelIndex& left, const QModelIndex& right) const {
  const double a = left.data(sortRole()).toDouble();
  const double b = right.data(sortRole()).toDouble();
  const bool an = std::isnan(a), bn = std::isnan(b);
  // "n/a" sorts last in both directions: descending order reverses lessThan, so flip it there.
  if (an || bn) {
    if (an && bn) return left.row() < right.row();
    return sortOrder() == Qt::AscendingOrder ? bn : an;
  }
  if (a != b) return a < b;
  return left.row() < right.row();
}

}  // namespace synthlens::ui
