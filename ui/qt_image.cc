#include "ui/qt_image.h"

namespace synthlens::ui {

QImage ToQImage(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3) return {};
  QImage view(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step),
              QImage::Format_RGB888);
  return view.copy();
}

QPixmap ScaleForDisplay(const QImage& image, const QSize& box) {
  if (image.isNull() || box.isEmpty()) return {};
  const QSize target = image.size().scaled(box, Qt::KeepAspectRatio);
  const bool enlarging = target.width() >= image.width();
  if (enlarging) {
    // Integer zoom where it fits so every source pixel becomes an equal square.
    const int factor = std::max(1, std::min(box.width() / image.width(),
                                            box.height() / image.height()));
    const QSize crisp = factor >= 1 && image.width() * factor <= box.width()
                            ? image.size() * factor
                            : target;
    return QPixmap::fromImage(image.scaled(crisp, Qt::KeepAspectRatio, Qt::FastTransformation));
  }
  return QPixmap::fromImage(image.scaled(target, Qt::KeepAspectRatio, Qt::SmoothTransformation));
}

}  // namespace synthlens::ui
