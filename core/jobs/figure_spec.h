#pragma once
// Figure specs (docs/figures.md): plain JSON that says everything a figure is made of, so the same
// spec gives the same figure from the studio, from `synthlens figure` and from a file's metadata.
// No Qt here: the renderer (ui/figures) reads the resolved spec and the FigureData built from it.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.h"

namespace synthlens {

// The spec format this build writes and reads; a spec with a larger "version" is refused.
inline constexpr int kFigureSpecVersion = 1;

// Page geometry and type sizes of a preset or a custom size, in inches and points.
struct FigurePage {
  std::string preset;       // slide-16x9 | slide-4x3 | paper-column | paper-full | poster | custom
  double width_in = 6.75;
  double height_in = 0;     // 0: from the content (paper presets)
  double font_pt = 8;       // body text; titles 1.15x, tick labels 0.9x (never below min_font_pt)
  double min_font_pt = 7;   // the smallest text drawn (>= 7 pt on paper, >= 14 pt on slides)
  int dpi = 300;            // PNG resolution (written into the file)
};

// "slide-16x9", "slide-4x3", "paper-column", "paper-full", "poster".
const char* const* FigurePresetNames();

// Resolves page settings from a spec's "preset", "size" ("180x120mm", "6x4in", "1920x1080px",
// or "WIDTHmm" for a content-driven height), "dpi" and "font_pt". Failures name the key.
Result<FigurePage> ResolveFigurePage(const nlohmann::json& spec);

// The figure kinds of CLI.md.
const char* const* FigureKindNames();
bool IsFigureKind(const std::string& kind);

// One parameter of a figure kind, as `synthlens figure KIND --help` lists it. type: "string",
// "int", "number", "bool", "strings" or "numbers" (lists are comma-separated on the command line).
struct FigureParamInfo {
  std::string key;
  std::string type;
  nlohmann::json fallback;  // null: required
  std::string help;
};
std::vector<FigureParamInfo> FigureParams(const std::string& kind);

// Fills every default of a spec (kind-specific "params" included) and checks every key: the
// result is what is written into the figure file. Refuses a spec of a newer version, an unknown
// kind, theme, preset, text mode or a parameter of the wrong type, naming the key. `origin`
// (a file name) starts the error message.
Result<nlohmann::json> ResolveFigureSpec(const nlohmann::json& spec, const std::string& origin);

// Parses and resolves spec text (a .json file's contents).
Result<nlohmann::json> ParseFigureSpec(const std::string& text, const std::string& origin);

// Output formats chosen by the file extension: pdf, svg, png; csv and tex for tables only.
// Empty string when the extension is unsupported.
std::string FigureFormatOf(const std::string& path);

}  // namespace synthlens
