#include "ui/label_badge_delegate.h"

#include <QPainter>
#include <QPainterPath>

#include "ui/image_grid_model.h"

namespace synthlens::ui {

QVariant LabelBadgeDelegate::MakeBadge(bool clean, const QList<QColor>& colors,
                                       const QStringList& names, bool flagged) {
  if (!clean && colors.isEmpty() && !flagged) return {};
  QVariantList color_list;
  for (const QColor& c : colors) color_list.push_back(c);
  QVariantMap badge;
  badge.insert(QStringLiteral("clean"), clean);
  badge.insert(QStringLiteral("colors"), color_list);
  badge.insert(QStringLiteral("names"), names);
  badge.insert(QStringLiteral("flagged"), flagged);
  return badge;
}

void LabelBadgeDelegate::paint(QPainter* painter, const QStyleOptionViewItem& option,
                               const QModelIndex& index) const {
  QStyledItemDelegate::paint(painter, option, index);
  const QVariant value = index.data(ImageGridModel::kBadgeRole);
  if (!value.isValid()) return;
  const QVariantMap badge = value.toMap();
  // The icon area: the cell minus the text line below it (IconMode puts the text under the icon).
  const QRect cell = option.rect.adjusted(3, 3, -3, -3 - option.fontMetrics.height());
  const int d = qBound(7, cell.width() / 8, 12);
  painter->save();
  painter->setRenderHint(QPainter::Antialiasing, true);
  const QVariantList colors = badge.value(QStringLiteral("colors")).toList();
  int x = cell.left() + 1;
  const int y = cell.bottom() - d;
  for (int i = 0; i < colors.size(); ++i) {
    if (x + d > cell.right()) break;
    painter->setPen(QPen(Qt::white, 1.5));
    painter->setBrush(colors[i].value<QColor>());
    painter->drawEllipse(QRect(x, y, d, d));
    x += d - 1;
  }
  if (badge.value(QStringLiteral("clean")).toBool()) {
    const QRect disc(cell.right() - d - 3, cell.top() + 1, d + 3, d + 3);
    painter->setPen(QPen(Qt::white, 1.5));
    painter->setBrush(QColor(0, 158, 115));  // Okabe-Ito bluish green
    painter->drawEllipse(disc);
    QPainterPath tick;
    tick.moveTo(disc.left() + disc.width() * 0.25, disc.top() + disc.height() * 0.52);
    tick.lineTo(disc.left() + disc.width() * 0.43, disc.top() + disc.height() * 0.70);
    tick.lineTo(disc.left() + disc.width() * 0.76, disc.top() + disc.height() * 0.32);
    painter->setPen(QPen(Qt::white, 2, Qt::SolidLine, Qt::RoundCap, Qt::RoundJoin));
    painter->setBrush(Qt::NoBrush);
    painter->drawPath(tick);
  }
  if (badge.value(QStringLiteral("flagged")).toBool()) {
    const QRect flag(cell.left() + 1, cell.top() + 1, d, d + 2);
    QPainterPath path;
    path.moveTo(flag.left(), flag.bottom());
    path.lineTo(flag.left(), flag.top());
    path.lineTo(flag.right(), flag.top() + flag.height() * 0.3);
    path.lineTo(flag.left(), flag.top() + flag.height() * 0.6);
    painter->setPen(QPen(Qt::white, 1));
    painter->setBrush(QColor(230, 159, 0));  // Okabe-Ito orange
    painter->drawPath(path);
  }
  painter->restore();
}

}  // namespace synthlens::ui
