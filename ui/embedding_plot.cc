#include "ui/embedding_plot.h"

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "ui/plot_hint.h"

namespace synthlens::ui {

const char* PointKindName(PointKind kind) {
  switch (kind) {
    case PointKind::kReal: return "real";
    case PointKind::kSynthetic: return "synthetic";
    case PointKind::kClassic: return "classic view";
    case PointKind::kGenerative: return "generative view";
  }
  return "?";
}

QColor KindColor(PointKind kind) {
  switch (kind) {
    case PointKind::kReal: return QColor(0, 114, 178);        // Okabe-Ito blue
    case PointKind::kSynthetic: return QColor(213, 94, 0);    // vermillion
    case PointKind::kClassic: return QColor(0, 158, 115);     // bluish green
    case PointKind::kGenerative: return QColor(204, 121, 167);  // reddish purple (as the panel)
  }
  return Qt::black;
}

QColor ClassColor(int label) {
  // Paul Tol "muted" (9) + a dark grey for the tenth class; unknown labels are light grey.
  static const QColor kColors[] = {QColor(0xCC, 0x66, 0x77), QColor(0x33, 0x22, 0x88),
                                   QColor(0xDD, 0xCC, 0x77), QColor(0x11, 0x77, 0x33),
                                   QColor(0x88, 0xCC, 0xEE), QColor(0x88, 0x22, 0x55),
                                   QColor(0x44, 0xAA, 0x99), QColor(0x99, 0x99, 0x33),
                                   QColor(0xAA, 0x44, 0x99), QColor(0x55, 0x55, 0x55)};
  if (label < 0) return QColor(0xBB, 0xBB, 0xBB);
  return kColors[label % 10];
}

namespace {

QCPScatterStyle::ScatterShape KindShape(PointKind kind) {
  // Shapes repeat the kind, so the kinds stay apart even in colour-by-class mode or in greyscale.
  switch (kind) {
    case PointKind::kReal: return QCPScatterStyle::ssDisc;
    case PointKind::kSynthetic: return QCPScatterStyle::ssTriangle;
    case PointKind::kClassic: return QCPScatterStyle::ssSquare;
    case PointKind::kGenerative: return QCPScatterStyle::ssDiamond;
  }
  return QCPScatterStyle::ssDisc;
}

double KindSize(PointKind kind) {
  return kind == PointKind::kReal ? 4.0 : kind == PointKind::kSynthetic ? 5.0 : 9.0;
}

uint64_t RefKey(const PlotPoint& p) {
  return (static_cast<uint64_t>(p.kind) << 56) ^ static_cast<uint64_t>(p.ref);
}

}  // namespace

// Draws the bulk points into a 2-pixel-binned image: colour = mean colour of the points in a bin,
// opacity grows with the log of their count. One pass over the points and one over the bins per
// frame, independent of overdraw, which is what keeps 60,000 points interactive.
class DensityLayer : public QCPAbstractPlottable {
 public:
  DensityLayer(QCPAxis* key_axis, QCPAxis* value_axis)
      : QCPAbstractPlottable(key_axis, value_axis) {}

  void SetPoints(const std::vector<PlotPoint>* points, std::vector<QRgb> colors) {
    points_ = points;
    colors_ = std::move(colors);
  }
  void SetEnabled(bool on) { enabled_ = on; }

  double selectTest(const QPointF&, bool, QVariant*) const override { return -1; }
  QCPRange getKeyRange(bool& found, QCP::SignDomain) const override {
    found = false;
    return {};
  }
  QCPRange getValueRange(bool& found, QCP::SignDomain, const QCPRange&) const override {
    found = false;
    return {};
  }

 protected:
  void draw(QCPPainter* painter) override {
    if (!enabled_ || !points_ || points_->empty()) return;
    QCPAxis* kx = keyAxis();
    QCPAxis* vy = valueAxis();
    const QRect rect = kx->axisRect()->rect();
    constexpr int kBin = 2;
    const int w = (rect.width() + kBin - 1) / kBin;
    const int h = (rect.height() + kBin - 1) / kBin;
    if (w <= 0 || h <= 0) return;
    bins_.assign(static_cast<size_t>(w) * h * 4, 0);
    uint32_t max_count = 0;
    for (size_t i = 0; i < points_->size(); ++i) {
      const QRgb c = colors_[i];
      if (c == 0) continue;
      const PlotPoint& p = (*points_)[i];
      const double px = kx->coordToPixel(p.x) - rect.left();
      const double py = vy->coordToPixel(p.y) - rect.top();
      if (px < 0 || py < 0 || px >= rect.width() || py >= rect.height()) continue;
      uint32_t* bin = &bins_[(static_cast<size_t>(py) / kBin * w + static_cast<size_t>(px) / kBin) * 4];
      bin[0] += qRed(c);
      bin[1] += qGreen(c);
      bin[2] += qBlue(c);
      max_count = std::max(max_count, ++bin[3]);
    }
    if (max_count == 0) return;
    if (image_.width() != w || image_.height() != h) {
      image_ = QImage(w, h, QImage::Format_ARGB32_Premultiplied);
    }
    const double log_max = std::log1p(static_cast<double>(max_count));
    for (int y = 0; y < h; ++y) {
      auto* line = reinterpret_cast<QRgb*>(image_.scanLine(y));
      const uint32_t* row = &bins_[static_cast<size_t>(y) * w * 4];
      for (int x = 0; x < w; ++x, row += 4) {
        const uint32_t n = row[3];
        if (n == 0) {
          line[x] = 0;
          continue;
        }
        const int a = 90 + static_cast<int>(165.0 * std::log1p(static_cast<double>(n)) / log_max);
        line[x] = qRgba(row[0] / n * a / 255, row[1] / n * a / 255, row[2] / n * a / 255, a);
      }
    }
    painter->save();
    painter->setRenderHint(QPainter::SmoothPixmapTransform, false);
    painter->drawImage(QRect(rect.topLeft(), QSize(w * kBin, h * kBin)), image_);
    painter->restore();
  }
  void drawLegendIcon(QCPPainter*, const QRectF&) const override {}

 private:
  const std::vector<PlotPoint>* points_ = nullptr;
  std::vector<QRgb> colors_;
  bool enabled_ = false;
  std::vector<uint32_t> bins_;
  QImage image_;
};

EmbeddingPlot::EmbeddingPlot(QWidget* parent) : QCustomPlot(parent) {
  setNoAntialiasingOnDrag(true);  // pans redraw without antialiasing: cheaper frames
  setPlottingHint(QCP::phCacheLabels, true);
  legend->setVisible(true);
  legend->setBrush(QColor(255, 255, 255, 215));
  legend->setFont(QFont(font().family(), 8));
  // The legend sits right of the data in its own column, never over a cluster.
  // It sits at the top of a side column (an empty element below takes the rest of the height).
  axisRect()->insetLayout()->take(legend);
  auto* side = new QCPLayoutGrid;
  plotLayout()->addElement(0, 1, side);
  plotLayout()->setColumnStretchFactor(1, 0.001);
  side->addElement(0, 0, legend);
  side->addElement(1, 0, new QCPLayoutElement(this));
  side->setRowStretchFactor(0, 0.001);
  side->setMargins(QMargins(0, 6, 6, 0));
  legend->setLayer(QStringLiteral("legend"));
  // Before any point: a hint instead of dummy 0..5 axes and an empty legend.
  empty_text_ = new QCPItemText(this);
  empty_text_->setPositionAlignment(Qt::AlignCenter);
  empty_text_->position->setType(QCPItemPosition::ptAxisRectRatio);
  empty_text_->position->setAxisRect(axisRect());
  empty_text_->position->setCoords(0.5, 0.5);
  empty_text_->setText(tr("No points yet: Compute embeds and projects the images"));
  empty_text_->setColor(QColor(0x70, 0x70, 0x70));
  xAxis->setLabel(tr("component 1"));
  yAxis->setLabel(tr("component 2"));
  density_ = new DensityLayer(xAxis, yAxis);
  density_->removeFromLegend();
  lasso_curve_ = new QCPCurve(xAxis, yAxis);
  lasso_curve_->removeFromLegend();
  lasso_curve_->setPen(QPen(Qt::black, 1, Qt::DashLine));
  lasso_curve_->setBrush(QColor(0, 0, 0, 25));
  connect(this, &QCustomPlot::beforeReplot, this, &EmbeddingPlot::UpdateRenderMode);
  connect(selectionRect(), &QCPSelectionRect::accepted, this, [this](const QRect& r, QMouseEvent*) {
    const QRectF coords(QPointF(xAxis->pixelToCoord(r.left()), yAxis->pixelToCoord(r.bottom())),
                        QPointF(xAxis->pixelToCoord(r.right()), yAxis->pixelToCoord(r.top())));
    SelectInRect(coords.normalized());
  });
  selectionRect()->setPen(QPen(Qt::black, 1, Qt::DashLine));
  selectionRect()->setBrush(QColor(0, 0, 0, 25));
  setMouseTracking(true);
  SetTool(Tool::kPan);
  ApplyPlotTheme(this);
  Rebuild();
}

EmbeddingPlot::~EmbeddingPlot() = default;

void EmbeddingPlot::SetPoints(std::vector<PlotPoint> points, bool reset_view) {
  std::unordered_set<uint64_t> keep;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (selected_[i]) keep.insert(RefKey(points_[i]));
  }
  points_ = std::move(points);
  selected_.assign(points_.size(), 0);
  selected_count_ = 0;
  if (!keep.empty()) {
    for (size_t i = 0; i < points_.size(); ++i) {
      if (keep.count(RefKey(points_[i]))) {
        selected_[i] = 1;
        ++selected_count_;
      }
    }
  }
  hovered_ = -1;
  Rebuild();
  if (reset_view) {
    ResetView();
  } else {
    replot(rpQueuedReplot);
  }
}

void EmbeddingPlot::SetClassNames(const QStringList& names) {
  class_names_ = names;
  Rebuild();
  replot(rpQueuedReplot);
}

void EmbeddingPlot::SetArrows(std::vector<PlotArrow> arrows) {
  arrows_ = std::move(arrows);
  RebuildArrows();
  replot(rpQueuedReplot);
}

void EmbeddingPlot::SetShowArrows(bool on) {
  show_arrows_ = on;
  RebuildArrows();
  replot(rpQueuedReplot);
}

void EmbeddingPlot::SetColorBy(ColorBy color_by) {
  if (color_by_ == color_by) return;
  color_by_ = color_by;
  Rebuild();
  replot(rpQueuedReplot);
}

void EmbeddingPlot::SetTool(Tool tool) {
  tool_ = tool;
  lasso_active_ = false;
  if (tool == Tool::kPan) {
    setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    setSelectionRectMode(QCP::srmNone);
    setCursor(Qt::OpenHandCursor);
  } else {
    setInteractions(QCP::iRangeZoom);
    setSelectionRectMode(tool == Tool::kRect ? QCP::srmCustom : QCP::srmNone);
    setCursor(Qt::CrossCursor);
  }
}

void EmbeddingPlot::SetDensityThreshold(int visible_points) {
  density_threshold_ = visible_points;
  replot(rpQueuedReplot);
}

void EmbeddingPlot::SetAxisTitles(const QString& x, const QString& y) {
  xAxis->setLabel(x);
  yAxis->setLabel(y);
  replot(rpQueuedReplot);
}

void EmbeddingPlot::ResetView() {
  if (points_.empty()) {
    xAxis->setRange(-1, 1);
    yAxis->setRange(-1, 1);
  } else {
    float x0 = points_[0].x, x1 = x0, y0 = points_[0].y, y1 = y0;
    for (const PlotPoint& p : points_) {
      x0 = std::min(x0, p.x);
      x1 = std::max(x1, p.x);
      y0 = std::min(y0, p.y);
      y1 = std::max(y1, p.y);
    }
    const double px = std::max(1e-6, 0.05 * (x1 - x0));
    const double py = std::max(1e-6, 0.05 * (y1 - y0));
    xAxis->setRange(x0 - px, x1 + px);
    yAxis->setRange(y0 - py, y1 + py);
  }
  replot(rpQueuedReplot);
}

QColor EmbeddingPlot::PointColor(const PlotPoint& p) const {
  return color_by_ == ColorBy::kKind ? KindColor(p.kind) : ClassColor(p.label);
}

QCPGraph* EmbeddingPlot::AddScatterGraph(const QString& name, const QColor& color,
                                         QCPScatterStyle::ScatterShape shape, double size,
                                         bool in_legend) {
  QCPGraph* g = addGraph();
  g->setName(name);
  g->setLineStyle(QCPGraph::lsNone);
  const bool marker = shape != QCPScatterStyle::ssDisc;
  // Views get a dark outline so they stand out on top of the bulk points.
  QColor fill = color;
  if (!marker) fill.setAlpha(120);  // overlapping real points read as density
  g->setScatterStyle(QCPScatterStyle(shape, marker ? QPen(color.darker(180), 1.0) : QPen(fill),
                                     QBrush(fill), size));
  g->setPen(QPen(color));
  g->setSelectable(QCP::stNone);
  if (!in_legend) g->removeFromLegend();
  return g;
}

void EmbeddingPlot::Rebuild() {
  const bool empty = points_.empty();
  empty_text_->setVisible(empty);
  xAxis->setVisible(!empty);
  yAxis->setVisible(!empty);
  legend->setVisible(!empty);
  plotLayout()->setColumnStretchFactor(1, empty ? 0.0001 : 0.001);
  clearGraphs();
  bulk_graphs_.clear();
  view_graphs_.clear();
  selection_graph_ = nullptr;
  origin_graph_ = nullptr;

  // Group points by (kind, colour key): one graph each, since a graph has one scatter style.
  const bool by_class = color_by_ == ColorBy::kClass;
  int max_label = -1;
  for (const PlotPoint& p : points_) max_label = std::max(max_label, p.label);
  const int keys = by_class ? max_label + 2 : 1;  // key 0: unknown label
  std::vector<QVector<QCPGraphData>> groups(static_cast<size_t>(kPointKinds) * keys);
  std::vector<int> kind_count(kPointKinds, 0);
  for (const PlotPoint& p : points_) {
    const int key = by_class ? p.label + 1 : 0;
    groups[static_cast<size_t>(p.kind) * keys + key].append(QCPGraphData(p.x, p.y));
    ++kind_count[static_cast<int>(p.kind)];
  }
  auto class_name = [this](int label) {
    if (label < 0) return tr("unknown class");
    if (label < class_names_.size()) return class_names_[label];
    return tr("class %1").arg(label);
  };
  for (int kind = 0; kind < kPointKinds; ++kind) {
    const auto k = static_cast<PointKind>(kind);
    for (int key = 0; key < keys; ++key) {
      auto& data = groups[static_cast<size_t>(kind) * keys + key];
      if (data.isEmpty()) continue;
      QString name;
      bool in_legend = true;
      if (by_class) {
        name = class_name(key - 1);
        in_legend = k == PointKind::kReal;
      } else {
        name = QStringLiteral("%1 (%2)").arg(tr(PointKindName(k))).arg(data.size());
      }
      QCPGraph* g = AddScatterGraph(name, by_class ? ClassColor(key - 1) : KindColor(k),
                                    KindShape(k), KindSize(k), in_legend);
      g->data()->set(data, false);
      const bool bulk = k == PointKind::kReal || k == PointKind::kSynthetic;
      (bulk ? bulk_graphs_ : view_graphs_).push_back(g);
    }
  }
  if (by_class) {
    // Legend keys for the kinds, whose colour is the class here: grey marker of their shape.
    for (int kind = 1; kind < kPointKinds; ++kind) {
      if (kind_count[kind] == 0) continue;
      const auto k = static_cast<PointKind>(kind);
      AddScatterGraph(QStringLiteral("%1 (%2)").arg(tr(PointKindName(k))).arg(kind_count[kind]),
                      QColor(120, 120, 120), KindShape(k), KindSize(k), true);
    }
  }
  // Views above the bulk points: move their graphs to a layer on top.
  if (!layer(QStringLiteral("views"))) addLayer(QStringLiteral("views"), layer(QStringLiteral("main")));
  for (QCPGraph* g : view_graphs_) g->setLayer(QStringLiteral("views"));
  selection_graph_ = addGraph();
  selection_graph_->setLineStyle(QCPGraph::lsNone);
  selection_graph_->setScatterStyle(
      QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(Qt::black, 1.5), Qt::NoBrush, 9));
  selection_graph_->setSelectable(QCP::stNone);
  selection_graph_->setLayer(QStringLiteral("views"));
  origin_graph_ = addGraph();
  origin_graph_->setName(tr("source of the views"));
  origin_graph_->setLineStyle(QCPGraph::lsNone);
  origin_graph_->setScatterStyle(
      QCPScatterStyle(QCPScatterStyle::ssStar, QPen(palette().color(QPalette::Text), 2.0), Qt::NoBrush, 16));
  origin_graph_->setSelectable(QCP::stNone);
  origin_graph_->setLayer(QStringLiteral("views"));
  origin_graph_->removeFromLegend();

  std::vector<QRgb> colors(points_.size(), 0);
  for (size_t i = 0; i < points_.size(); ++i) {
    if (IsBulk(points_[i])) colors[i] = PointColor(points_[i]).rgb();
  }
  density_->SetPoints(&points_, std::move(colors));
  RebuildArrows();
  ApplySelection();
}

void EmbeddingPlot::RebuildArrows() {
  for (QCPItemLine* item : arrow_items_) removeItem(item);
  arrow_items_.clear();
  if (origin_graph_) {
    origin_graph_->data()->clear();
    origin_graph_->removeFromLegend();
  }
  if (!show_arrows_) return;
  if (!layer(QStringLiteral("views"))) addLayer(QStringLiteral("views"), layer(QStringLiteral("main")));
  for (const PlotArrow& a : arrows_) {
    auto* line = new QCPItemLine(this);
    line->setLayer(QStringLiteral("views"));
    line->start->setCoords(a.from);
    line->end->setCoords(a.to);
    line->setHead(QCPLineEnding(QCPLineEnding::esSpikeArrow, 8, 10));
    line->setPen(QPen(KindColor(a.kind).darker(130), 1.4));
    line->setSelectable(false);
    arrow_items_.push_back(line);
    if (origin_graph_) origin_graph_->addData(a.from.x(), a.from.y());
  }
  if (origin_graph_ && !arrows_.empty()) origin_graph_->addToLegend();
}

void EmbeddingPlot::UpdateRenderMode() {
  density_mode_ = visible_point_count() > density_threshold_;
  for (QCPGraph* g : bulk_graphs_) g->setVisible(!density_mode_);
  density_->SetEnabled(density_mode_);
}

int EmbeddingPlot::visible_point_count() const {
  const QCPRange rx = xAxis->range();
  const QCPRange ry = yAxis->range();
  int n = 0;
  for (const PlotPoint& p : points_) n += rx.contains(p.x) && ry.contains(p.y);
  return n;
}

int EmbeddingPlot::marker_count() const {
  int n = 0;
  for (QCPGraph* g : bulk_graphs_) n += g->visible() ? g->dataCount() : 0;
  for (QCPGraph* g : view_graphs_) n += g->dataCount();
  return n;
}

QStringList EmbeddingPlot::legend_names() const {
  QStringList names;
  for (int i = 0; i < legend->itemCount(); ++i) {
    if (auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i))) {
      names << item->plottable()->name();
    }
  }
  return names;
}

void EmbeddingPlot::SelectInRect(const QRectF& coords) {
  const QRectF r = coords.normalized();
  for (size_t i = 0; i < points_.size(); ++i) {
    const PlotPoint& p = points_[i];
    selected_[i] = p.x >= r.left() && p.x <= r.right() && p.y >= r.top() && p.y <= r.bottom();
  }
  ApplySelection();
  emit SelectionChanged(selected_count_);
}

void EmbeddingPlot::SelectInPolygon(const QPolygonF& coords) {
  const QRectF bounds = coords.boundingRect();
  for (size_t i = 0; i < points_.size(); ++i) {
    const QPointF p(points_[i].x, points_[i].y);
    selected_[i] = bounds.contains(p) && coords.containsPoint(p, Qt::OddEvenFill);
  }
  ApplySelection();
  emit SelectionChanged(selected_count_);
}

void EmbeddingPlot::ClearSelection() {
  std::fill(selected_.begin(), selected_.end(), 0);
  ApplySelection();
  emit SelectionChanged(0);
}

std::vector<int> EmbeddingPlot::selected_points() const {
  std::vector<int> out;
  for (size_t i = 0; i < selected_.size(); ++i) {
    if (selected_[i]) out.push_back(static_cast<int>(i));
  }
  return out;
}

void EmbeddingPlot::ApplySelection() {
  QVector<QCPGraphData> data;
  selected_count_ = 0;
  for (size_t i = 0; i < points_.size(); ++i) {
    if (!selected_[i]) continue;
    ++selected_count_;
    data.append(QCPGraphData(points_[i].x, points_[i].y));
  }
  if (selection_graph_) {
    selection_graph_->data()->set(data, false);
    selection_graph_->setName(tr("selected (%1)").arg(selected_count_));
    if (selected_count_ > 0) {
      selection_graph_->addToLegend();
    } else {
      selection_graph_->removeFromLegend();
    }
  }
  replot(rpQueuedReplot);
}

QPointF EmbeddingPlot::PixelOf(int point) const {
  const PlotPoint& p = points_.at(static_cast<size_t>(point));
  return {xAxis->coordToPixel(p.x), yAxis->coordToPixel(p.y)};
}

int EmbeddingPlot::PointAt(const QPointF& pixel, double radius) const {
  // Linear scan: 60,000 points take well under a millisecond, no index to keep in sync.
  int best_view = -1, best_bulk = -1;
  double dv = radius * radius, db = radius * radius;
  for (size_t i = 0; i < points_.size(); ++i) {
    const PlotPoint& p = points_[i];
    const double dx = xAxis->coordToPixel(p.x) - pixel.x();
    const double dy = yAxis->coordToPixel(p.y) - pixel.y();
    const double d = dx * dx + dy * dy;
    if (IsBulk(p)) {
      if (d <= db) db = d, best_bulk = static_cast<int>(i);
    } else if (d <= dv) {
      dv = d, best_view = static_cast<int>(i);
    }
  }
  return best_view >= 0 ? best_view : best_bulk;
}

void EmbeddingPlot::mousePressEvent(QMouseEvent* event) {
  press_pos_ = event->pos();
  press_left_ = event->button() == Qt::LeftButton;
  if (tool_ == Tool::kLasso && press_left_) {
    lasso_active_ = true;
    lasso_pixels_ = QPolygonF() << event->position();
    return;
  }
  if (tool_ == Tool::kPan && press_left_) setCursor(Qt::ClosedHandCursor);
  QCustomPlot::mousePressEvent(event);
}

void EmbeddingPlot::mouseMoveEvent(QMouseEvent* event) {
  if (lasso_active_) {
    lasso_pixels_ << event->position();
    QVector<double> xs, ys;
    for (const QPointF& p : lasso_pixels_) {
      xs << xAxis->pixelToCoord(p.x());
      ys << yAxis->pixelToCoord(p.y());
    }
    xs << xs.front();
    ys << ys.front();
    lasso_curve_->setData(xs, ys);
    replot(rpQueuedReplot);
    return;
  }
  QCustomPlot::mouseMoveEvent(event);
  if (event->buttons() == Qt::NoButton) {
    const int point = PointAt(event->position());
    if (point != hovered_) {
      hovered_ = point;
      emit PointHovered(point, event->globalPosition().toPoint());
    }
  }
}

void EmbeddingPlot::mouseReleaseEvent(QMouseEvent* event) {
  if (lasso_active_) {
    lasso_active_ = false;
    lasso_curve_->data()->clear();
    if (lasso_pixels_.size() >= 3) {
      QPolygonF coords;
      for (const QPointF& p : lasso_pixels_) {
        coords << QPointF(xAxis->pixelToCoord(p.x()), yAxis->pixelToCoord(p.y()));
      }
      SelectInPolygon(coords);
    } else {
      replot(rpQueuedReplot);
    }
    lasso_pixels_.clear();
    return;
  }
  QCustomPlot::mouseReleaseEvent(event);
  if (tool_ == Tool::kPan) setCursor(Qt::OpenHandCursor);
  if (press_left_ && event->button() == Qt::LeftButton &&
      (event->pos() - press_pos_).manhattanLength() <= 3) {
    const int point = PointAt(event->position());
    if (point >= 0) emit PointClicked(point);
  }
  press_left_ = false;
}

void EmbeddingPlot::leaveEvent(QEvent* event) {
  QCustomPlot::leaveEvent(event);
  if (hovered_ != -1) {
    hovered_ = -1;
    emit PointHovered(-1, QPoint());
  }
}

bool EmbeddingPlot::showing_empty_hint() const { return empty_text_->visible(); }
QRect EmbeddingPlot::legend_rect() const { return legend->outerRect(); }
QRect EmbeddingPlot::data_rect() const { return axisRect()->rect(); }

void EmbeddingPlot::changeEvent(QEvent* event) {
  QCustomPlot::changeEvent(event);
  if (event->type() == QEvent::PaletteChange) {
    ApplyPlotTheme(this);
    Rebuild();
  }
}

}  // namespace synthlens::ui
