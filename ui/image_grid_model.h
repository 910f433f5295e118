#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <memory>

#include "core/io/image_source.h"
#include "core/io/thumbnail_cache.h"

namespace synthlens::ui {

// A virtualised list model over an ImageSource: rows are cheap (id and class come from the
// source's records); thumbnails come from core's ThumbnailCache, generated in the background
// on first display and announced with dataChanged, so 60,000 rows open and scroll at once.
class ImageGridModel : public QAbstractListModel {
  Q_OBJECT

 public:
  static constexpr int kIdRole = Qt::UserRole + 1;
  static constexpr int kLabelRole = Qt::UserRole + 2;

  explicit ImageGridModel(QObject* parent = nullptr);
  ~ImageGridModel() override;

  void SetSource(std::shared_ptr<const ImageSource> source);
  const std::shared_ptr<const ImageSource>& source() const { return source_; }
  void SetCellSize(int pixels);
  int cell_size() const { return cell_size_; }
  QString ClassName(int label) const;

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 private slots:
  void OnThumbnailReady(qint64 index);

 private:
  std::shared_ptr<const ImageSource> source_;
  std::unique_ptr<ThumbnailCache> cache_;
  int cell_size_ = 72;
  QImage placeholder_;
};

}  // namespace synthlens::ui
