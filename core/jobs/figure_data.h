#pragma once
// What a figure shows, as plain data (docs/figures.md): a list of panels of five shapes (image
// grid, scatter, curves, bars, table). BuildFigureData runs the computation a spec asks for (views,
// generation, embeddings, projections, metrics) with the same core code as the CLI and studio;
// the Qt renderer (ui/figures) only draws it. No Qt here.

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>

#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// A rectangle drawn over an image, in the image's pixel coordinates.
struct FigBox {
  double x = 0, y = 0, w = 0, h = 0;
  int colour = 0;     // index into the categorical palette
  std::string label;  // drawn at the box's corner; may be empty
  std::string hex;    // "#rrggbb" overrides `colour` (a label category's own colour)
};

struct FigTile {
  cv::Mat image;  // CV_8UC3 RGB; empty: a blank cell
  std::string caption;
  std::vector<FigBox> boxes;
  int frame_colour = -1;  // palette index of a frame around the image; -1: none
};

// A header spanning `span` columns.
struct FigHeader {
  std::string text;
  int span = 1;
};

struct ImageGridPanel {
  std::vector<FigHeader> headers;        // may be empty
  std::vector<std::string> row_labels;   // one per row, or empty
  std::vector<std::vector<FigTile>> rows;
};

// Marker shapes differ per series so plots read in greyscale.
enum class FigMarker { kCircle, kSquare, kTriangle, kDiamond, kCross, kPlus, kTriangleDown, kStar };

struct FigSeries {
  std::string name;
  int colour = 0;  // categorical palette index
  FigMarker marker = FigMarker::kCircle;
  std::vector<double> x, y;
  bool bulk = true;  // may be drawn as a density image above the panel's threshold
  bool in_legend = true;  // a series without points and in_legend is a legend entry only
};

struct FigArrow {
  double x0 = 0, y0 = 0, x1 = 0, y1 = 0;
  int colour = 0;
};

struct ScatterPanel {
  std::string x_label, y_label;
  std::vector<FigSeries> series;
  std::vector<FigArrow> arrows;
  int64_t density_threshold = 20000;  // bulk points above this are drawn as density
  bool equal_aspect = false;
};

struct FigCurve {
  std::string name;
  int colour = 0;
  FigMarker marker = FigMarker::kCircle;
  std::vector<double> x, y;
  std::vector<double> lo, hi;  // error bar ends; empty: none
  bool dashed = false;
};

// A shaded band between two curves over the same x (e.g. the reference's 5th-95th percentiles).
struct FigBand {
  std::string name;
  int colour = 0;
  std::vector<double> x, lo, hi;
};

struct FigLine {
  double value = 0;
  std::string label;
  int colour = 0;
};

struct CurvePanel {
  std::string x_label, y_label;
  std::vector<FigCurve> curves;
  std::vector<FigBand> bands;
  std::vector<FigLine> vlines;  // vertical reference lines (thresholds)
  bool log_y = false;
};

struct FigBarSeries {
  std::string name;
  int colour = 0;
  std::string hex;  // "#rrggbb" overrides `colour`
  std::vector<double> values;  // one per category (bars) or bin (histogram)
};

// Grouped bars over named categories, or histograms over numeric bin edges (edges.size() ==
// values.size() + 1) drawn as overlaid outlined steps.
struct BarPanel {
  std::string x_label, y_label;
  std::vector<std::string> categories;
  std::vector<double> edges;
  std::vector<FigBarSeries> series;
  std::vector<FigLine> vlines;
};

struct TablePanel {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<bool> numeric;  // per column: right-aligned
  std::string note;           // one line under the table
};

struct FigPanel {
  std::string title;
  std::variant<ImageGridPanel, ScatterPanel, CurvePanel, BarPanel, TablePanel> content;
  bool full_width = false;  // in a layout of several columns, a row of its own
};

struct FigureData {
  std::vector<FigPanel> panels;
  int columns = 1;                // panels per row of the layout
  nlohmann::json provenance;      // model hashes, source listing, versions: written with the spec
  nlohmann::json data;            // the numbers and points behind the figure (JSON sidecar)
  std::string csv;                // a table's CSV, when the figure has one
  std::string latex;              // a table's booktabs LaTeX, when the figure has one
};

// Builds the data of a resolved spec (ResolveFigureSpec). progress returning false cancels
// (Failure "cancelled"). Failures name the input and the problem (an unknown id, an unreadable
// source, a model that cannot do the mode, ...).
Result<FigureData> BuildFigureData(const nlohmann::json& spec, const ProgressFn& progress);

// Formats a metric for tables: `digits` significant digits, "-" for NaN.
std::string FormatMetric(double value, int digits);
// A p-value: 2 significant digits, "< 1e-10" below that.
std::string FormatPValue(double p);

}  // namespace synthlens
