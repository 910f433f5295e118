// The plot panels of the figure renderer: scatter (markers or density), curves (error bars,
// bands, reference lines) and bars (grouped bars or histograms), with axes and legends.
#include <QPolygonF>

#include <algorithm>
#include <cmath>
#include <vector>

#include "ui/figures/figure_ink_internal.h"

namespace synthlens::figures::internal {
namespace {

// ---------------------------------------------------------------- ticks and axes

struct Axis {
  double lo = 0, hi = 1;
  std::vector<double> ticks;
  int decimals = 0;
};

Axis NiceAxis(double lo, double hi, int target = 5) {
  Axis a;
  if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
  if (hi - lo < 1e-12) {
    const double pad = std::max(std::abs(lo) * 0.1, 0.5);
    lo -= pad, hi += pad;
  }
  const double raw = (hi - lo) / target;
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  const double norm = raw / mag;
  const double step = (norm < 1.5 ? 1 : norm < 3 ? 2 : norm < 7 ? 5 : 10) * mag;
  a.lo = std::floor(lo / step + 1e-9) * step;
  a.hi = std::ceil(hi / step - 1e-9) * step;
  for (double t = a.lo; t <= a.hi + step * 1e-6; t += step) a.ticks.push_back(std::abs(t) < step * 1e-9 ? 0.0 : t);
  a.decimals = std::max(0, -static_cast<int>(std::floor(std::log10(step) + 1e-9)));
  return a;
}

QString TickLabel(double v, int decimals) {
  // 10k, 25k, 1.5M: long tick labels crowd the axis.
  if (std::abs(v) >= 1e4 && decimals == 0) {
    const bool mega = std::abs(v) >= 1e6;
    QString s = QString::number(v / (mega ? 1e6 : 1e3), 'g', 4) + (mega ? QStringLiteral("M") : QStringLiteral("k"));
    return s.replace('-', QChar(0x2212));
  }
  QString s = QString::number(v, 'f', decimals);
  if (s == QLatin1String("-0")) s = QStringLiteral("0");
  return s.replace('-', QChar(0x2212));
}

void DrawMarker(QPainter& p, FigMarker m, QPointF c, double r, QColor colour, bool filled = true) {
  QPainterPath path;
  switch (m) {
    case FigMarker::kCircle: path.addEllipse(c, r, r); break;
    case FigMarker::kSquare: path.addRect(QRectF(c.x() - r * 0.88, c.y() - r * 0.88, r * 1.76, r * 1.76)); break;
    case FigMarker::kTriangle:
      path.moveTo(c.x(), c.y() - r * 1.15);
      path.lineTo(c.x() + r, c.y() + r * 0.7);
      path.lineTo(c.x() - r, c.y() + r * 0.7);
      path.closeSubpath();
      break;
    case FigMarker::kTriangleDown:
      path.moveTo(c.x(), c.y() + r * 1.15);
      path.lineTo(c.x() + r, c.y() - r * 0.7);
      path.lineTo(c.x() - r, c.y() - r * 0.7);
      path.closeSubpath();
      break;
    case FigMarker::kDiamond:
      path.moveTo(c.x(), c.y() - r * 1.2);
      path.lineTo(c.x() + r, c.y());
      path.lineTo(c.x(), c.y() + r * 1.2);
      path.lineTo(c.x() - r, c.y());
      path.closeSubpath();
      break;
    case FigMarker::kStar:
      for (int i = 0; i < 10; ++i) {
        const double a = -M_PI / 2 + i * M_PI / 5, rr = i % 2 ? r * 0.5 : r * 1.2;
        const QPointF q(c.x() + rr * std::cos(a), c.y() + rr * std::sin(a));
        i ? path.lineTo(q) : path.moveTo(q);
      }
      path.closeSubpath();
      break;
    case FigMarker::kCross:
    case FigMarker::kPlus: {
      p.save();
      QPen pen(colour, r * 0.55);
      pen.setCapStyle(Qt::FlatCap);
      p.setPen(pen);
      const double d = m == FigMarker::kCross ? r * 0.8 : r;
      if (m == FigMarker::kCross) {
        p.drawLine(QPointF(c.x() - d, c.y() - d), QPointF(c.x() + d, c.y() + d));
        p.drawLine(QPointF(c.x() - d, c.y() + d), QPointF(c.x() + d, c.y() - d));
      } else {
        p.drawLine(QPointF(c.x() - d, c.y()), QPointF(c.x() + d, c.y()));
        p.drawLine(QPointF(c.x(), c.y() - d), QPointF(c.x(), c.y() + d));
      }
      p.restore();
      return;
    }
  }
  if (filled) {
    p.fillPath(path, colour);
  } else {
    p.save();
    p.setPen(QPen(colour, r * 0.35));
    p.setBrush(Qt::NoBrush);
    p.drawPath(path);
    p.restore();
  }
}

struct LegendItem {
  QString name;
  QColor colour;
  FigMarker marker = FigMarker::kCircle;
  bool line = false;
  bool box = false;
};

// Legend width (points) for items at the small size.
double LegendWidth(Ink& ink, const std::vector<LegendItem>& items) {
  double w = 0;
  for (const LegendItem& it : items) w = std::max(w, ink.Width(it.name, ink.small()));
  return w + ink.small() * 2.6;
}

void DrawLegend(Ink& ink, const std::vector<LegendItem>& items, QPointF top_left, double max_height) {
  QPainter& p = ink.painter();
  const double lh = ink.LineHeight(ink.small()) * 1.15;
  const double r = ink.small() * 0.3;
  double y = top_left.y();
  for (const LegendItem& it : items) {
    if (y + lh > top_left.y() + max_height + 0.5) break;
    const QPointF c(top_left.x() + ink.small() * 0.8, y + lh / 2);
    if (it.line) {
      p.save();
      p.setPen(ink.Pen(it.colour, std::max(0.8, ink.small() * 0.12)));
      p.drawLine(QPointF(c.x() - ink.small() * 0.7, c.y()), QPointF(c.x() + ink.small() * 0.7, c.y()));
      p.restore();
    }
    if (it.box) {
      p.fillRect(QRectF(c.x() - r * 1.4, c.y() - r * 1.4, r * 2.8, r * 2.8), it.colour);
    } else {
      DrawMarker(p, it.marker, c, r * 1.3, it.colour);
    }
    ink.Text(QPointF(top_left.x() + ink.small() * 1.9, c.y()), it.name, ink.small(),
             Qt::AlignLeft | Qt::AlignVCenter, ink.theme().text);
    y += lh;
  }
}

// A plot frame: axes with ticks and labels around a data rectangle. Returns the data rectangle.
struct Frame {
  QRectF data;
  Axis x, y;
  bool log_y = false;
  QPointF Map(double vx, double vy) const {
    const double fx = (vx - x.lo) / (x.hi - x.lo);
    const double fy = (vy - y.lo) / (y.hi - y.lo);
    return {data.left() + fx * data.width(), data.bottom() - fy * data.height()};
  }
};

// Vertical room for category names set at 45 degrees.
double SlantRoom(Ink& ink) { return ink.LineHeight(ink.small()) * 4.5; }

Frame LayoutFrame(Ink& ink, const QRectF& rect, const Axis& x, const Axis& y, const QString& x_label,
                  const QString& y_label, const std::vector<QString>& x_categories = {}) {
  Frame f;
  f.x = x, f.y = y;
  double tick_w = 0;
  for (double t : y.ticks) tick_w = std::max(tick_w, ink.Width(TickLabel(t, y.decimals), ink.small()));
  const double lh = ink.LineHeight(ink.small());
  const double left = (y_label.isEmpty() ? 0 : ink.LineHeight(ink.body()) * 1.1) + tick_w + ink.small() * 0.6;
  double label_h = lh * 1.2;
  if (!x_categories.empty()) {
    double widest = 0;
    for (const QString& c : x_categories) widest = std::max(widest, ink.Width(c, ink.small()));
    const double slot = (rect.width() - left) / x_categories.size();
    if (widest > slot * 0.98) label_h = std::min(SlantRoom(ink), widest * 0.72 + lh);
  }
  const double bottom = label_h + (x_label.isEmpty() ? 0 : ink.LineHeight(ink.body()) * 1.05);
  f.data = QRectF(rect.left() + left, rect.top() + lh * 0.6, rect.width() - left - ink.small() * 0.6,
                  rect.height() - bottom - lh * 0.6);
  return f;
}

void DrawFrame(Ink& ink, const Frame& f, const QString& x_label, const QString& y_label, const QRectF& rect,
               const std::vector<QString>& x_categories = {}) {
  QPainter& p = ink.painter();
  const Theme& th = ink.theme();
  const double tick = ink.small() * 0.35;
  const double line = std::max(0.5, ink.body() * 0.07);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  // Light grid at the y ticks.
  p.setPen(ink.Pen(th.grid, line * 0.8));
  for (double t : f.y.ticks) {
    const double yy = f.Map(f.x.lo, t).y();
    p.drawLine(QPointF(f.data.left(), yy), QPointF(f.data.right(), yy));
  }
  p.setPen(ink.Pen(th.axis, line));
  p.drawLine(f.data.bottomLeft(), f.data.bottomRight());
  p.drawLine(f.data.bottomLeft(), f.data.topLeft());
  for (double t : f.y.ticks) {
    const QPointF at = f.Map(f.x.lo, t);
    p.drawLine(at, at - QPointF(tick, 0));
    ink.Text(at - QPointF(tick * 1.6, 0), TickLabel(t, f.y.decimals), ink.small(), Qt::AlignRight | Qt::AlignVCenter, th.muted);
  }
  if (x_categories.empty()) {
    for (double t : f.x.ticks) {
      const QPointF at = f.Map(t, f.y.lo);
      p.drawLine(at, at + QPointF(0, tick));
      ink.Text(at + QPointF(0, tick * 1.4), TickLabel(t, f.x.decimals), ink.small(), Qt::AlignHCenter | Qt::AlignTop, th.muted);
    }
  } else {
    const double slot = f.data.width() / x_categories.size();
    double widest = 0;
    for (const QString& c : x_categories) widest = std::max(widest, ink.Width(c, ink.small()));
    // Names that do not fit their slot are set at 45 degrees (LayoutFrame left room for them).
    const bool slanted = widest > slot * 0.98;
    for (size_t i = 0; i < x_categories.size(); ++i) {
      const QPointF at(f.data.left() + slot * (i + 0.5), f.data.bottom());
      if (slanted) {
        ink.Text(at + QPointF(0, tick * 1.4), ink.Elide(x_categories[i], ink.small(), SlantRoom(ink) / 0.72), ink.small(),
                 Qt::AlignRight | Qt::AlignTop, th.muted, false, -45);
      } else {
        ink.Text(at + QPointF(0, tick * 1.4), x_categories[i], ink.small(), Qt::AlignHCenter | Qt::AlignTop, th.muted);
      }
    }
  }
  if (!x_label.isEmpty()) {
    ink.Text(QPointF(f.data.center().x(), rect.bottom()), x_label, ink.body(), Qt::AlignHCenter | Qt::AlignBottom, th.text);
  }
  if (!y_label.isEmpty()) {
    ink.Text(QPointF(rect.left(), f.data.center().y()), y_label, ink.body(), Qt::AlignHCenter | Qt::AlignTop, th.text, false, -90);
  }
  p.restore();
}


std::vector<LegendItem> ScatterLegend(const ScatterPanel& s) {
  std::vector<LegendItem> items;
  for (const FigSeries& series : s.series) {
    if (series.in_legend) items.push_back({Q(series.name), PaletteColour(series.colour), series.marker});
  }
  return items;
}

// Where a legend goes: right of the plot when it takes under 38% of the width, else below the
// plot in two columns. Returns the plot's rectangle.
struct LegendPlacement {
  QRectF plot;
  bool right = true;
  double height = 0;
};

LegendPlacement PlaceLegend(Ink& ink, const QRectF& rect, const std::vector<LegendItem>& legend) {
  LegendPlacement l;
  l.plot = rect;
  if (legend.empty()) return l;
  const double w = LegendWidth(ink, legend);
  l.right = w < rect.width() * 0.38;
  if (l.right) {
    l.plot.setRight(rect.right() - w - ink.small() * 0.5);
  } else {
    l.height = (legend.size() + 1) / 2 * ink.LineHeight(ink.small()) * 1.15;
    l.plot.setBottom(rect.bottom() - l.height);
  }
  return l;
}

void DrawPlacedLegend(Ink& ink, const std::vector<LegendItem>& legend, const LegendPlacement& l, const QRectF& rect,
                      const QRectF& data) {
  if (legend.empty()) return;
  if (l.right) {
    DrawLegend(ink, legend, QPointF(l.plot.right() + ink.small() * 0.5, data.top()), data.height());
    return;
  }
  std::vector<LegendItem> left(legend.begin(), legend.begin() + (legend.size() + 1) / 2);
  std::vector<LegendItem> right(legend.begin() + (legend.size() + 1) / 2, legend.end());
  DrawLegend(ink, left, QPointF(rect.left(), l.plot.bottom()), l.height);
  DrawLegend(ink, right, QPointF(rect.left() + rect.width() / 2, l.plot.bottom()), l.height);
}

// Ticks for the room an axis has: about one per five body-text widths across, per 2.5 lines up.
int TicksAcross(Ink& ink, double width) { return std::clamp(static_cast<int>(width / (ink.small() * 6)), 2, 6); }
int TicksUp(Ink& ink, double height) { return std::clamp(static_cast<int>(height / (ink.LineHeight(ink.small()) * 2.2)), 2, 6); }

// Dashed vertical lines (thresholds) with their label at the top.
void DrawReferenceLines(Ink& ink, const Frame& f, const std::vector<FigLine>& lines, double width) {
  QPainter& p = ink.painter();
  for (const FigLine& l : lines) {
    const QPointF bottom = f.Map(l.value, f.y.lo), top = f.Map(l.value, f.y.hi);
    p.setPen(ink.Pen(PaletteColour(l.colour), width, Qt::DashLine));
    p.drawLine(bottom, top);
    ink.Text(top + QPointF(ink.small() * 0.3, 0), Q(l.label), ink.small(), Qt::AlignLeft | Qt::AlignTop, PaletteColour(l.colour));
  }
}

}  // namespace

void DrawScatter(Ink& ink, const ScatterPanel& s, const QRectF& rect) {
  QPainter& p = ink.painter();
  const std::vector<LegendItem> legend = ScatterLegend(s);
  const LegendPlacement placed = PlaceLegend(ink, rect, legend);
  const QRectF plot = placed.plot;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  int64_t bulk = 0;
  for (const FigSeries& series : s.series) {
    for (size_t i = 0; i < series.x.size(); ++i) {
      xlo = std::min(xlo, series.x[i]), xhi = std::max(xhi, series.x[i]);
      ylo = std::min(ylo, series.y[i]), yhi = std::max(yhi, series.y[i]);
    }
    if (series.bulk) bulk += static_cast<int64_t>(series.x.size());
  }
  Frame f = LayoutFrame(ink, plot, NiceAxis(xlo, xhi, TicksAcross(ink, plot.width())),
                        NiceAxis(ylo, yhi, TicksUp(ink, plot.height())), Q(s.x_label), Q(s.y_label));
  DrawFrame(ink, f, Q(s.x_label), Q(s.y_label), plot);
  p.save();
  p.setClipRect(f.data.adjusted(-2, -2, 2, 2));
  p.setRenderHint(QPainter::Antialiasing, true);
  const bool density = bulk > s.density_threshold;
  const double r = std::clamp(ink.small() * (bulk > 5000 ? 0.12 : bulk > 500 ? 0.2 : 0.3), 0.6, 6.0);
  for (const FigArrow& a : s.arrows) {
    const QPointF from = f.Map(a.x0, a.y0), to = f.Map(a.x1, a.y1);
    QColor c = PaletteColour(a.colour);
    c.setAlphaF(0.6);
    p.setPen(ink.Pen(c, std::max(0.4, r * 0.25)));
    p.drawLine(from, to);
    const double ang = std::atan2(to.y() - from.y(), to.x() - from.x()), head = r * 1.8;
    QPolygonF tip;
    tip << to << to - QPointF(head * std::cos(ang - 0.4), head * std::sin(ang - 0.4))
        << to - QPointF(head * std::cos(ang + 0.4), head * std::sin(ang + 0.4));
    p.setPen(Qt::NoPen);
    p.setBrush(c);
    p.drawPolygon(tip);
  }
  for (const FigSeries& series : s.series) {
    QColor c = PaletteColour(series.colour);
    if (density && series.bulk) {
      // A 2-D histogram per series, alpha from log counts, drawn as one image.
      const int bins_x = 160, bins_y = std::max(20, static_cast<int>(160 * f.data.height() / f.data.width()));
      std::vector<int> counts(static_cast<size_t>(bins_x) * bins_y, 0);
      int peak = 0;
      for (size_t i = 0; i < series.x.size(); ++i) {
        const int bx = std::clamp(static_cast<int>((series.x[i] - f.x.lo) / (f.x.hi - f.x.lo) * bins_x), 0, bins_x - 1);
        const int by = std::clamp(static_cast<int>((f.y.hi - series.y[i]) / (f.y.hi - f.y.lo) * bins_y), 0, bins_y - 1);
        peak = std::max(peak, ++counts[static_cast<size_t>(by) * bins_x + bx]);
      }
      QImage img(bins_x, bins_y, QImage::Format_ARGB32);
      img.fill(Qt::transparent);
      for (int by = 0; by < bins_y; ++by) {
        for (int bx = 0; bx < bins_x; ++bx) {
          const int n = counts[static_cast<size_t>(by) * bins_x + bx];
          if (!n) continue;
          const double a = 0.15 + 0.85 * std::log1p(n) / std::log1p(peak);
          img.setPixelColor(bx, by, QColor(c.red(), c.green(), c.blue(), static_cast<int>(a * 200)));
        }
      }
      p.save();
      p.setRenderHint(QPainter::SmoothPixmapTransform, false);
      p.setRenderHint(QPainter::LosslessImageRendering, true);
      p.drawImage(f.data, img);
      p.restore();
      continue;
    }
    if (series.bulk && series.x.size() > 300) c.setAlphaF(0.7);
    for (size_t i = 0; i < series.x.size(); ++i) DrawMarker(p, series.marker, f.Map(series.x[i], series.y[i]), r, c);
  }
  p.restore();
  DrawPlacedLegend(ink, legend, placed, rect, f.data);
}

void DrawCurves(Ink& ink, const CurvePanel& c, const QRectF& rect) {
  QPainter& p = ink.painter();
  std::vector<LegendItem> legend;
  for (const FigCurve& curve : c.curves) legend.push_back({Q(curve.name), PaletteColour(curve.colour), curve.marker, true});
  for (const FigBand& band : c.bands) {
    QColor col = PaletteColour(band.colour);
    col.setAlphaF(0.3);
    legend.push_back({Q(band.name), col, FigMarker::kSquare, false, true});
  }
  if (legend.size() < 2) legend.clear();
  const LegendPlacement placed = PlaceLegend(ink, rect, legend);
  const QRectF plot = placed.plot;
  double xlo = 1e300, xhi = -1e300, ylo = 1e300, yhi = -1e300;
  auto grow_y = [&](double v) {
    if (std::isfinite(v)) ylo = std::min(ylo, v), yhi = std::max(yhi, v);
  };
  for (const FigCurve& curve : c.curves) {
    for (size_t i = 0; i < curve.x.size(); ++i) {
      xlo = std::min(xlo, curve.x[i]), xhi = std::max(xhi, curve.x[i]);
      grow_y(curve.y[i]);
      if (i < curve.lo.size()) grow_y(curve.lo[i]), grow_y(curve.hi[i]);
    }
  }
  for (const FigBand& band : c.bands) {
    for (size_t i = 0; i < band.x.size(); ++i) {
      xlo = std::min(xlo, band.x[i]), xhi = std::max(xhi, band.x[i]);
      grow_y(band.lo[i]), grow_y(band.hi[i]);
    }
  }
  for (const FigLine& l : c.vlines) xlo = std::min(xlo, l.value), xhi = std::max(xhi, l.value);
  Frame f = LayoutFrame(ink, plot, NiceAxis(xlo, xhi, TicksAcross(ink, plot.width())),
                        NiceAxis(ylo, yhi, TicksUp(ink, plot.height())), Q(c.x_label), Q(c.y_label));
  DrawFrame(ink, f, Q(c.x_label), Q(c.y_label), plot);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  for (const FigBand& band : c.bands) {
    QPolygonF poly;
    for (size_t i = 0; i < band.x.size(); ++i) poly << f.Map(band.x[i], band.hi[i]);
    for (size_t i = band.x.size(); i-- > 0;) poly << f.Map(band.x[i], band.lo[i]);
    QColor col = PaletteColour(band.colour);
    col.setAlphaF(0.25);
    p.setPen(Qt::NoPen);
    p.setBrush(col);
    p.drawPolygon(poly);
  }
  const double lw = std::max(0.8, ink.body() * 0.12), r = ink.small() * 0.3;
  for (const FigCurve& curve : c.curves) {
    const QColor col = PaletteColour(curve.colour);
    QPolygonF line;
    for (size_t i = 0; i < curve.x.size(); ++i) {
      if (std::isfinite(curve.y[i])) line << f.Map(curve.x[i], curve.y[i]);
    }
    p.setPen(ink.Pen(col, lw, curve.dashed ? Qt::DashLine : Qt::SolidLine));
    p.setBrush(Qt::NoBrush);
    p.drawPolyline(line);
    for (size_t i = 0; i < curve.lo.size() && i < curve.x.size(); ++i) {
      const QPointF a = f.Map(curve.x[i], curve.lo[i]), b = f.Map(curve.x[i], curve.hi[i]);
      p.setPen(ink.Pen(col, lw * 0.7));
      p.drawLine(a, b);
      p.drawLine(a - QPointF(r, 0), a + QPointF(r, 0));
      p.drawLine(b - QPointF(r, 0), b + QPointF(r, 0));
    }
    // Dense curves get a marker every few points: enough to tell the shape in greyscale.
    const int every = std::max(1, static_cast<int>(line.size()) / 12);
    for (int i = 0; i < line.size(); i += every) DrawMarker(p, curve.marker, line[i], r * 1.2, col);
  }
  DrawReferenceLines(ink, f, c.vlines, lw);
  p.restore();
  DrawPlacedLegend(ink, legend, placed, rect, f.data);
}

void DrawBars(Ink& ink, const BarPanel& b, const QRectF& rect) {
  QPainter& p = ink.painter();
  std::vector<LegendItem> legend;
  for (const FigBarSeries& s : b.series) legend.push_back({Q(s.name), ColourOf(s.colour, s.hex), FigMarker::kSquare, false, true});
  if (legend.size() < 2) legend.clear();
  const LegendPlacement placed = PlaceLegend(ink, rect, legend);
  const QRectF plot = placed.plot;
  double vmax = 0;
  for (const FigBarSeries& s : b.series) {
    for (double v : s.values) vmax = std::max(vmax, std::isfinite(v) ? v : 0);
  }
  const bool histogram = !b.edges.empty();
  std::vector<QString> categories;
  for (const std::string& c : b.categories) categories.push_back(Q(c));
  Axis x = Axis{0, static_cast<double>(categories.size()), {}, 0};
  if (histogram) x = [&] {
    Axis a = NiceAxis(b.edges.front(), b.edges.back(), TicksAcross(ink, plot.width()));
    a.lo = b.edges.front(), a.hi = b.edges.back();
    a.ticks.erase(std::remove_if(a.ticks.begin(), a.ticks.end(), [&](double t) { return t < a.lo - 1e-12 || t > a.hi + 1e-12; }), a.ticks.end());
    return a;
  }();
  Axis y = NiceAxis(0, vmax, TicksUp(ink, plot.height()));
  y.ticks.erase(std::remove_if(y.ticks.begin(), y.ticks.end(), [](double t) { return t < 0; }), y.ticks.end());
  y.lo = 0;
  Frame f = LayoutFrame(ink, plot, x, y, Q(b.x_label), Q(b.y_label), categories);
  DrawFrame(ink, f, Q(b.x_label), Q(b.y_label), plot, histogram ? std::vector<QString>{} : categories);
  p.save();
  p.setRenderHint(QPainter::Antialiasing, true);
  const double lw = std::max(0.8, ink.body() * 0.12);
  if (histogram) {
    for (const FigBarSeries& s : b.series) {
      QColor col = ColourOf(s.colour, s.hex);
      QPolygonF step;
      for (size_t i = 0; i < s.values.size() && i + 1 < b.edges.size(); ++i) {
        step << f.Map(b.edges[i], i == 0 ? 0 : s.values[i]) << f.Map(b.edges[i], s.values[i])
             << f.Map(b.edges[i + 1], s.values[i]);
      }
      if (!s.values.empty()) step << f.Map(b.edges[s.values.size()], 0);
      QColor fill = col;
      fill.setAlphaF(0.18);
      QPolygonF area = step;
      area << f.Map(b.edges.front(), 0);
      p.setPen(Qt::NoPen);
      p.setBrush(fill);
      p.drawPolygon(area);
      p.setPen(ink.Pen(col, lw));
      p.setBrush(Qt::NoBrush);
      p.drawPolyline(step);
    }
  } else {
    const double slot = f.data.width() / std::max<size_t>(categories.size(), 1);
    const double bar = slot * 0.8 / std::max<size_t>(b.series.size(), 1);
    for (size_t si = 0; si < b.series.size(); ++si) {
      const FigBarSeries& s = b.series[si];
      for (size_t i = 0; i < s.values.size() && i < categories.size(); ++i) {
        const QPointF top = f.Map(0, s.values[i]);
        const double left = f.data.left() + slot * i + slot * 0.1 + bar * si;
        p.fillRect(QRectF(left, top.y(), bar * 0.92, f.data.bottom() - top.y()), ColourOf(s.colour, s.hex));
      }
    }
  }
  DrawReferenceLines(ink, f, b.vlines, lw);
  p.restore();
  DrawPlacedLegend(ink, legend, placed, rect, f.data);
}

// Column widths of a table at a font size.

}  // namespace synthlens::figures::internal
