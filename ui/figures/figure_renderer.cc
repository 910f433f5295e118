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

#include "ui/figures/figure_ink_internal.h"

namespace synthlens::figures {

using namespace internal;

namespace {

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
  std::vector<std::vector<size_t>> rows;  // the panels of each row
  std::vector<bool> full_row;             // per panel: alone on its row, at the full width
  double Width(size_t panel, double full) const { return full_row[panel] ? full : cell_w; }
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
  // Rows fill left to right; a full-width panel starts a row of its own.
  const double full = width_pt - 2 * l.margin;
  l.full_row.assign(data.panels.size(), false);
  for (size_t i = 0; i < data.panels.size(); ++i) {
    l.full_row[i] = data.panels[i].full_width && l.columns > 1;
    if (l.full_row[i] || l.rows.empty() || static_cast<int>(l.rows.back().size()) >= l.columns ||
        l.full_row[l.rows.back()[0]]) {
      l.rows.push_back({});
    }
    l.rows.back().push_back(i);
  }
  for (const auto& row : l.rows) {
    double h = 0;
    for (size_t i : row) h = std::max(h, PreferredHeight(ink, data.panels[i], l.Width(i, full)));
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
  double k = preferred > 0 ? std::max(0.05, (size_pt.height() - fixed) / preferred) : 1;
  double y = l.margin;
  // Image grids and tables do not grow with the page: on a roomy slide the whole block (titles
  // with their panels) is centred instead of each panel inside a stretched cell.
  const bool stretches = std::any_of(data.panels.begin(), data.panels.end(), [](const FigPanel& p) {
    return !std::holds_alternative<ImageGridPanel>(p.content) && !std::holds_alternative<TablePanel>(p.content);
  });
  if (!stretches && k > 1) {
    y += (size_pt.height() - fixed - preferred) / 2;
    k = 1;
  }
  const bool labels = options.panel_labels && data.panels.size() > 1;
  const double full = size_pt.width() - 2 * l.margin;
  for (size_t row = 0; row < l.rows.size(); ++row) {
    const double h = l.row_heights[row] * k;
    for (size_t c = 0; c < l.rows[row].size(); ++c) {
      const size_t i = l.rows[row][c];
      const double x = l.margin + c * (l.cell_w + l.gap);
      const double w = l.Width(i, full);
      QString title = Q(data.panels[i].title);
      if (labels) title = QStringLiteral("(%1) ").arg(QChar('a' + static_cast<int>(i % 26))) + title;
      if (!title.trimmed().isEmpty()) {
        ink.Text(QPointF(x, y), ink.Elide(title.trimmed(), ink.title(), w, true), ink.title(),
                 Qt::AlignLeft | Qt::AlignTop, options.theme.text, true);
      }
      DrawPanel(ink, data.panels[i], QRectF(x, y + l.title_h, w, h));
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
