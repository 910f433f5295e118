#include "ui/label_canvas.h"

#include <QMouseEvent>
#include <QPainter>
#include <algorithm>
#include <cmath>

namespace synthlens::ui {
namespace {

constexpr int kCaptionMargin = 4;
// A press that moves less than this (widget pixels) is a click, not a box.
constexpr double kMinDrag = 4.0;

}  // namespace

LabelCanvas::LabelCanvas(QWidget* parent) : QWidget(parent) {
  setFocusPolicy(Qt::StrongFocus);
  setMouseTracking(false);
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  setCursor(Qt::CrossCursor);
  // Right-click removes a box here; the Labels tab's figure menu must not open over it.
  setContextMenuPolicy(Qt::PreventContextMenu);
}

QSize LabelCanvas::sizeHint() const { return {420, 420}; }
QSize LabelCanvas::minimumSizeHint() const { return {160, 160}; }

void LabelCanvas::SetImage(const QImage& image) {
  image_ = image;
  dragging_ = false;
  update();
}

void LabelCanvas::SetBoxes(std::vector<Box> boxes) {
  boxes_ = std::move(boxes);
  const bool still_there = std::any_of(boxes_.begin(), boxes_.end(),
                                       [this](const Box& b) { return b.id == selected_; });
  if (!still_there && selected_ != 0) {
    selected_ = 0;
    emit SelectedBoxChanged(0);
  }
  update();
}

void LabelCanvas::SelectBox(int64_t id) {
  if (id == selected_) return;
  selected_ = id;
  emit SelectedBoxChanged(id);
  update();
}

void LabelCanvas::SetDrawColor(const QColor& color) {
  draw_color_ = color;
  update();
}

void LabelCanvas::SetCaption(const QString& caption) {
  caption_ = caption;
  update();
}

void LabelCanvas::SetOverlayText(const QString& text) {
  overlay_ = text;
  update();
}

QRectF LabelCanvas::ImageRect() const {
  if (image_.isNull()) return {};
  const int caption_height = caption_.isEmpty() ? 0 : fontMetrics().height() + kCaptionMargin;
  const QRect area = rect().adjusted(8, 8, -8, -8 - caption_height);
  if (area.width() <= 0 || area.height() <= 0) return {};
  QSize fitted = image_.size().scaled(area.size(), Qt::KeepAspectRatio);
  // Whole multiples of the image size when enlarging keep every pixel the same size.
  const int factor = fitted.width() / std::max(1, image_.width());
  if (factor >= 1 && fitted.width() >= image_.width()) fitted = image_.size() * factor;
  return QRectF(area.x() + (area.width() - fitted.width()) / 2,
                area.y() + (area.height() - fitted.height()) / 2, fitted.width(),
                fitted.height());
}

QPointF LabelCanvas::ImageToWidget(const QPointF& p) const {
  const QRectF r = ImageRect();
  if (r.isEmpty()) return {};
  return {r.x() + p.x() * r.width() / image_.width(), r.y() + p.y() * r.height() / image_.height()};
}

QPointF LabelCanvas::WidgetToImage(const QPointF& p) const {
  const QRectF r = ImageRect();
  if (r.isEmpty()) return {};
  return {(p.x() - r.x()) * image_.width() / r.width(),
          (p.y() - r.y()) * image_.height() / r.height()};
}

QRectF LabelCanvas::SnappedRect(const QPointF& a, const QPointF& b) const {
  const QPointF ia = WidgetToImage(a), ib = WidgetToImage(b);
  const double w = image_.width(), h = image_.height();
  double x0 = std::clamp(std::round(std::min(ia.x(), ib.x())), 0.0, w);
  double y0 = std::clamp(std::round(std::min(ia.y(), ib.y())), 0.0, h);
  double x1 = std::clamp(std::round(std::max(ia.x(), ib.x())), 0.0, w);
  double y1 = std::clamp(std::round(std::max(ia.y(), ib.y())), 0.0, h);
  if (x1 <= x0) x1 = std::min(w, x0 + 1), x0 = x1 - 1;
  if (y1 <= y0) y1 = std::min(h, y0 + 1), y0 = y1 - 1;
  return QRectF(x0, y0, x1 - x0, y1 - y0);
}

int64_t LabelCanvas::BoxAt(const QPointF& widget_point) const {
  const QPointF p = WidgetToImage(widget_point);
  // The smallest box under the point wins, so nested boxes stay reachable.
  int64_t best = 0;
  double best_area = 0;
  for (const Box& b : boxes_) {
    if (!b.rect.contains(p)) continue;
    const double area = b.rect.width() * b.rect.height();
    if (best == 0 || area < best_area) best = b.id, best_area = area;
  }
  return best;
}

void LabelCanvas::mousePressEvent(QMouseEvent* event) {
  setFocus(Qt::MouseFocusReason);
  if (image_.isNull()) return;
  const QPointF pos = event->position();
  if (event->button() == Qt::RightButton) {
    const int64_t id = BoxAt(pos);
    if (id != 0) emit RemoveBoxRequested(id);
    return;
  }
  if (event->button() != Qt::LeftButton) return;
  dragging_ = ImageRect().contains(pos) && draw_color_.isValid();
  drag_start_ = drag_now_ = pos;
  if (!dragging_) SelectBox(BoxAt(pos));
}

void LabelCanvas::mouseMoveEvent(QMouseEvent* event) {
  if (!dragging_) return;
  drag_now_ = event->position();
  update();
}

void LabelCanvas::mouseReleaseEvent(QMouseEvent* event) {
  if (!dragging_ || event->button() != Qt::LeftButton) return;
  dragging_ = false;
  drag_now_ = event->position();
  const QPointF d = drag_now_ - drag_start_;
  if (std::abs(d.x()) < kMinDrag && std::abs(d.y()) < kMinDrag) {
    SelectBox(BoxAt(drag_start_));  // a click: select the box under it
  } else {
    emit BoxDrawn(SnappedRect(drag_start_, drag_now_));
  }
  update();
}

void LabelCanvas::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const QRectF target = ImageRect();
  if (!image_.isNull() && !target.isEmpty()) {
    const bool enlarging = target.width() >= image_.width();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, !enlarging);
    painter.drawImage(target, image_);
    painter.setPen(QPen(palette().color(QPalette::Mid), 1));
    painter.drawRect(target.adjusted(-1, -1, 0, 0));
    painter.setRenderHint(QPainter::Antialiasing, true);
    const QFontMetrics fm = fontMetrics();
    for (const Box& box : boxes_) {
      const QRectF r(ImageToWidget(box.rect.topLeft()), ImageToWidget(box.rect.bottomRight()));
      const bool selected = box.id == selected_;
      painter.setPen(QPen(box.color, selected ? 4 : 2, selected ? Qt::DashLine : Qt::SolidLine));
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(r);
      if (!box.name.isEmpty()) {
        // The name sits above the box, or inside its top edge when there is no room above.
        const bool above = r.top() - fm.height() >= target.top();
        const QRectF tag(QPointF(r.left(), above ? r.top() - fm.height() : r.top()),
                         QSizeF(fm.horizontalAdvance(box.name) + 8, fm.height()));
        painter.fillRect(tag, box.color);
        painter.setPen(box.color.lightness() > 150 ? Qt::black : Qt::white);
        painter.drawText(tag.adjusted(4, 0, 0, 0), Qt::AlignVCenter | Qt::AlignLeft, box.name);
      }
    }
    if (dragging_) {
      const QRectF snapped = SnappedRect(drag_start_, drag_now_);
      const QRectF r(ImageToWidget(snapped.topLeft()), ImageToWidget(snapped.bottomRight()));
      QColor fill = draw_color_;
      fill.setAlpha(50);
      painter.setPen(QPen(draw_color_, 2, Qt::DashLine));
      painter.setBrush(fill);
      painter.drawRect(r);
    }
  }
  if (!overlay_.isEmpty()) {
    painter.setPen(palette().color(QPalette::PlaceholderText));
    painter.drawText(rect().adjusted(16, 16, -16, -16), Qt::AlignCenter | Qt::TextWordWrap,
                     overlay_);
  }
  if (!caption_.isEmpty()) {
    const int caption_height = fontMetrics().height() + kCaptionMargin;
    painter.setPen(palette().color(QPalette::Text));
    painter.drawText(QRect(0, height() - caption_height - 4, width(), caption_height),
                     Qt::AlignCenter, caption_);
  }
  if (hasFocus()) {
    painter.setRenderHint(QPainter::Antialiasing, false);
    painter.setPen(QPen(palette().color(QPalette::Highlight), 2));
    painter.setBrush(Qt::NoBrush);
    painter.drawRect(rect().adjusted(1, 1, -1, -1));
  }
}

}  // namespace synthlens::ui
