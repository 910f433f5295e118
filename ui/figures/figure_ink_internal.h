#pragma once
// Internal to ui/figures: text, lines and images in points on a painter (Ink), shared by the
// renderer (grids, tables, layout) and the plots (scatter, curves, bars). Not a public header.

#include <QFontMetricsF>
#include <QImage>
#include <QPainter>
#include <QPainterPath>
#include <QPaintDevice>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/jobs/figure_data.h"
#include "ui/figures/figure_renderer.h"

namespace synthlens::figures::internal {


inline constexpr const char* kFontFamily = "DejaVu Sans";

inline QString Q(const std::string& s) { return QString::fromStdString(s); }

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

inline QColor ColourOf(int index, const std::string& hex) {
  const QColor named(QString::fromStdString(hex));
  return !hex.empty() && named.isValid() ? named : PaletteColour(index);
}

inline QImage ToImage(const cv::Mat& rgb) {
  if (rgb.empty()) return {};
  cv::Mat m = rgb;
  if (!m.isContinuous()) m = m.clone();
  return QImage(m.data, m.cols, m.rows, static_cast<int>(m.step), QImage::Format_RGB888).copy();
}


// The plots (figure_plots.cc): axes with nice ticks, markers by shape, legends outside the data.
void DrawScatter(Ink& ink, const ScatterPanel& s, const QRectF& rect);
void DrawCurves(Ink& ink, const CurvePanel& c, const QRectF& rect);
void DrawBars(Ink& ink, const BarPanel& b, const QRectF& rect);

}  // namespace synthlens::figures::internal
