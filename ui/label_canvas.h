#pragma once

#include <QColor>
#include <QImage>
#include <QRectF>
#include <QString>
#include <QWidget>
#include <cstdint>
#include <vector>

namespace synthlens::ui {

// A large view of one image (nearest-neighbour when enlarging, so 28 px images stay crisp) on
// which dragging a rectangle proposes a box in image pixel coordinates. Boxes are drawn in their
// category colours with the name; clicking one selects it, right-clicking one asks to remove it.
// The canvas holds no labels of its own: the panel gives it the stored boxes after every change.
class LabelCanvas : public QWidget {
  Q_OBJECT

 public:
  struct Box {
    int64_t id = 0;
    QRectF rect;  // image pixels
    QColor color;
    QString name;
  };

  explicit LabelCanvas(QWidget* parent = nullptr);

  void SetImage(const QImage& image);
  void SetBoxes(std::vector<Box> boxes);
  // Colour of the rectangle being dragged (the active category); invalid: drawing disabled.
  void SetDrawColor(const QColor& color);
  void SetCaption(const QString& caption);
  void SetOverlayText(const QString& text);  // a large hint when there is nothing to show

  const QImage& image() const { return image_; }
  const std::vector<Box>& boxes() const { return boxes_; }
  int64_t selected_box() const { return selected_; }
  void SelectBox(int64_t id);

  // Where the image is drawn in widget coordinates (empty without an image).
  QRectF ImageRect() const;
  QPointF ImageToWidget(const QPointF& image_point) const;
  QPointF WidgetToImage(const QPointF& widget_point) const;

  QSize sizeHint() const override;
  QSize minimumSizeHint() const override;

 signals:
  // A dragged rectangle, in whole image pixels, clipped to the image; at least 1x1.
  void BoxDrawn(const QRectF& image_rect);
  void RemoveBoxRequested(qint64 box_id);
  void SelectedBoxChanged(qint64 box_id);

 protected:
  void paintEvent(QPaintEvent* event) override;
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;

 private:
  int64_t BoxAt(const QPointF& widget_point) const;
  QRectF SnappedRect(const QPointF& a, const QPointF& b) const;  // image pixels

  QImage image_;
  std::vector<Box> boxes_;
  QColor draw_color_;
  QString caption_;
  QString overlay_;
  int64_t selected_ = 0;
  bool dragging_ = false;
  QPointF drag_start_, drag_now_;  // widget coordinates
};

}  // namespace synthlens::ui
