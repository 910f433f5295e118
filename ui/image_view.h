#pragma once

#include <QColor>
#include <QImage>
#include <QRectF>
#include <QWidget>
#include <vector>

namespace synthlens::ui {

// Shows one image scaled to fit (crisp nearest-neighbour when enlarging) with optional
// rectangles in image coordinates, e.g. the crop boxes of the views drawn on the original.
class ImageView : public QWidget {
  Q_OBJECT

 public:
  explicit ImageView(QWidget* parent = nullptr);

  void SetImage(const QImage& image);
  struct Box {
    QRectF rect;
    QColor color;
    QString label;
  };
  void SetBoxes(std::vector<Box> boxes);
  void SetFrameColor(const QColor& color);
  void SetCaption(const QString& caption);
  // The smallest tile side (default 64); a small image's native size plus its caption raises it.
  void SetMinimumTile(int side);
  const QImage& image() const { return image_; }
  int box_count() const { return static_cast<int>(boxes_.size()); }

  QSize sizeHint() const override;

 protected:
  void paintEvent(QPaintEvent* event) override;

 private:
  QImage image_;
  std::vector<Box> boxes_;
  QColor frame_color_;
  QString caption_;
  int floor_ = 64;
  void UpdateMinimum();
};

}  // namespace synthlens::ui
