#include "ui/figures/report_writer.h"

#include <QBuffer>
#include <QDateTime>
#include <QFont>
#include <QFontMetricsF>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "core/util/file_util.h"
#include "core/util/version.h"
#include "ui/figures/figure_renderer.h"
#include "ui/figures/figure_writer.h"

namespace synthlens::figures {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Html(const std::string& s) { return EscapeMarkup(s); }

// Headline metrics as (name, value, interval) rows.
std::vector<std::array<std::string, 3>> MetricRows(const json& summary) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"fid", "FID"}, {"kid_mean", "KID"}, {"precision", "Precision"}, {"recall", "Recall"},
      {"density", "Density"}, {"coverage", "Coverage"}, {"vendi_synthetic", "Vendi (synthetic)"},
      {"authpct", "AuthPct"}, {"c2st_accuracy", "C2ST accuracy"}};
  std::vector<std::array<std::string, 3>> rows;
  if (!summary.contains("metrics")) return rows;
  const json& m = summary["metrics"];
  for (const auto& [key, name] : kNames) {
    if (!m.contains(key) || !m[key].is_number()) continue;
    std::string interval;
    if (m.contains("intervals") && m["intervals"].contains(key)) {
      interval = "[" + FormatMetric(m["intervals"][key][0].get<double>(), 3) + ", " +
                 FormatMetric(m["intervals"][key][1].get<double>(), 3) + "]";
    }
    rows.push_back({name, FormatMetric(m[key].get<double>(), 3), interval});
  }
  return rows;
}

// The figure of a section as a PNG (HTML thumbnails: 150 dpi, paper width).
std::string SectionPng(const ReportSection& s) {
  json spec = s.spec;
  spec["dpi"] = 150;
  const QImage image = RenderFigureImage(spec, s.data, 1.0);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return bytes.toBase64().toStdString();
}

std::string ReportHtml(const ReportData& r) {
  const std::string real = r.summary["real"].value("spec", std::string());
  const std::string synth = r.summary["synthetic"].value("spec", std::string());
  std::string h;
  h += "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  h += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  h += "<title>SynthLens report: " + Html(synth) + " vs " + Html(real) + "</title>\n";
  h += "<style>\n"
       "body{font-family:'DejaVu Sans',system-ui,sans-serif;margin:0 auto;max-width:1040px;padding:24px;color:#1a1a1a;line-height:1.45}\n"
       "h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.25em;border-bottom:1px solid #ccc;padding-bottom:4px;margin-top:36px}\n"
       ".meta{color:#555;font-size:.9em}.verdicts li{margin:4px 0}.box{background:#f5f6f8;border-radius:8px;padding:12px 18px}\n"
       "table{border-collapse:collapse}th,td{padding:3px 14px 3px 0;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}\n"
       "thead th{border-bottom:1px solid #888}img{width:100%;height:auto;image-rendering:auto}\n"
       ".error{color:#a40000}pre{background:#f5f6f8;padding:10px;overflow:auto;font-size:.8em}\n"
       "@media (prefers-color-scheme: dark){body{background:#1e1f22;color:#eee}.box,pre{background:#2a2c30}.meta{color:#bbb}img{background:#fff}}\n"
       "</style></head><body>\n";
  h += "<h1>SynthLens report</h1>\n<p class=\"meta\">Synthetic <b>" + Html(synth) + "</b> (" +
       std::to_string(r.summary["synthetic"].value("images", 0)) + " images) against real <b>" + Html(real) + "</b> (" +
       std::to_string(r.summary["real"].value("images", 0)) + " images) · SynthLens " SYNTHLENS_VERSION " · " +
       FormatMetric(r.seconds, 3) + " s</p>\n";
  h += "<section id=\"summary\" class=\"box\"><h2 style=\"margin-top:8px\">Summary</h2>\n";
  if (!r.verdicts.empty()) {
    h += "<ul class=\"verdicts\">\n";
    for (const std::string& v : r.verdicts) h += "<li>" + Html(v) + "</li>\n";
    h += "</ul>\n";
  } else {
    h += "<p>Nothing stands out: no detector flags, no significant shift.</p>\n";
  }
  const auto rows = MetricRows(r.summary);
  if (!rows.empty()) {
    h += "<table id=\"headline\"><thead><tr><th>Metric</th><th>Value</th><th>95% interval</th></tr></thead><tbody>\n";
    for (const auto& row : rows) {
      h += "<tr><td>" + Html(row[0]) + "</td><td class=\"n\">" + Html(row[1]) + "</td><td class=\"n\">" + Html(row[2]) + "</td></tr>\n";
    }
    h += "</tbody></table>\n";
  }
  if (r.summary.contains("flagged_by_detector")) {
    h += "<p>Flagged images by detector: ";
    bool first = true;
    for (const auto& [name, count] : r.summary["flagged_by_detector"].items()) {
      if (count.get<int64_t>() == 0) continue;
      h += std::string(first ? "" : ", ") + Html(name) + " " + count.dump();
      first = false;
    }
    h += first ? "none.</p>\n" : ".</p>\n";
  }
  h += "</section>\n";
  for (const ReportSection& s : r.sections) {
    h += "<section id=\"" + Html(s.id) + "\"><h2>" + Html(s.title) + "</h2>\n<p>" + Html(s.text) + "</p>\n";
    if (!s.error.empty()) {
      h += "<p class=\"error\">Not available: " + Html(s.error) + "</p>\n";
    } else {
      h += "<img alt=\"" + Html(s.title) + "\" src=\"data:image/png;base64," + SectionPng(s) + "\">\n";
    }
    h += "</section>\n";
  }
  h += "<h2>Provenance</h2>\n<details><summary>Sources, hashes, models, seeds, settings, versions</summary><pre>" +
       Html(r.provenance.dump(2)) + "</pre></details>\n";
  h += "<p class=\"meta\">The same numbers are in report.json; every figure's spec is there too "
       "(synthlens figure --spec reproduces it).</p>\n</body></html>\n";
  return h;
}

// A4 pages: a header line, the content, "page N of M" at the bottom. Painter units: device
// pixels at the writer's resolution; `pt` converts points.
class PdfPages {
 public:
  PdfPages(QPdfWriter& writer, QPainter& painter, std::string header, int pages)
      : w_(writer), p_(painter), header_(std::move(header)), pages_(pages) {
    dpi_ = writer.resolution();
    const QSizeF size = writer.pageLayout().fullRectPoints().size();
    width_pt_ = size.width(), height_pt_ = size.height();
  }
  double pt(double points) const { return points * dpi_ / 72.0; }
  QFont Font(double size, bool bold = false) const {
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPointSizeF(size);
    f.setBold(bold);
    return f;
  }
  // Content area in points.
  QRectF Content() const { return QRectF(margin_, margin_ + 24, width_pt_ - 2 * margin_, height_pt_ - 2 * margin_ - 44); }
  void Begin() {
    if (page_ > 0) w_.newPage();
    ++page_;
    p_.setPen(QColor(0x55, 0x55, 0x55));
    p_.setFont(Font(8));
    p_.drawText(QRectF(pt(margin_), pt(margin_ - 6), pt(width_pt_ - 2 * margin_), pt(14)), Qt::AlignLeft | Qt::AlignVCenter,
                QString::fromStdString(header_));
    p_.drawLine(QPointF(pt(margin_), pt(margin_ + 10)), QPointF(pt(width_pt_ - margin_), pt(margin_ + 10)));
    p_.drawText(QRectF(pt(margin_), pt(height_pt_ - margin_ - 4), pt(width_pt_ - 2 * margin_), pt(14)), Qt::AlignRight | Qt::AlignVCenter,
                QStringLiteral("page %1 of %2").arg(page_).arg(pages_));
  }
  // Wrapped text in the content area from y (points); returns the y below it.
  double Text(double y, const QString& text, double size, bool bold = false, QColor colour = QColor(0x1a, 0x1a, 0x1a)) {
    const QRectF area = Content();
    p_.setFont(Font(size, bold));
    p_.setPen(colour);
    const QRectF box(pt(area.left()), pt(y), pt(area.width()), pt(area.bottom() - y));
    const QRectF used = p_.boundingRect(box, Qt::TextWordWrap | Qt::AlignLeft | Qt::AlignTop, text);
    p_.drawText(box, Qt::TextWordWrap | Qt::AlignLeft | Qt::AlignTop, text);
    return y + used.height() * 72.0 / dpi_ + size * 0.5;
  }
  // A figure scaled to fit the rest of the content area below y, as vector drawing.
  void Figure(double y, const ReportSection& s) {
    const RenderOptions options = RenderOptionsOf(s.spec, false);
    const QSizeF size = FigureSizePt(s.data, options);
    const QRectF area = Content();
    const double k = std::min({1.0, area.width() / size.width(), (area.bottom() - y) / size.height()});
    p_.save();
    p_.translate(pt(area.left() + (area.width() - size.width() * k) / 2), pt(y));
    p_.scale(k, k);
    RenderFigure(p_, s.data, options, size);
    p_.restore();
  }

 private:
  QPdfWriter& w_;
  QPainter& p_;
  std::string header_;
  int pages_ = 0, page_ = 0;
  double dpi_ = 72, width_pt_ = 595, height_pt_ = 842, margin_ = 48;
};

std::string ReportPdf(const ReportData& r) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  QPdfWriter writer(&buffer);
  ConfigurePdfWriter(writer, QStringLiteral("SynthLens report"));
  writer.setPageLayout(QPageLayout(QPageSize(QPageSize::A4), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
  QPainter painter(&writer);
  const std::string real = r.summary["real"].value("spec", std::string());
  const std::string synth = r.summary["synthetic"].value("spec", std::string());
  PdfPages pages(writer, painter, "SynthLens report · " + synth + " vs " + real, 1 + static_cast<int>(r.sections.size()));
  pages.Begin();
  double y = pages.Content().top();
  y = pages.Text(y, QStringLiteral("SynthLens report"), 18, true);
  y = pages.Text(y, QString::fromStdString("Synthetic " + synth + " (" + std::to_string(r.summary["synthetic"].value("images", 0)) +
                                           " images) against real " + real + " (" +
                                           std::to_string(r.summary["real"].value("images", 0)) + " images). SynthLens " SYNTHLENS_VERSION ", " +
                                           QDateTime::currentDateTimeUtc().toString(Qt::ISODate).toStdString() + "."),
                 9, false, QColor(0x55, 0x55, 0x55));
  y = pages.Text(y + 6, QStringLiteral("Summary"), 13, true);
  if (r.verdicts.empty()) y = pages.Text(y, QStringLiteral("Nothing stands out: no detector flags, no significant shift."), 10);
  for (const std::string& v : r.verdicts) y = pages.Text(y, QString::fromStdString("• " + v), 10);
  const auto rows = MetricRows(r.summary);
  if (!rows.empty()) {
    y = pages.Text(y + 6, QStringLiteral("Metrics"), 13, true);
    for (const auto& row : rows) {
      y = pages.Text(y, QString::fromStdString(row[0] + ": " + row[1] + (row[2].empty() ? "" : "   95% interval " + row[2])), 10);
    }
  }
  y = pages.Text(y + 6, QStringLiteral("Provenance"), 13, true);
  json short_provenance = r.provenance;
  short_provenance.erase("sections");
  pages.Text(y, QString::fromStdString(short_provenance.dump(1) + "\n(report.json holds every section's sources, hashes and settings)"),
             7, false, QColor(0x33, 0x33, 0x33));
  for (const ReportSection& s : r.sections) {
    pages.Begin();
    double sy = pages.Content().top();
    sy = pages.Text(sy, QString::fromStdString(s.title), 14, true);
    sy = pages.Text(sy, QString::fromStdString(s.text), 9, false, QColor(0x33, 0x33, 0x33));
    if (!s.error.empty()) {
      pages.Text(sy, QString::fromStdString("Not available: " + s.error), 10, false, QColor(0xa4, 0, 0));
    } else {
      pages.Figure(sy + 4, s);
    }
  }
  painter.end();
  return TagSubsetFontNames(bytes.toStdString());
}

}  // namespace

std::string WriteReport(const ReportData& report, const std::string& dir) {
  EnsureGuiApplication();
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_directory(dir, ec)) return dir + ": exists and is not a folder";
  fs::create_directories(dir, ec);
  if (ec) return dir + ": cannot create the folder: " + ec.message();
  const std::vector<std::pair<std::string, std::string>> files = {
      {dir + "/report.json", report.Json().dump(1) + "\n"},
      {dir + "/index.html", ReportHtml(report)},
      {dir + "/report.pdf", ReportPdf(report)}};
  std::vector<std::string> created;
  for (const auto& [path, bytes] : files) {
    const bool existed = fs::exists(path, ec);
    if (std::string error = WriteFileAtomic(path, bytes); !error.empty()) {
      for (const std::string& c : created) fs::remove(c, ec);
      return error;
    }
    if (!existed) created.push_back(path);
  }
  return "";
}

}  // namespace synthlens::figures
