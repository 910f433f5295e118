#pragma once
// Figure files (docs/figures.md): PDF (vector, TrueType subsets), SVG (text as text or paths),
// PNG (DPI in pHYs), CSV/LaTeX for tables; every file carries its resolved spec (PDF XMP, SVG
// <metadata>, PNG tEXt "synthlens-figure") and gets a FILE.json sidecar. Writes are atomic:
// a failure leaves no new file behind.

#include <string>
#include <vector>

#include <QImage>
#include <QString>
#include <nlohmann/json.hpp>

#include "core/jobs/figure_data.h"
#include "core/util/progress.h"
#include "core/util/result.h"

class QPdfWriter;

namespace synthlens::figures {

struct WriteOptions {
  bool sidecar = true;      // FILE.json: the resolved spec
  bool data = false;        // FILE.data.json (+ FILE.data.csv for tables): the numbers behind it
};

// Renders `data` as the resolved `spec` says into `path` (format from the extension). Returns an
// empty string on success, else "PATH: problem" (unsupported extension, unwritable folder, ...).
std::string WriteFigure(const nlohmann::json& spec, const FigureData& data, const std::string& path,
                        const WriteOptions& options = {});

// Several figures in one multi-page PDF (one page each, each page its own size).
std::string WriteFigurePages(const std::vector<nlohmann::json>& specs, const std::vector<FigureData>& data,
                             const std::string& path, const WriteOptions& options = {});

// Resolve + build + write: what `synthlens figure` and the studio's Export run.
std::string MakeFigure(const nlohmann::json& spec, const std::string& path, const WriteOptions& options,
                       const ProgressFn& progress);

// The figure as an image (the studio's preview and Copy as image): `scale` x the spec's DPI.
QImage RenderFigureImage(const nlohmann::json& spec, const FigureData& data, double scale = 1.0);

// The spec a figure file carries: a .json spec or sidecar, or the metadata of a PDF, SVG or PNG
// that SynthLens wrote. Resolved (defaults filled, version checked).
Result<nlohmann::json> ReadFigureSpec(const std::string& path);

// The settings every SynthLens PDF shares: 1200 dpi device units, creator, title.
void ConfigurePdfWriter(QPdfWriter& writer, const QString& title);

// Gives each embedded font's /BaseFont the subset tag Qt puts in its FontDescriptor
// ("ABCDEF+DejaVuSans"), so pdffonts and journal checkers see subsets; the cross-reference table
// is rewritten to match. Other PDFs come back unchanged.
std::string TagSubsetFontNames(std::string pdf);

// Text for XML and HTML: & < > escaped, and " too for attribute values (`quotes`).
std::string EscapeMarkup(const std::string& text, bool quotes = true);

// The spec the file's metadata holds, unresolved; for tests and tools.
Result<std::string> ExtractEmbeddedSpec(const std::string& path);

}  // namespace synthlens::figures
