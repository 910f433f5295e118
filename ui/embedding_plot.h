#pragma once

#include <QPolygonF>
#include <QStringList>
#include <cstdint>
#include <vector>

#include "qcustomplot.h"

namespace synthlens::ui {

enum class PointKind : uint8_t { kReal = 0, kSynthetic = 1, kClassic = 2, kGenerative = 3 };
inline constexpr int kPointKinds = 4;
const char* PointKindName(PointKind kind);

// One point of the scatter. `ref` says which image it is: the source index for real points, the
// row of the synthetic set, or the index of the view in the view list of the embedding view.
struct PlotPoint {
  float x = 0;
  float y = 0;
  PointKind kind = PointKind::kReal;
  int label = -1;  // class, -1: unknown
  int64_t ref = -1;
};

// From a source image's point to one of its views' points (the displacement view).
struct PlotArrow {
  QPointF from;
  QPointF to;
  PointKind kind = PointKind::kClassic;
};

// Okabe-Ito colours of the point kinds, and a 10-class palette (Paul Tol's "muted" scheme plus
// its pale grey), both chosen to stay distinguishable with the common colour-vision deficiencies.
QColor KindColor(PointKind kind);
QColor ClassColor(int label);

class DensityLayer;

// A QCustomPlot scatter of a 2-D projection: points coloured by kind or by class, legend, pan and
// zoom (drag, wheel), rectangle and lasso selection, hover and click on points, displacement
// arrows. Above `density_threshold` visible points the bulk (real and synthetic) points are
// drawn as a density image instead of one marker each, so 60,000 points pan and zoom smoothly;
// views (few, and the interesting ones) are always drawn as markers.
class EmbeddingPlot : public QCustomPlot {
  Q_OBJECT

 public:
  // True while there are no points: a hint is shown instead of axes and a legend.
  bool showing_empty_hint() const;
  // The legend's rectangle and the data area's, in widget pixels (the legend is outside the data).
  QRect legend_rect() const;
  QRect data_rect() const;

  enum class ColorBy { kKind, kClass };
  enum class Tool { kPan, kRect, kLasso };

  explicit EmbeddingPlot(QWidget* parent = nullptr);
  ~EmbeddingPlot() override;

  // Replaces the points. Points selected before that are again in the new set (same kind and
  // ref) stay selected; `reset_view` rescales the axes to the data.
  void SetPoints(std::vector<PlotPoint> points, bool reset_view);
  void SetClassNames(const QStringList& names);
  void SetArrows(std::vector<PlotArrow> arrows);
  void SetShowArrows(bool on);
  void SetColorBy(ColorBy color_by);
  void SetTool(Tool tool);
  void SetDensityThreshold(int visible_points);
  void SetAxisTitles(const QString& x, const QString& y);
  void ResetView();

  void SelectInRect(const QRectF& coords);
  void SelectInPolygon(const QPolygonF& coords);
  void ClearSelection();

  // The point nearest to a widget pixel within `radius` pixels, preferring views; -1 if none.
  int PointAt(const QPointF& pixel, double radius = 8.0) const;
  QPointF PixelOf(int point) const;

  const std::vector<PlotPoint>& points() const { return points_; }
  const std::vector<PlotArrow>& arrows() const { return arrows_; }
  std::vector<int> selected_points() const;
  int selected_count() const { return selected_count_; }
  ColorBy color_by() const { return color_by_; }
  Tool tool() const { return tool_; }
  bool show_arrows() const { return show_arrows_; }
  // True while the bulk points are drawn as a density image (more than the threshold visible).
  bool density_mode() const { return density_mode_; }
  int visible_point_count() const;
  // Markers the scatter graphs hold right now (0 for the bulk points in density mode).
  int marker_count() const;
  // Names of the legend's entries, in legend order.
  QStringList legend_names() const;

 signals:
  // `point` is -1 when the pointer leaves all points.
  void PointHovered(int point, const QPoint& global_pos);
  void PointClicked(int point);
  void SelectionChanged(int selected);

 protected:
  void changeEvent(QEvent* event) override;  // a new palette (the dark theme) redraws the markers
  void mousePressEvent(QMouseEvent* event) override;
  void mouseMoveEvent(QMouseEvent* event) override;
  void mouseReleaseEvent(QMouseEvent* event) override;
  void leaveEvent(QEvent* event) override;

 private:
  void Rebuild();
  void RebuildArrows();
  void UpdateRenderMode();
  void ApplySelection();
  QCPGraph* AddScatterGraph(const QString& name, const QColor& color,
                            QCPScatterStyle::ScatterShape shape, double size, bool in_legend);
  bool IsBulk(const PlotPoint& p) const { return p.kind == PointKind::kReal || p.kind == PointKind::kSynthetic; }
  QColor PointColor(const PlotPoint& p) const;

  std::vector<PlotPoint> points_;
  std::vector<uint8_t> selected_;
  int selected_count_ = 0;
  std::vector<PlotArrow> arrows_;
  QStringList class_names_;
  ColorBy color_by_ = ColorBy::kKind;
  Tool tool_ = Tool::kPan;
  bool show_arrows_ = false;
  int density_threshold_ = 20000;
  bool density_mode_ = false;

  // Graphs that hold the bulk points (hidden in density mode) and those that always draw.
  std::vector<QCPGraph*> bulk_graphs_;
  std::vector<QCPGraph*> view_graphs_;
  QCPGraph* selection_graph_ = nullptr;
  DensityLayer* density_ = nullptr;
  std::vector<QCPItemLine*> arrow_items_;
  QCPGraph* origin_graph_ = nullptr;  // the source images the arrows start from
  QCPCurve* lasso_curve_ = nullptr;
  QPolygonF lasso_pixels_;
  bool lasso_active_ = false;
  QPoint press_pos_;
  bool press_left_ = false;
  int hovered_ = -1;
  QCPItemText* empty_text_ = nullptr;  // shown while there are no points
};

}  // namespace synthlens::ui
