#include "ui/figures/figure_writer.h"

#include <QBuffer>
#include <QByteArray>
#include <QPageLayout>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSvgGenerator>

#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <filesystem>

#include "core/util/file_util.h"
#include "core/util/version.h"
#include "ui/figures/figure_renderer.h"

namespace synthlens::figures {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kPngKeyword = "synthlens-figure";
constexpr const char* kXmlNamespace = "https://synthlens.invalid/ns/figure/1";

std::string SpecText(const json& spec) { return spec.dump(-1, ' ', /*ensure_ascii=*/true); }

}  // namespace

std::string EscapeMarkup(const std::string& s, bool quotes) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"':
        out += quotes ? "&quot;" : "\"";
        break;
      default: out += c;
    }
  }
  return out;
}

namespace {

std::string XmlUnescape(std::string s) {
  for (auto [from, to] : {std::pair<const char*, const char*>{"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""},
                          {"&apos;", "'"}, {"&amp;", "&"}}) {
    const std::string f = from;
    for (size_t at = s.find(f); at != std::string::npos; at = s.find(f, at + 1)) s.replace(at, f.size(), to);
  }
  return s;
}

uint32_t BigEndian(const unsigned char* p) {
  return (uint32_t(p[0]) << 24) | (uint32_t(p[1]) << 16) | (uint32_t(p[2]) << 8) | uint32_t(p[3]);
}

void PutBigEndian(std::string& out, uint32_t v) {
  out += static_cast<char>(v >> 24), out += static_cast<char>(v >> 16), out += static_cast<char>(v >> 8),
      out += static_cast<char>(v);
}

// Inserts a tEXt chunk (keyword, Latin-1 text) before IEND.
std::string AddPngText(const std::string& png, const std::string& keyword, const std::string& text) {
  const size_t iend = png.size() - 12;  // length(4) "IEND" crc(4)
  std::string chunk;
  std::string body = "tEXt" + keyword + std::string(1, '\0') + text;
  PutBigEndian(chunk, static_cast<uint32_t>(body.size() - 4));
  chunk += body;
  PutBigEndian(chunk, static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(body.data()),
                                                   static_cast<uInt>(body.size()))));
  return png.substr(0, iend) + chunk + png.substr(iend);
}

Result<std::string> PngText(const std::string& png, const std::string& path, const std::string& keyword) {
  using R = Result<std::string>;
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return R::Failure(path + ": not a PNG file");
  size_t at = 8;
  while (at + 12 <= png.size()) {
    const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at);
    const uint32_t length = BigEndian(p);
    if (at + 12 + static_cast<size_t>(length) > png.size()) break;
    const std::string type = png.substr(at + 4, 4);
    if (type == "tEXt") {
      const std::string body = png.substr(at + 8, length);
      const size_t nul = body.find('\0');
      if (nul != std::string::npos && body.substr(0, nul) == keyword) return body.substr(nul + 1);
    }
    at += 12 + length;
  }
  return R::Failure(path + ": carries no SynthLens figure spec (a PNG not written by synthlens figure?)");
}

std::string Xmp(const json& spec) {
  const QByteArray b64 = QByteArray::fromStdString(SpecText(spec)).toBase64();
  const std::string title = EscapeMarkup("SynthLens " + spec.value("kind", std::string("figure")) + " figure");
  return std::string("<?xpacket begin='\xEF\xBB\xBF' id='W5M0MpCehiHzreSzNTczkc9d'?>\n") +
         "<x:xmpmeta xmlns:x='adobe:ns:meta/'>\n<rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'>\n" +
         "<rdf:Description rdf:about='' xmlns:dc='http://purl.org/dc/elements/1.1/' "
         "xmlns:pdf='http://ns.adobe.com/pdf/1.3/' xmlns:xmp='http://ns.adobe.com/xap/1.0/' "
         "xmlns:synthlens='" + kXmlNamespace + "'>\n" +
         "<dc:title><rdf:Alt><rdf:li xml:lang='x-default'>" + title + "</rdf:li></rdf:Alt></dc:title>\n" +
         "<xmp:CreatorTool>SynthLens " SYNTHLENS_VERSION "</xmp:CreatorTool>\n" +
         "<pdf:Keywords>synthlens figure spec (base64 JSON in synthlens:spec)</pdf:Keywords>\n" +
         "<synthlens:spec>" + b64.toStdString() + "</synthlens:spec>\n" +
         "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end='w'?>";
}

}  // namespace

void ConfigurePdfWriter(QPdfWriter& writer, const QString& title) {
  writer.setResolution(1200);
  writer.setCreator(QStringLiteral("SynthLens " SYNTHLENS_VERSION));
  writer.setTitle(title);
}

std::string TagSubsetFontNames(std::string pdf) {
  // Qt tags the subset in each FontDescriptor (/FontName /ABCDEF+Name) but not the fonts'
  // /BaseFont, which pdffonts and journal checkers read: give /BaseFont the same tag.
  std::map<std::string, std::string> tag_of;
  const std::string font_name = "/FontName /";
  for (size_t at = pdf.find(font_name); at != std::string::npos; at = pdf.find(font_name, at + 1)) {
    const size_t start = at + font_name.size();
    const size_t end = pdf.find_first_of(" \n\r/>", start);
    const std::string name = pdf.substr(start, end - start);
    if (name.size() > 7 && name[6] == '+') tag_of[name.substr(7)] = name.substr(0, 7);
  }
  if (tag_of.empty()) return pdf;
  std::vector<size_t> inserted_at;  // positions in the original bytes, ascending
  std::string out;
  out.reserve(pdf.size() + 64);
  const std::string base_font = "/BaseFont /";
  size_t copied = 0;
  for (size_t at = pdf.find(base_font); at != std::string::npos; at = pdf.find(base_font, at + 1)) {
    const size_t start = at + base_font.size();
    const size_t end = pdf.find_first_of(" \n\r/>", start);
    auto tag = tag_of.find(pdf.substr(start, end - start));
    if (tag == tag_of.end()) continue;
    out.append(pdf, copied, start - copied);
    out += tag->second;
    copied = start;
    inserted_at.push_back(start);
  }
  out.append(pdf, copied, std::string::npos);
  if (inserted_at.empty()) return pdf;
  const size_t tag_size = 7;
  auto shifted = [&](size_t offset) {
    return offset + tag_size * (std::lower_bound(inserted_at.begin(), inserted_at.end(), offset) - inserted_at.begin());
  };
  // The classic cross-reference table: fixed-width entries, so only the offsets change.
  const size_t xref = out.rfind("\nxref\n");
  const size_t startxref = out.rfind("startxref\n");
  if (xref == std::string::npos || startxref == std::string::npos) return pdf;
  const size_t header = xref + 6;  // "0 N"
  const size_t header_end = out.find('\n', header);
  const size_t count = std::stoull(out.substr(out.find(' ', header) + 1, header_end - out.find(' ', header) - 1));
  size_t line = header_end + 1;
  for (size_t entry = 0; entry < count && line + 20 <= out.size(); ++entry) {
    if (out[line + 17] == 'n') {
      const size_t offset = std::stoull(out.substr(line, 10));
      char digits[11];
      std::snprintf(digits, sizeof(digits), "%010zu", shifted(offset));
      out.replace(line, 10, digits);
    }
    line += 20;
  }
  const size_t value = startxref + 10;
  const size_t value_end = out.find_first_of(" \n", value);
  const size_t old_offset = std::stoull(out.substr(value, value_end - value));
  out.replace(value, value_end - value, std::to_string(shifted(old_offset)));
  return out;
}

namespace {

std::string RenderPng(const json& spec, const FigureData& data) {
  QImage image = RenderFigureImage(spec, data, 1.0);
  if (ThemeNamed(spec.value("theme", std::string("light"))).background.alpha() == 255) {
    image = image.convertToFormat(QImage::Format_RGB32);
  }
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  image.save(&buffer, "PNG");
  return AddPngText(bytes.toStdString(), kPngKeyword, SpecText(spec));
}

// One PDF page per (spec, data); each page takes its own size.
std::string RenderPdf(const std::vector<json>& specs, const std::vector<FigureData>& data) {
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  QPdfWriter writer(&buffer);
  ConfigurePdfWriter(writer, QString::fromStdString("SynthLens " + specs[0].value("kind", std::string("figure")) + " figure"));
  writer.setDocumentXmpMetadata(QByteArray::fromStdString(specs.size() == 1 ? Xmp(specs[0]) : Xmp(json{{"pages", specs}})));
  std::vector<RenderOptions> options;
  std::vector<QSizeF> sizes;
  for (size_t i = 0; i < specs.size(); ++i) {
    options.push_back(RenderOptionsOf(specs[i], false));
    sizes.push_back(FigureSizePt(data[i], options.back()));
  }
  writer.setPageLayout(QPageLayout(QPageSize(sizes[0], QPageSize::Point), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
  QPainter painter(&writer);
  for (size_t i = 0; i < specs.size(); ++i) {
    if (i > 0) {
      writer.setPageLayout(QPageLayout(QPageSize(sizes[i], QPageSize::Point), QPageLayout::Portrait, QMarginsF(0, 0, 0, 0)));
      writer.newPage();
    }
    RenderFigure(painter, data[i], options[i], sizes[i]);
  }
  painter.end();
  return TagSubsetFontNames(bytes.toStdString());
}

std::string RenderSvg(const json& spec, const FigureData& data) {
  const RenderOptions options = RenderOptionsOf(spec, false);
  const QSizeF size = FigureSizePt(data, options);
  QByteArray bytes;
  QBuffer buffer(&bytes);
  buffer.open(QIODevice::WriteOnly);
  QSvgGenerator svg;
  svg.setOutputDevice(&buffer);
  svg.setResolution(72);
  svg.setSize(QSize(static_cast<int>(std::ceil(size.width())), static_cast<int>(std::ceil(size.height()))));
  svg.setViewBox(QRectF(QPointF(0, 0), size));
  svg.setTitle(QString::fromStdString("SynthLens " + spec.value("kind", std::string("figure")) + " figure"));
  svg.setDescription(QStringLiteral("Made by SynthLens " SYNTHLENS_VERSION "; the figure spec is in the metadata element"));
  {
    QPainter painter(&svg);
    RenderFigure(painter, data, options, size);
  }
  std::string text = bytes.toStdString();
  const size_t open = text.find("<svg");
  const size_t close = open == std::string::npos ? std::string::npos : text.find('>', open);
  if (close == std::string::npos) return text;
  const std::string metadata = std::string("\n<metadata><synthlens:figure xmlns:synthlens=\"") + kXmlNamespace + "\">" +
                               EscapeMarkup(SpecText(spec), /*quotes=*/false) + "</synthlens:figure></metadata>";
  text.insert(close + 1, metadata);
  return text;
}

// Writes files in order; on a failure removes the ones this call created.
class FileBatch {
 public:
  std::string Write(const std::string& path, const std::string& bytes) {
    const bool existed = fs::exists(path);
    const std::string error = WriteFileAtomic(path, bytes);
    if (!error.empty()) {
      Rollback();
      return error;
    }
    if (!existed) created_.push_back(path);
    return "";
  }
  void Rollback() {
    std::error_code ec;
    for (const std::string& p : created_) fs::remove(p, ec);
    created_.clear();
  }

 private:
  std::vector<std::string> created_;
};

std::string CheckTarget(const std::string& path) {
  const std::string format = FigureFormatOf(path);
  if (format.empty()) {
    const size_t dot = path.rfind('.');
    const std::string ext = dot == std::string::npos ? "(none)" : "'" + path.substr(dot) + "'";
    return path + ": unsupported extension " + ext + " (pdf, svg, png; csv and tex for tables)";
  }
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && fs::exists(parent) && !fs::is_directory(parent)) {
    return path + ": " + parent.string() + " is not a folder";
  }
  if (fs::is_directory(path)) return path + ": is a folder";
  return "";
}

}  // namespace

std::string WriteFigurePages(const std::vector<json>& specs, const std::vector<FigureData>& data,
                             const std::string& path, const WriteOptions& options) {
  EnsureGuiApplication();
  if (specs.empty() || specs.size() != data.size()) return path + ": no figures to write";
  std::string error = CheckTarget(path);
  if (!error.empty()) return error;
  if (FigureFormatOf(path) != "pdf" && specs.size() > 1) return path + ": several figures need a .pdf (one page each)";
  if (specs.size() == 1) return WriteFigure(specs[0], data[0], path, options);
  FileBatch batch;
  if (options.sidecar && !(error = batch.Write(path + ".json", json{{"pages", specs}}.dump(2) + "\n")).empty()) return error;
  if (!(error = batch.Write(path, RenderPdf(specs, data))).empty()) return error;
  return "";
}

std::string WriteFigure(const json& spec, const FigureData& data, const std::string& path, const WriteOptions& options) {
  EnsureGuiApplication();
  std::string error = CheckTarget(path);
  if (!error.empty()) return error;
  const std::string format = FigureFormatOf(path);
  std::string bytes;
  if (format == "csv" || format == "tex") {
    if (data.csv.empty()) return path + ": ." + format + " output is for figures with a table (metrics); use pdf, svg or png";
    bytes = format == "csv" ? data.csv : data.latex;
  } else if (format == "png") {
    bytes = RenderPng(spec, data);
  } else if (format == "pdf") {
    bytes = RenderPdf({spec}, {data});
  } else {
    bytes = RenderSvg(spec, data);
  }
  FileBatch batch;
  if (options.sidecar && !(error = batch.Write(path + ".json", spec.dump(2) + "\n")).empty()) return error;
  if (options.data) {
    json behind = {{"spec", spec}, {"provenance", data.provenance}, {"data", data.data}};
    if (!(error = batch.Write(path + ".data.json", behind.dump(1) + "\n")).empty()) return error;
    if (!data.csv.empty() && !(error = batch.Write(path + ".data.csv", data.csv)).empty()) return error;
  }
  if (!(error = batch.Write(path, bytes)).empty()) return error;
  return "";
}

std::string MakeFigure(const json& spec_in, const std::string& path, const WriteOptions& options,
                       const ProgressFn& progress) {
  std::string error = CheckTarget(path);
  if (!error.empty()) return error;
  auto spec = ResolveFigureSpec(spec_in, "figure spec");
  if (!spec.ok()) return spec.error();
  auto data = BuildFigureData(*spec, progress);
  if (!data.ok()) return data.error();
  json with_provenance = *spec;
  with_provenance["provenance"] = data->provenance;
  return WriteFigure(with_provenance, *data, path, options);
}

QImage RenderFigureImage(const json& spec, const FigureData& data, double scale) {
  EnsureGuiApplication();
  json scaled = spec;
  const RenderOptions base = RenderOptionsOf(spec, true);
  scaled["dpi"] = std::max(36, static_cast<int>(std::lround(base.page.dpi * scale)));
  const RenderOptions options = RenderOptionsOf(scaled, true);
  const QSizeF size = FigureSizePt(data, options);
  const int dpi = options.page.dpi;
  QImage image(static_cast<int>(std::lround(size.width() / 72.0 * dpi)),
               static_cast<int>(std::lround(size.height() / 72.0 * dpi)), QImage::Format_ARGB32_Premultiplied);
  const int dpm = static_cast<int>(std::lround(dpi / 0.0254));
  image.setDotsPerMeterX(dpm);
  image.setDotsPerMeterY(dpm);
  image.fill(options.theme.background.alpha() > 0 ? options.theme.background : QColor(Qt::transparent));
  QPainter painter(&image);
  RenderFigure(painter, data, options, size);
  return image;
}

Result<std::string> ExtractEmbeddedSpec(const std::string& path) {
  using R = Result<std::string>;
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return R::Failure(bytes.error());
  const std::string& b = *bytes;
  const std::string format = FigureFormatOf(path);
  if (format == "png") return PngText(b, path, kPngKeyword);
  if (format == "svg") {
    const size_t open = b.find("<synthlens:figure");
    const size_t start = open == std::string::npos ? open : b.find('>', open);
    const size_t end = start == std::string::npos ? start : b.find("</synthlens:figure>", start);
    if (end == std::string::npos) return R::Failure(path + ": carries no SynthLens figure spec (no <synthlens:figure> in <metadata>)");
    return XmlUnescape(b.substr(start + 1, end - start - 1));
  }
  if (format == "pdf") {
    const std::string open_tag = "<synthlens:spec>", close_tag = "</synthlens:spec>";
    const size_t open = b.find(open_tag);
    const size_t end = open == std::string::npos ? open : b.find(close_tag, open);
    if (end == std::string::npos) return R::Failure(path + ": carries no SynthLens figure spec (no synthlens:spec in its XMP metadata)");
    const QByteArray decoded = QByteArray::fromBase64(
        QByteArray::fromStdString(b.substr(open + open_tag.size(), end - open - open_tag.size())),
        QByteArray::AbortOnBase64DecodingErrors);
    if (decoded.isEmpty()) return R::Failure(path + ": the figure spec in its metadata is damaged (bad base64)");
    return decoded.toStdString();
  }
  return b;  // a .json spec or sidecar
}

Result<json> ReadFigureSpec(const std::string& path) {
  auto text = ExtractEmbeddedSpec(path);
  if (!text.ok()) return Result<json>::Failure(text.error());
  json parsed = json::parse(*text, nullptr, false);
  if (parsed.is_discarded()) return Result<json>::Failure(path + ": the figure spec is not valid JSON (corrupted?)");
  if (parsed.is_object() && parsed.contains("pages")) {
    return Result<json>::Failure(path + ": holds " + std::to_string(parsed["pages"].size()) +
                                 " figures (a multi-page PDF); reproduce them from its .json sidecar one page at a time");
  }
  return ResolveFigureSpec(parsed, path);
}

}  // namespace synthlens::figures
