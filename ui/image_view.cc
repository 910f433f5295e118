#include "ui/image_view.h"

#include <QPainter>

#include <algorithm>

namespace synthlens::ui {

ImageView::ImageView(QWidget* parent) : QWidget(parent) {
  setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
  UpdateMinimum();
}

void ImageView::SetMinimumTile(int side) {
  floor_ = side;
  UpdateMinimum();
}

// Never smaller than the floor, and a small image never below its native size (up to 96 px):
// a 28 px image must not be drawn at 22 px with its caption cut.
void ImageView::UpdateMinimum() {
  const int caption_height = caption_.isEmpty() ? 0 : fontMetrics().height() + 4;
  const int w = image_.isNull() ? 0 : std::min(image_.width(), 96) + 8;
  const int h = image_.isNull() ? 0 : std::min(image_.height(), 96) + 8 + caption_height;
  setMinimumSize(std::max(floor_, w), std::max(floor_, h));
}

void ImageView::SetImage(const QImage& image) {
  image_ = image;
  UpdateMinimum();
  update();
}

void ImageView::SetBoxes(std::vector<Box> boxes) {
  boxes_ = std::move(boxes);
  update();
}

void ImageView::SetFrameColor(const QColor& color) {
  frame_color_ = color;
  update();
}

void ImageView::SetCaption(const QString& caption) {
  caption_ = caption;
  UpdateMinimum();
  update();
}

QSize ImageView::sizeHint() const { return {160, 160}; }

void ImageView::paintEvent(QPaintEvent*) {
  QPainter painter(this);
  painter.fillRect(rect(), palette().color(QPalette::Base));
  const int caption_height = caption_.isEmpty() ? 0 : fontMetrics().height() + 4;
  const QRect area = rect().adjusted(4, 4, -4, -4 - caption_height);
  if (!image_.isNull() && area.width() > 0 && area.height() > 0) {
    const QSize fitted = image_.size().scaled(area.size(), Qt::KeepAspectRatio);
    const QRect target(area.x() + (area.width() - fitted.width()) / 2,
                       area.y() + (area.height() - fitted.height()) / 2, fitted.width(),
                       fitted.height());
    // Nearest-neighbour when enlarging keeps tiny images (28x28) crisp.
    const bool enlarging = fitted.width() >= image_.width();
    painter.setRenderHint(QPainter::SmoothPixmapTransform, !enlarging);
    painter.drawImage(target, image_);
    const double sx = static_cast<double>(target.width()) / image_.width();
    const double sy = static_cast<double>(target.height()) / image_.height();
    painter.setRenderHint(QPainter::Antialiasing, true);
    for (const Box& box : boxes_) {
      const QRectF r(target.x() + box.rect.x() * sx, target.y() + box.rect.y() * sy,
                     box.rect.width() * sx, box.rect.height() * sy);
      painter.setPen(QPen(box.color, 2));
      painter.setBrush(Qt::NoBrush);
      painter.drawRect(r);
      if (!box.label.isEmpty()) {
        painter.fillRect(QRectF(r.topLeft(), QSizeF(fontMetrics().horizontalAdvance(box.label) + 6,
                                                    fontMetrics().height())),
                         box.color);
        painter.setPen(Qt::white);
        painter.drawText(r.topLeft() + QPointF(3, fontMetrics().ascent()), box.label);
      }
    }
    if (frame_color_.isValid()) {
      painter.setPen(QPen(frame_color_, 3));
      painter.drawRect(target.adjusted(-2, -2, 1, 1));
    }
  }
  if (!caption_.isEmpty()) {
    painter.setPen(palette().color(QPalette::Text));
    painter.drawText(QRect(0, height() - caption_height, width(), caption_height),
                     Qt::AlignCenter, caption_);
  }
}

}  // namespace synthlens::ui
