#pragma once

#include <QAbstractListModel>
#include <QImage>
#include <functional>
#include <memory>
#include <vector>

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
  // Hand-label badges of a row (see LabelBadgeDelegate::MakeBadge); invalid when none.
  static constexpr int kBadgeRole = Qt::UserRole + 3;

  explicit ImageGridModel(QObject* parent = nullptr);
  ~ImageGridModel() override;

  void SetSource(std::shared_ptr<const ImageSource> source);
  const std::shared_ptr<const ImageSource>& source() const { return source_; }
  void SetCellSize(int pixels);
  int cell_size() const { return cell_size_; }
  QString ClassName(int label) const;

  // Shows only these source indices (in the given order), e.g. the points selected in the
  // embedding view; rows then map to source indices through SourceIndex(). Indices outside the
  // source are dropped.
  void SetFilter(std::vector<int64_t> source_indices);
  void ClearFilter();
  bool filtered() const { return filtered_; }
  // Source index of grid row `row` (the row itself when unfiltered); -1 if out of range.
  int64_t SourceIndex(int row) const;
  // Grid row of a source index; -1 when it is filtered out or out of range.
  int RowOf(int64_t source_index) const;
  // The thumbnail of a source index (scheduling it when not yet made): null until ready, then
  // announced through ThumbnailReady.
  QImage Thumbnail(int64_t source_index) const;
  // Where kBadgeRole comes from: called per painted cell with the source index, so it must be a
  // lookup in memory. BadgesChanged() repaints every row's badges.
  void SetBadgeFunction(std::function<QVariant(int64_t source_index)> badge);
  void BadgesChanged();

  int rowCount(const QModelIndex& parent = QModelIndex()) const override;
  QVariant data(const QModelIndex& index, int role) const override;

 signals:
  void ThumbnailReady(qint64 source_index);
  void FilterChanged(bool filtered, int rows);

 private slots:
  void OnThumbnailReady(qint64 index);

 private:
  std::shared_ptr<const ImageSource> source_;
  std::unique_ptr<ThumbnailCache> cache_;
  int cell_size_ = 72;
  QImage placeholder_;
  bool filtered_ = false;
  std::vector<int64_t> filter_;  // grid row -> source index, when filtered_
  std::vector<int> row_of_;      // source index -> grid row (-1: hidden), when filtered_
  std::function<QVariant(int64_t)> badge_;
};

}  // namespace synthlens::ui
