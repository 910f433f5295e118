#include "ui/figures/figure_renderer.h"

#include <QFontDatabase>
#include <QFontMetricsF>
#include <QGuiApplication>
#include <QImage>
#include <QPainterPath>
#include <QPaintDevice>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <map>

#include "core/util/logging.h"

namespace synthlens::figures {
namespace {

constexpr const char* kFontFamily = "DejaVu Sans";

QString Q(const std::string& s) { return QString::fromStdString(s); }

// Text, lines and images in points on a painter whose transform maps points to device units.
class Ink {
 public:
  Ink(QPainter& painter, const RenderOptions& options)
      : p_(painter), o_(options), dpi_(painter.device()->logicalDpiY()) {}

  QPainter& painter() { return p_; }
  const Theme& theme() const { return o_.theme; }
  const RenderOptions& options() const { return o_; }
  double body() const { return o_.page.font_pt; }
  double small() const { return std::max(o_.page.min_font_pt, 0.85 * o_.page.font_pt); }
  double title() const { return 1.1 * o_.page.font_pt; }
  double scale() const { return dpi_ / 72.0; }

  // A font of `pt` points once the painter's points-to-device scale applies.
  QFont Font(double pt, bool bold = false, bool italic = false) const {
    QFont f(QString::fromLatin1(kFontFamily));
    f.setPointSizeF(pt * 72.0 / dpi_);
    f.setBold(bold);
    f.setItalic(italic);
    f.setHintingPreference(QFont::PreferNoHinting);
    f.setKerning(true);
    return f;
  }
  double Width(const QString& text, double pt, bool bold = false) const {
    return QFontMetricsF(Font(pt, bold), p_.device()).horizontalAdvance(text);
  }
  double LineHeight(double pt) const { return QFontMetricsF(Font(pt), p_.device()).height(); }
  double Ascent(double pt) const { return QFontMetricsF(Font(pt), p_.device()).ascent(); }

  // Draws one line of text: `align` picks the anchor (left/right/hcenter, top/bottom/vcenter).
  void Text(QPointF at, const QString& text, double pt, Qt::Alignment align, QColor colour,
            bool bold = false, double rotate_deg = 0, bool italic = false) {
    if (text.isEmpty()) return;
    const QFont font = Font(pt, bold, italic);
    const QFontMetricsF fm(font, p_.device());
    const double w = fm.horizontalAdvance(text), h = fm.height();
    double x = 0, y = 0;
    if (align & Qt::AlignRight) x = -w;
    else if (align & Qt::AlignHCenter) x = -w / 2;
    if (align & Qt::AlignBottom) y = -h;
    else if (align & Qt::AlignVCenter) y = -h / 2;
    p_.save();
    p_.translate(at);
    if (rotate_deg != 0) p_.rotate(rotate_deg);
    if (o_.text_as_paths) {
      // Glyph outlines from a large pixel-sized font, scaled to the point size: independent of DPI.
      QFont big = font;
      big.setPixelSize(1000);
      QPainterPath path;
      path.addText(QPointF(0, 0), big, text);
      const double k = fm.height() / QFontMetricsF(big).height();
      p_.translate(x, y + fm.ascent());
      p_.scale(k, k);
      p_.setPen(Qt::NoPen);
      p_.setBrush(colour);
      p_.drawPath(path);
    } else {
      p_.setFont(font);
      p_.setPen(colour);
      p_.drawText(QPointF(x, y + fm.ascent()), text);
    }
    p_.restore();
  }

  // Shortens text with an ellipsis to fit `width`.
  QString Elide(const QString& text, double pt, double width, bool bold = false) const {
    return QFontMetricsF(Font(pt, bold), p_.device()).elidedText(text, Qt::ElideRight, width);
  }

  // Breaks at " · " (then spaces) into lines that fit `width`; long words are elided. `split_all`
  // puts every " · " part on its own line (a grid whose captions must wrap wraps them all alike).
  QStringList Wrap(const QString& text, double pt, double width, bool split_all = false) const {
    if (split_all) {
      QStringList lines;
      for (const QString& part : text.split(QStringLiteral(" · "))) lines << Elide(part, pt, width);
      return lines;
    }
    QStringList lines;
    for (const QString& para : text.split('\n')) {
      QStringList tokens = para.split(QStringLiteral(" · "));
      const QString sep = tokens.size() > 1 ? QStringLiteral(" · ") : QStringLiteral(" ");
      if (tokens.size() == 1) tokens = para.split(' ');
      QString line;
      for (const QString& t : tokens) {
        const QString candidate = line.isEmpty() ? t : line + sep + t;
        if (Width(candidate, pt) <= width || line.isEmpty()) {
          line = candidate;
        } else {
          lines << Elide(line, pt, width);
          line = t;
        }
      }
      lines << Elide(line, pt, width);
    }
    return lines;
  }

  QPen Pen(QColor c, double width_pt, Qt::PenStyle style = Qt::SolidLine) const {
    QPen pen(c, width_pt, style, Qt::FlatCap, Qt::MiterJoin);
    pen.setCosmetic(false);
    return pen;
  }

  // An image fitted into `box` keeping its aspect: nearest-neighbour at integer factors when
  // enlarging (a 28 px image stays crisp), area averaging when shrinking. Raster output blits at
  // device pixels; vector output embeds the image enlarged to >= 300 dpi, losslessly.
  QRectF Image(const QImage& image, const QRectF& box) {
    if (image.isNull() || box.width() <= 0 || box.height() <= 0) return {};
    const double fit = std::min(box.width() / image.width(), box.height() / image.height());
    if (o_.raster) {
      const double device_fit = fit * scale();
      QImage drawn;
      if (device_fit >= 1) {
        const int k = static_cast<int>(std::floor(device_fit + 1e-6));
        drawn = image.scaled(image.width() * k, image.height() * k, Qt::IgnoreAspectRatio, Qt::FastTransformation);
      } else {
        drawn = image.scaled(std::max(1, static_cast<int>(image.width() * device_fit)),
                             std::max(1, static_cast<int>(image.height() * device_fit)), Qt::KeepAspectRatio,
                             Qt::SmoothTransformation);
      }
      const QPointF centre = p_.transform().map(box.center());
      const QPoint at(static_cast<int>(std::lround(centre.x() - drawn.width() / 2.0)),
                      static_cast<int>(std::lround(centre.y() - drawn.height() / 2.0)));
      p_.save();
      p_.resetTransform();
      p_.drawImage(at, drawn);
      p_.restore();
      const QTransform inv = p_.transform().inverted();
      return inv.mapRect(QRectF(at, drawn.size()));
    }
    const QSizeF size(image.width() * fit, image.height() * fit);
    const QRectF target(box.center() - QPointF(size.width() / 2, size.height() / 2), size);
    const double want_px = std::max(target.width(), target.height()) / 72.0 * 300.0;
    const int k = std::clamp(static_cast<int>(std::ceil(want_px / std::max(image.width(), image.height()))), 1,
                             std::max(1, 2048 / std::max(image.width(), image.height())));
    const QImage drawn = k > 1 ? image.scaled(image.width() * k, image.height() * k, Qt::IgnoreAspectRatio,
                                              Qt::FastTransformation)
                               : image;
    p_.save();
    p_.setRenderHint(QPainter::SmoothPixmapTransform, false);
    p_.setRenderHint(QPainter::LosslessImageRendering, true);
    p_.drawImage(target, drawn);
    p_.restore();
    return target;
  }

 private:
  QPainter& p_;
  const RenderOptions& o_;
  double dpi_;
};

QColor ColourOf(int index, const std::string& hex) {
  const QColor named(QString::fromStdString(hex));
  return !hex.empty() && named.isValid() ? named : PaletteColour(index);
}

QImage ToImage(const cv::Mat& rgb) {
  if (rgb.empty()) return {};
  cv::Mat m = rgb;
  if (!m.isContinuous()) m = m.clone();
  return QImage(m.data, m.cols, m.rows, static_cast<int>(m.step), QImage::Format_RGB888).copy();
}

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

// ---------------------------------------------------------------- panels

double GridTile(Ink& ink, const ImageGridPanel& g, double width, double* label_w, double* caption_h, double* header_h,
                bool* split_captions) {
  size_t columns = 0;
  for (const auto& row : g.rows) columns = std::max(columns, row.size());
  *label_w = 0;
  for (const std::string& l : g.row_labels) {
    for (const QString& line : Q(l).split('\n')) *label_w = std::max(*label_w, ink.Width(line, ink.small()));
  }
  *label_w = std::min(*label_w, width * 0.22);
  if (*label_w > 0) *label_w += ink.small() * 0.6;
  const double gap = ink.small() * 0.25;
  double tile = (width - *label_w - gap * (columns - 1)) / std::max<size_t>(columns, 1);
  tile = std::max(tile, 4.0);
  int lines = 0;
  *split_captions = false;
  for (const auto& row : g.rows) {
    for (const FigTile& t : row) *split_captions |= !t.caption.empty() && ink.Width(Q(t.caption), ink.small()) > tile;
  }
  for (const auto& row : g.rows) {
    for (const FigTile& t : row) {
      if (!t.caption.empty()) lines = std::max(lines, static_cast<int>(ink.Wrap(Q(t.caption), ink.small(), tile, *split_captions).size()));
    }
  }
  *caption_h = lines * ink.LineHeight(ink.small());
  *header_h = g.headers.empty() ? 0 : ink.LineHeight(ink.small()) * 1.35;
  return tile;
}

double PreferredGridHeight(Ink& ink, const ImageGridPanel& g, double width) {
  double label_w, caption_h, header_h;
  bool split;
  const double tile = GridTile(ink, g, width, &label_w, &caption_h, &header_h, &split);
  const double gap = ink.small() * 0.25;
  return header_h + g.rows.size() * (tile + caption_h + gap);
}

void DrawGrid(Ink& ink, const ImageGridPanel& g, const QRectF& rect) {
  QPainter& p = ink.painter();
  const Theme& th = ink.theme();
  double label_w, caption_h, header_h;
  bool split;
  double tile = GridTile(ink, g, rect.width(), &label_w, &caption_h, &header_h, &split);
  const double gap = ink.small() * 0.25;
  // Shrink tiles to fit the height when the page is fixed.
  const double rows = static_cast<double>(g.rows.size());
  const double max_tile = (rect.height() - header_h - rows * (caption_h + gap)) / std::max(rows, 1.0);
  tile = std::max(4.0, std::min(tile, max_tile));
  size_t columns = 0;
  for (const auto& row : g.rows) columns = std::max(columns, row.size());
  const double used_w = label_w + columns * tile + (columns - 1) * gap;
  const double x0 = rect.left() + (rect.width() - used_w) / 2 + label_w;
  // Centred in a fixed page's cell.
  const double used_h = header_h + rows * (tile + caption_h + gap);
  double y = rect.top() + std::max(0.0, (rect.height() - used_h) / 2);
  if (!g.headers.empty()) {
    int col = 0;
    for (const FigHeader& h : g.headers) {
      const double l = x0 + col * (tile + gap), r = x0 + (col + h.span) * (tile + gap) - gap;
      ink.Text(QPointF((l + r) / 2, y), ink.Elide(Q(h.text), ink.small(), r - l, true), ink.small(),
               Qt::AlignHCenter | Qt::AlignTop, th.text, true);
      p.save();
      p.setPen(ink.Pen(th.axis, std::max(0.4, ink.small() * 0.05)));
      const double ry = y + ink.LineHeight(ink.small()) * 1.1;
      p.drawLine(QPointF(l + gap * 0.5, ry), QPointF(r - gap * 0.5, ry));
      p.restore();
      col += h.span;
    }
    y += header_h;
  }
  for (size_t r = 0; r < g.rows.size(); ++r) {
    if (r < g.row_labels.size() && label_w > 0) {
      const QStringList lines = Q(g.row_labels[r]).split('\n');
      const double lh = ink.LineHeight(ink.small());
      double ly = y + tile / 2 - lh * lines.size() / 2;
      for (const QString& line : lines) {
        ink.Text(QPointF(x0 - ink.small() * 0.5, ly), ink.Elide(line, ink.small(), label_w - ink.small() * 0.5),
                 ink.small(), Qt::AlignRight | Qt::AlignTop, th.text);
        ly += lh;
      }
    }
    for (size_t c = 0; c < g.rows[r].size(); ++c) {
      const FigTile& t = g.rows[r][c];
      const QRectF cell(x0 + c * (tile + gap), y, tile, tile);
      const QImage image = ToImage(t.image);
      const QRectF drawn = ink.Image(image, cell);
      if (!drawn.isEmpty()) {
        p.save();
        p.setRenderHint(QPainter::Antialiasing, true);
        const double sx = drawn.width() / image.width(), sy = drawn.height() / image.height();
        for (const FigBox& b : t.boxes) {
          const QRectF box(drawn.left() + b.x * sx, drawn.top() + b.y * sy, b.w * sx, b.h * sy);
          p.setPen(ink.Pen(ColourOf(b.colour, b.hex), std::max(0.6, tile * 0.012)));
          p.setBrush(Qt::NoBrush);
          p.drawRect(box);
        }
        if (t.frame_colour >= 0) {
          const double w = std::max(0.8, tile * 0.025);
          p.setPen(ink.Pen(PaletteColour(t.frame_colour), w));
          p.setBrush(Qt::NoBrush);
          p.drawRect(drawn.adjusted(w / 2, w / 2, -w / 2, -w / 2));
        }
        p.restore();
      }
      if (!t.caption.empty()) {
        double cy = y + tile + gap * 0.4;
        for (const QString& line : ink.Wrap(Q(t.caption), ink.small(), tile, split)) {
          ink.Text(QPointF(cell.center().x(), cy), line, ink.small(), Qt::AlignHCenter | Qt::AlignTop, th.muted);
          cy += ink.LineHeight(ink.small());
        }
      }
    }
    y += tile + caption_h + gap;
  }
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
  for (const FigLine& l : c.vlines) {
    const QPointF a = f.Map(l.value, f.y.lo), b = f.Map(l.value, f.y.hi);
    p.setPen(ink.Pen(PaletteColour(l.colour), lw, Qt::DashLine));
    p.drawLine(a, b);
    ink.Text(b + QPointF(ink.small() * 0.3, 0), Q(l.label), ink.small(), Qt::AlignLeft | Qt::AlignTop, PaletteColour(l.colour));
  }
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
  for (const FigLine& l : b.vlines) {
    const QPointF a = f.Map(l.value, f.y.lo), t = f.Map(l.value, f.y.hi);
    p.setPen(ink.Pen(PaletteColour(l.colour), lw, Qt::DashLine));
    p.drawLine(a, t);
    ink.Text(t + QPointF(ink.small() * 0.3, 0), Q(l.label), ink.small(), Qt::AlignLeft | Qt::AlignTop, PaletteColour(l.colour));
  }
  p.restore();
  DrawPlacedLegend(ink, legend, placed, rect, f.data);
}

// Column widths of a table at a font size.
std::vector<double> TableColumns(Ink& ink, const TablePanel& t, double pt) {
  std::vector<double> w(t.header.size(), 0);
  for (size_t c = 0; c < t.header.size(); ++c) w[c] = ink.Width(Q(t.header[c]), pt, true);
  for (const auto& row : t.rows) {
    for (size_t c = 0; c < row.size() && c < w.size(); ++c) w[c] = std::max(w[c], ink.Width(Q(row[c]), pt));
  }
  return w;
}

double TableFont(Ink& ink, const TablePanel& t, double width) {
  double pt = ink.body();
  auto total = [&](double size) {
    double sum = 0;
    for (double c : TableColumns(ink, t, size)) sum += c + size * 1.2;
    return sum;
  };
  while (pt > ink.options().page.min_font_pt && total(pt) > width) pt = std::max(ink.options().page.min_font_pt, pt - 0.25);
  return pt;
}

double PreferredTableHeight(Ink& ink, const TablePanel& t, double width) {
  const double pt = TableFont(ink, t, width);
  return ink.LineHeight(pt) * (1.45 * (t.rows.size() + 1) + 0.6) + (t.note.empty() ? 0 : ink.LineHeight(ink.small()) * 1.6);
}

void DrawTable(Ink& ink, const TablePanel& t, const QRectF& rect) {
  QPainter& p = ink.painter();
  const Theme& th = ink.theme();
  const double pt = TableFont(ink, t, rect.width());
  const std::vector<double> widths = TableColumns(ink, t, pt);
  const double pad = pt * 1.2;
  double total = 0;
  for (double w : widths) total += w + pad;
  total -= pad;
  const double x0 = rect.left() + std::max(0.0, (rect.width() - total) / 2);
  const double row_h = ink.LineHeight(pt) * 1.45;
  double y = rect.top() + std::max(0.0, (rect.height() - PreferredTableHeight(ink, t, rect.width())) / 2);
  auto rule = [&](double width) {
    p.save();
    p.setPen(ink.Pen(th.text, width));
    p.drawLine(QPointF(x0, y), QPointF(x0 + total, y));
    p.restore();
  };
  rule(std::max(0.6, pt * 0.09));
  y += pt * 0.2;
  auto draw_row = [&](const std::vector<std::string>& cells, bool header) {
    double x = x0;
    for (size_t c = 0; c < widths.size(); ++c) {
      const QString text = c < cells.size() ? Q(cells[c]) : QString();
      const bool right = c < t.numeric.size() && t.numeric[c];
      ink.Text(QPointF(right ? x + widths[c] : x, y + row_h / 2), text, pt,
               (right ? Qt::AlignRight : Qt::AlignLeft) | Qt::AlignVCenter, th.text, header);
      x += widths[c] + pad;
    }
    y += row_h;
  };
  draw_row(t.header, true);
  rule(std::max(0.4, pt * 0.05));
  y += pt * 0.1;
  for (const auto& row : t.rows) draw_row(row, false);
  y += pt * 0.1;
  rule(std::max(0.6, pt * 0.09));
  if (!t.note.empty()) {
    y += ink.LineHeight(ink.small()) * 0.4;
    ink.Text(QPointF(x0, y), ink.Elide(Q(t.note), ink.small(), std::max(total, rect.width() - (x0 - rect.left()))),
             ink.small(), Qt::AlignLeft | Qt::AlignTop, th.muted, false, 0, true);
  }
}

double PreferredHeight(Ink& ink, const FigPanel& panel, double width) {
  if (auto* g = std::get_if<ImageGridPanel>(&panel.content)) return PreferredGridHeight(ink, *g, width);
  if (auto* t = std::get_if<TablePanel>(&panel.content)) return PreferredTableHeight(ink, *t, width);
  if (std::holds_alternative<ScatterPanel>(panel.content)) return width * 0.72;
  return width * 0.62;
}

void DrawPanel(Ink& ink, const FigPanel& panel, const QRectF& rect) {
  if (auto* g = std::get_if<ImageGridPanel>(&panel.content)) DrawGrid(ink, *g, rect);
  else if (auto* s = std::get_if<ScatterPanel>(&panel.content)) DrawScatter(ink, *s, rect);
  else if (auto* c = std::get_if<CurvePanel>(&panel.content)) DrawCurves(ink, *c, rect);
  else if (auto* b = std::get_if<BarPanel>(&panel.content)) DrawBars(ink, *b, rect);
  else if (auto* t = std::get_if<TablePanel>(&panel.content)) DrawTable(ink, *t, rect);
}

struct Layout {
  double margin = 0, gap = 0, title_h = 0, caption_h = 0;
  int columns = 1;
  double cell_w = 0;
  std::vector<double> row_heights;  // content height of each row of panels (without titles)
};

bool HasTitle(const FigureData& data, const RenderOptions& o) {
  if (o.panel_labels && data.panels.size() > 1) return true;
  for (const FigPanel& p : data.panels) {
    if (!p.title.empty()) return true;
  }
  return false;
}

Layout ComputeLayout(Ink& ink, const FigureData& data, const RenderOptions& o, double width_pt) {
  Layout l;
  l.margin = ink.body() * 0.6;
  l.gap = ink.body() * 1.0;
  l.columns = std::clamp(data.columns, 1, std::max<int>(1, static_cast<int>(data.panels.size())));
  // A narrow page (a paper column) stacks panels: a plot needs about 22 body-text ems of width.
  const double min_cell = ink.body() * 22;
  while (l.columns > 1 && (width_pt - 2 * l.margin - (l.columns - 1) * l.gap) / l.columns < min_cell) --l.columns;
  l.cell_w = (width_pt - 2 * l.margin - (l.columns - 1) * l.gap) / l.columns;
  l.title_h = HasTitle(data, o) ? ink.LineHeight(ink.title()) * 1.25 : 0;
  l.caption_h = o.caption.empty() ? 0 : ink.LineHeight(ink.body()) * 1.4 * ink.Wrap(Q(o.caption), ink.body(), width_pt - 2 * l.margin).size();
  for (size_t i = 0; i < data.panels.size(); i += l.columns) {
    double h = 0;
    for (size_t j = i; j < std::min(data.panels.size(), i + l.columns); ++j) h = std::max(h, PreferredHeight(ink, data.panels[j], l.cell_w));
    l.row_heights.push_back(h);
  }
  return l;
}

// An ink on a scratch image, for measuring before a device exists.
struct Scratch {
  QImage image{8, 8, QImage::Format_ARGB32};
  QPainter painter;
  Scratch(int dpi) {
    image.setDotsPerMeterX(static_cast<int>(std::lround(dpi / 0.0254)));
    image.setDotsPerMeterY(static_cast<int>(std::lround(dpi / 0.0254)));
    painter.begin(&image);
  }
};

}  // namespace

Theme ThemeNamed(const std::string& name) {
  Theme t;
  if (name == "dark") {
    t.background = QColor(0x1e, 0x1f, 0x22);
    t.text = QColor(0xee, 0xee, 0xee);
    t.muted = QColor(0xbb, 0xbb, 0xbb);
    t.axis = QColor(0xaa, 0xaa, 0xaa);
    t.grid = QColor(0x3a, 0x3c, 0x40);
    t.dark = true;
  } else {
    t.background = name == "transparent" ? QColor(255, 255, 255, 0) : QColor(Qt::white);
    t.text = QColor(0x1a, 0x1a, 0x1a);
    t.muted = QColor(0x4a, 0x4a, 0x4a);
    t.axis = QColor(0x55, 0x55, 0x55);
    t.grid = QColor(0xe4, 0xe4, 0xe4);
  }
  return t;
}

QColor PaletteColour(int index) {
  static const QColor kKinds[] = {QColor(0, 114, 178),   QColor(213, 94, 0),   QColor(0, 158, 115),
                                  QColor(204, 121, 167), QColor(230, 159, 0),  QColor(86, 180, 233),
                                  QColor(240, 228, 66),  QColor(120, 120, 120), QColor(0, 0, 0),
                                  QColor(0xBB, 0xBB, 0xBB)};
  static const QColor kClasses[] = {QColor(0xCC, 0x66, 0x77), QColor(0x33, 0x22, 0x88), QColor(0xDD, 0xCC, 0x77),
                                    QColor(0x11, 0x77, 0x33), QColor(0x88, 0xCC, 0xEE), QColor(0x88, 0x22, 0x55),
                                    QColor(0x44, 0xAA, 0x99), QColor(0x99, 0x99, 0x33), QColor(0xAA, 0x44, 0x99),
                                    QColor(0x55, 0x55, 0x55)};
  static const QColor kViews[] = {QColor(230, 159, 0),  QColor(86, 180, 233), QColor(0, 158, 115),
                                  QColor(240, 228, 66), QColor(0, 114, 178),  QColor(213, 94, 0),
                                  QColor(204, 121, 167), QColor(120, 120, 120)};
  if (index >= 200) return kViews[(index - 200) % 8];
  if (index >= 100) return kClasses[(index - 100) % 10];
  return kKinds[std::max(index, 0) % 10];
}

RenderOptions RenderOptionsOf(const nlohmann::json& spec, bool raster) {
  RenderOptions o;
  auto page = ResolveFigurePage(spec);
  SL_CHECK(page.ok(), "RenderOptionsOf needs a resolved spec: " << page.error());
  o.page = *page;
  o.theme = ThemeNamed(spec.value("theme", std::string("light")));
  o.text_as_paths = spec.value("text", std::string("text")) == "paths";
  o.raster = raster;
  o.caption = spec.value("caption", std::string());
  o.panel_labels = spec.value("panel_labels", true);
  return o;
}

QSizeF FigureSizePt(const FigureData& data, const RenderOptions& options) {
  const double w = options.page.width_in * 72.0;
  if (options.page.height_in > 0) return {w, options.page.height_in * 72.0};
  Scratch scratch(options.page.dpi);
  Ink ink(scratch.painter, options);
  const Layout l = ComputeLayout(ink, data, options, w);
  double h = 2 * l.margin + l.caption_h;
  for (double row : l.row_heights) h += row + l.title_h;
  h += (l.row_heights.size() > 1 ? (l.row_heights.size() - 1) * l.gap : 0);
  // Whole device pixels at the PNG resolution, so PNG and vector share one size.
  const double px = std::ceil(h / 72.0 * options.page.dpi);
  return {w, px * 72.0 / options.page.dpi};
}

void RenderFigure(QPainter& painter, const FigureData& data, const RenderOptions& options, QSizeF size_pt) {
  painter.save();
  const double s = painter.device()->logicalDpiY() / 72.0;
  painter.scale(s, s);
  if (options.theme.background.alpha() > 0) painter.fillRect(QRectF(QPointF(0, 0), size_pt), options.theme.background);
  painter.setRenderHint(QPainter::TextAntialiasing, true);
  Ink ink(painter, options);
  Layout l = ComputeLayout(ink, data, options, size_pt.width());
  // A fixed page: rows share the height left after titles, gaps and caption in proportion.
  double fixed = 2 * l.margin + l.caption_h + l.row_heights.size() * l.title_h +
                 (l.row_heights.size() > 1 ? (l.row_heights.size() - 1) * l.gap : 0);
  double preferred = 0;
  for (double h : l.row_heights) preferred += h;
  const double k = preferred > 0 ? std::max(0.05, (size_pt.height() - fixed) / preferred) : 1;
  double y = l.margin;
  const bool labels = options.panel_labels && data.panels.size() > 1;
  for (size_t row = 0; row < l.row_heights.size(); ++row) {
    const double h = l.row_heights[row] * k;
    for (int c = 0; c < l.columns; ++c) {
      const size_t i = row * l.columns + c;
      if (i >= data.panels.size()) break;
      const double x = l.margin + c * (l.cell_w + l.gap);
      QString title = Q(data.panels[i].title);
      if (labels) title = QStringLiteral("(%1) ").arg(QChar('a' + static_cast<int>(i % 26))) + title;
      if (!title.trimmed().isEmpty()) {
        ink.Text(QPointF(x, y), ink.Elide(title.trimmed(), ink.title(), l.cell_w, true), ink.title(),
                 Qt::AlignLeft | Qt::AlignTop, options.theme.text, true);
      }
      DrawPanel(ink, data.panels[i], QRectF(x, y + l.title_h, l.cell_w, h));
    }
    y += l.title_h + h + l.gap;
  }
  if (!options.caption.empty()) {
    double cy = size_pt.height() - l.margin - l.caption_h + ink.LineHeight(ink.body()) * 0.3;
    for (const QString& line : ink.Wrap(Q(options.caption), ink.body(), size_pt.width() - 2 * l.margin)) {
      ink.Text(QPointF(l.margin, cy), line, ink.body(), Qt::AlignLeft | Qt::AlignTop, options.theme.text);
      cy += ink.LineHeight(ink.body()) * 1.4;
    }
  }
  painter.restore();
}

void EnsureGuiApplication() {
  if (QGuiApplication::instance()) return;
  if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
  static int argc = 1;
  static char name[] = "synthlens";
  static char* argv[] = {name, nullptr};
  static QGuiApplication* app = new QGuiApplication(argc, argv);
  (void)app;
  if (!QFontDatabase::families().contains(QString::fromLatin1(kFontFamily))) {
    SL_LOG_WARNING("figures: the font '" << kFontFamily << "' is not installed (Debian: fonts-dejavu-core); "
                   "text falls back to the default font");
  }
}

}  // namespace synthlens::figures
