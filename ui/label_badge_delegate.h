#pragma once

#include <QStyledItemDelegate>
#include <QVariant>

namespace synthlens::ui {

// Paints the grid's thumbnails as usual, then the label badges of ImageGridModel::kBadgeRole
// over them: a dot per artifact category in its colour (bottom left), a green check for an
// image marked clean (top right), an orange flag for images flagged by a detector (top left).
// The role reads an in-memory map (LabelPanel keeps it), so painting never queries the store.
class LabelBadgeDelegate : public QStyledItemDelegate {
  Q_OBJECT

 public:
  using QStyledItemDelegate::QStyledItemDelegate;

  // The badge value ImageGridModel::kBadgeRole carries: a QVariantMap with "clean" (bool),
  // "colors" (list of QColor), "names" (QStringList), "flagged" (bool). Invalid: no badge.
  static QVariant MakeBadge(bool clean, const QList<QColor>& colors, const QStringList& names,
                            bool flagged);

  void paint(QPainter* painter, const QStyleOptionViewItem& option,
             const QModelIndex& index) const override;
};

}  // namespace synthlens::ui
