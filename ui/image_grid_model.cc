#include "ui/image_grid_model.h"

#include <QMetaObject>
#include <QPainter>
#include <QPixmap>

#include "ui/qt_image.h"

namespace synthlens::ui {

ImageGridModel::ImageGridModel(QObject* parent) : QAbstractListModel(parent) {
  placeholder_ = QImage(8, 8, QImage::Format_RGB888);
  placeholder_.fill(QColor(60, 60, 60));
}

ImageGridModel::~ImageGridModel() {
  // Stop the workers before the model's slots can no longer receive their calls.
  cache_.reset();
}

void ImageGridModel::SetSource(std::shared_ptr<const ImageSource> source) {
  beginResetModel();
  cache_.reset();
  filtered_ = false;
  filter_.clear();
  row_of_.clear();
  source_ = std::move(source);
  if (source_) {
    ThumbnailCache::Options options;
    options.size = 96;
    cache_ = std::make_unique<ThumbnailCache>(source_, options);
    cache_->SetReadyCallback([this](int64_t index) {
      QMetaObject::invokeMethod(this, "OnThumbnailReady", Qt::QueuedConnection,
                                Q_ARG(qint64, static_cast<qint64>(index)));
    });
  }
  endResetModel();
}

void ImageGridModel::SetCellSize(int pixels) {
  cell_size_ = pixels;
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), {Qt::DecorationRole});
}

QString ImageGridModel::ClassName(int label) const {
  if (!source_ || label < 0) return {};
  const auto& names = source_->class_names();
  if (label < static_cast<int>(names.size())) return QString::fromStdString(names[label]);
  return QString::number(label);
}

void ImageGridModel::SetFilter(std::vector<int64_t> source_indices) {
  if (!source_) return;
  beginResetModel();
  filter_.clear();
  row_of_.assign(static_cast<size_t>(source_->size()), -1);
  for (int64_t i : source_indices) {
    if (i < 0 || i >= source_->size() || row_of_[i] >= 0) continue;
    row_of_[i] = static_cast<int>(filter_.size());
    filter_.push_back(i);
  }
  filtered_ = true;
  endResetModel();
  emit FilterChanged(true, rowCount());
}

void ImageGridModel::ClearFilter() {
  if (!filtered_) return;
  beginResetModel();
  filtered_ = false;
  filter_.clear();
  row_of_.clear();
  endResetModel();
  emit FilterChanged(false, rowCount());
}

int64_t ImageGridModel::SourceIndex(int row) const {
  if (row < 0 || row >= rowCount()) return -1;
  return filtered_ ? filter_[row] : row;
}

int ImageGridModel::RowOf(int64_t source_index) const {
  if (!source_ || source_index < 0 || source_index >= source_->size()) return -1;
  return filtered_ ? row_of_[source_index] : static_cast<int>(source_index);
}

QImage ImageGridModel::Thumbnail(int64_t source_index) const {
  if (!cache_ || source_index < 0 || source_index >= source_->size()) return {};
  const cv::Mat thumb = cache_->Get(source_index);
  return thumb.empty() ? QImage() : ToQImage(thumb);
}

void ImageGridModel::SetBadgeFunction(std::function<QVariant(int64_t)> badge) {
  badge_ = std::move(badge);
  BadgesChanged();
}

void ImageGridModel::BadgesChanged() {
  if (rowCount() > 0) emit dataChanged(index(0), index(rowCount() - 1), {kBadgeRole});
}

int ImageGridModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !source_) return 0;
  return filtered_ ? static_cast<int>(filter_.size()) : static_cast<int>(source_->size());
}

QVariant ImageGridModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !source_ || index.row() >= rowCount()) return {};
  const int64_t i = SourceIndex(index.row());
  const ImageRecord& record = source_->record(i);
  switch (role) {
    case Qt::DecorationRole: {
      const cv::Mat thumb = cache_->Get(i);
      const QImage image = thumb.empty() ? placeholder_ : ToQImage(thumb);
      return ScaleForDisplay(image, QSize(cell_size_, cell_size_));
    }
    case Qt::ToolTipRole: {
      QString tip = QString::fromStdString(record.id);
      if (record.label >= 0) tip += QStringLiteral("\nclass: ") + ClassName(record.label);
      if (cache_->Failed(i)) tip += QStringLiteral("\nunreadable (see the log)");
      return tip;
    }
    case Qt::DisplayRole:
      return QString::fromStdString(record.id);
    case kIdRole:
      return QString::fromStdString(record.id);
    case kLabelRole:
      return record.label;
    case kBadgeRole:
      return badge_ ? badge_(i) : QVariant();
    default:
      return {};
  }
}

void ImageGridModel::OnThumbnailReady(qint64 source_index) {
  emit ThumbnailReady(source_index);
  const int row = RowOf(source_index);
  if (row < 0) return;
  const QModelIndex changed = index(row);
  emit dataChanged(changed, changed, {Qt::DecorationRole, Qt::ToolTipRole});
}

}  // namespace synthlens::ui
