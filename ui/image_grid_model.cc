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

int ImageGridModel::rowCount(const QModelIndex& parent) const {
  if (parent.isValid() || !source_) return 0;
  return static_cast<int>(source_->size());
}

QVariant ImageGridModel::data(const QModelIndex& index, int role) const {
  if (!index.isValid() || !source_ || index.row() >= rowCount()) return {};
  const ImageRecord& record = source_->record(index.row());
  switch (role) {
    case Qt::DecorationRole: {
      const cv::Mat thumb = cache_->Get(index.row());
      const QImage image = thumb.empty() ? placeholder_ : ToQImage(thumb);
      return ScaleForDisplay(image, QSize(cell_size_, cell_size_));
    }
    case Qt::ToolTipRole: {
      QString tip = QString::fromStdString(record.id);
      if (record.label >= 0) tip += QStringLiteral("\nclass: ") + ClassName(record.label);
      if (cache_->Failed(index.row())) tip += QStringLiteral("\nunreadable (see the log)");
      return tip;
    }
    case Qt::DisplayRole:
      return QString::fromStdString(record.id);
    case kIdRole:
      return QString::fromStdString(record.id);
    case kLabelRole:
      return record.label;
    default:
      return {};
  }
}

void ImageGridModel::OnThumbnailReady(qint64 row) {
  if (!source_ || row < 0 || row >= rowCount()) return;
  const QModelIndex changed = index(static_cast<int>(row));
  emit dataChanged(changed, changed, {Qt::DecorationRole, Qt::ToolTipRole});
}

}  // namespace synthlens::ui
