#pragma once
// The one figure renderer (docs/figures.md): draws FigureData with QPainter on any paint device
// (QImage, QPdfWriter, QSvgGenerator), in points, with the page, type sizes and theme of a resolved
// spec. Used by `synthlens figure`, `synthlens report` and the studio's Export, so the same spec
// gives the same pixels everywhere. Needs a QGuiApplication (EnsureGuiApplication); no widgets.

#include <QColor>
#include <QPainter>
#include <QSizeF>

#include <nlohmann/json.hpp>

#include "core/jobs/figure_data.h"
#include "core/jobs/figure_spec.h"

namespace synthlens::figures {

struct Theme {
  QColor background;  // alpha 0: transparent
  QColor text;
  QColor muted;       // tick labels, notes
  QColor axis;
  QColor grid;
  bool dark = false;
};
Theme ThemeNamed(const std::string& name);

// Categorical colours: 0..99 the point kinds (Okabe-Ito: real, synthetic, classic, generative,
// ...), 100.. the classes (Paul Tol muted + grey), 200.. the views (Okabe-Ito, as the studio's
// crop boxes). All stay distinguishable with the common colour-vision deficiencies.
QColor PaletteColour(int index);

// Options the renderer takes from a resolved spec.
struct RenderOptions {
  FigurePage page;
  Theme theme;
  bool text_as_paths = false;  // SVG on request: glyphs become paths
  bool raster = false;         // images snapped to device pixels at integer factors (PNG)
  std::string caption;
  bool panel_labels = true;
};
RenderOptions RenderOptionsOf(const nlohmann::json& resolved_spec, bool raster);

// The figure's size in points (1/72 in): the page's width, and its height or the content's.
QSizeF FigureSizePt(const FigureData& data, const RenderOptions& options);

// Draws the figure into the painter's device, whose area is `size_pt` scaled by its logical DPI.
void RenderFigure(QPainter& painter, const FigureData& data, const RenderOptions& options, QSizeF size_pt);

// A QGuiApplication on the offscreen platform when none exists (the CLI), so fonts and painting
// work without a display. Call from the main thread before rendering.
void EnsureGuiApplication();

}  // namespace synthlens::figures
