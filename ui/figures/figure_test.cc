// Figures: the renderer through its library API (crisp nearest-neighbour images, themes) and
// `synthlens figure` end to end (formats checked with poppler's pdfinfo/pdffonts, Qt's XML reader
// and the PNG chunks; reproduction byte for byte; bad input leaves nothing behind).
#include <QByteArray>
#include <QXmlStreamReader>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/jobs/figure_spec.h"
#include "core/store/labels.h"
#include "core/util/file_util.h"
#include "tests/test_util.h"
#include "ui/figures/figure_renderer.h"
#include "ui/figures/figure_writer.h"

namespace synthlens {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::string Cli() { return testing::BinaryPath("synthlens"); }

std::string Bytes(const std::string& path) {
  auto b = ReadFileBytes(path);
  return b.ok() ? *b : std::string();
}

uint8_t Pixel(int i, int y, int x) {
  const int x0 = 3 + (i * 5) % 12, y0 = 2 + (i * 7) % 12;
  const bool inside = x >= x0 && x < x0 + 11 && y >= y0 && y < y0 + 12;
  return static_cast<uint8_t>(inside ? 150 + (i * 17) % 100 : (x + y + i) % 30);
}

// pHYs of a PNG: pixels per metre (x), or -1.
int PngPixelsPerMetre(const std::string& png) {
  const size_t at = png.find("pHYs");
  if (at == std::string::npos || at + 8 > png.size()) return -1;
  const auto* p = reinterpret_cast<const unsigned char*>(png.data() + at + 4);
  return (p[0] << 24) | (p[1] << 16) | (p[2] << 8) | p[3];
}

class FigureCommandTest : public ::testing::Test {
 protected:
  void SetUp() override {
    source_ = testing::WriteIdxPair(dir_.Join("images-idx3-ubyte"), dir_.Join("labels-idx1-ubyte"), 40, Pixel,
                                    [](int i) { return i % 4; });
  }
  int Run(const std::string& args, std::string* err = nullptr) {
    std::string out, e;
    const int status = testing::RunCommand(Cli() + " " + args, &out, &e);
    if (err) *err = e;
    return status;
  }
  std::string Comparison(const std::string& extra) {
    return "figure comparison --input " + source_ + " --ids idx:3,idx:17 --views 3 --model none --seed 5 " + extra;
  }
  testing::TempDir dir_;
  std::string source_;
};

TEST_F(FigureCommandTest, PngHasSizeDpiSpecAndReproducesByteForByte) {
  const std::string png = dir_.Join("cmp.png");
  std::string err;
  ASSERT_EQ(Run(Comparison("--preset paper-full --dpi 200 --out " + png), &err), 0) << err;
  const cv::Mat image = cv::imread(png, cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(image.empty());
  EXPECT_EQ(image.cols, static_cast<int>(std::lround(6.75 * 200)));
  const std::string bytes = Bytes(png);
  EXPECT_EQ(PngPixelsPerMetre(bytes), static_cast<int>(std::lround(200 / 0.0254)));
  // The spec in the tEXt chunk and in the sidecar are one and the same.
  auto embedded = figures::ExtractEmbeddedSpec(png);
  ASSERT_TRUE(embedded.ok()) << embedded.error();
  const json spec = json::parse(*embedded);
  EXPECT_EQ(spec, json::parse(Bytes(png + ".json")));
  EXPECT_EQ(spec["kind"], "comparison");
  EXPECT_EQ(spec["params"]["ids"], json({"idx:3", "idx:17"}));
  EXPECT_EQ(spec["params"]["seed"], 5);
  EXPECT_EQ(spec["dpi"], 200);
  EXPECT_TRUE(spec["provenance"].contains("recipe_sha256"));
  // Reproduce from the PNG itself and from the sidecar: the same bytes.
  ASSERT_EQ(Run("figure --from " + png + " --out " + dir_.Join("again.png"), &err), 0) << err;
  EXPECT_EQ(Bytes(dir_.Join("again.png")), bytes);
  ASSERT_EQ(Run("figure --spec " + png + ".json --out " + dir_.Join("again2.png"), &err), 0) << err;
  EXPECT_EQ(Bytes(dir_.Join("again2.png")), bytes);
  // And at another thread count.
  ASSERT_EQ(Run("figure --from " + png + " --threads 1 --out " + dir_.Join("again3.png"), &err), 0) << err;
  EXPECT_EQ(Bytes(dir_.Join("again3.png")), bytes);
}

TEST_F(FigureCommandTest, PdfPageSizesFollowThePresetAndFontsAreEmbeddedNotType3) {
  std::string err, out;
  const std::string slide = dir_.Join("slide.pdf");
  ASSERT_EQ(Run(Comparison("--preset slide-16x9 --out " + slide), &err), 0) << err;
  ASSERT_EQ(testing::RunCommand("pdfinfo " + slide, &out, &err), 0) << err;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(Page size:\s+960 x 540 pts)"))) << out;
  const std::string column = dir_.Join("column.pdf");
  ASSERT_EQ(Run(Comparison("--preset paper-column --out " + column), &err), 0) << err;
  ASSERT_EQ(testing::RunCommand("pdfinfo " + column, &out, &err), 0) << err;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(Page size:\s+234 x )"))) << out;
  const std::string custom = dir_.Join("custom.pdf");
  ASSERT_EQ(Run(Comparison("--size 180x120mm --out " + custom), &err), 0) << err;
  ASSERT_EQ(testing::RunCommand("pdfinfo " + custom, &out, &err), 0) << err;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"(Page size:\s+510 x 340 pts)"))) << out;

  ASSERT_EQ(testing::RunCommand("pdffonts " + slide, &out, &err), 0) << err;
  // name type encoding emb sub uni object ID
  std::istringstream lines(out);
  std::string line;
  int fonts = 0;
  while (std::getline(lines, line)) {
    if (line.rfind("name", 0) == 0 || line.rfind("----", 0) == 0 || line.empty()) continue;
    ++fonts;
    EXPECT_EQ(line.find("Type 3"), std::string::npos) << line;
    EXPECT_NE(line.find("TrueType"), std::string::npos) << line;
    // Embedded, and a subset (its name carries the ABCDEF+ tag).
    EXPECT_TRUE(std::regex_search(line, std::regex(R"(^[A-Z]{6}\+\S+\s+CID TrueType\s+\S+\s+yes\s+yes\s+)"))) << line;
  }
  EXPECT_GT(fonts, 0) << out;
  // Only the glyphs used are embedded: each font program is a small fraction of DejaVu Sans's
  // 760 KB. And the file stays well-formed after the subset names were tagged (poppler reads
  // every object through the rewritten cross-reference table without complaint).
  ASSERT_EQ(testing::RunCommand("pdftoppm -r 20 -png " + slide + " " + dir_.Join("page"), &out, &err), 0);
  EXPECT_EQ(err, "") << err;
  const std::string pdf = Bytes(slide);
  int programs = 0;
  const std::regex length1(R"(/Length1 (\d+))");
  for (std::sregex_iterator it(pdf.begin(), pdf.end(), length1), end; it != end; ++it) {
    ++programs;
    EXPECT_LT(std::stoi((*it)[1]), 100000);
  }
  EXPECT_EQ(programs, fonts);
  // (Qt writes page boxes in whole points: 180 x 120 mm = 510.2 x 340.2 pt becomes 510 x 340.)
  // The spec travels in the XMP metadata and reproduces the figure.
  auto spec = figures::ReadFigureSpec(slide);
  ASSERT_TRUE(spec.ok()) << spec.error();
  EXPECT_EQ((*spec)["preset"], "slide-16x9");
  ASSERT_EQ(Run("figure --from " + slide + " --out " + dir_.Join("slide.png"), &err), 0) << err;
  const cv::Mat png = cv::imread(dir_.Join("slide.png"));
  EXPECT_EQ(png.cols, static_cast<int>(std::lround(13.333 * 300)));
  EXPECT_EQ(png.rows, 2250);
}

TEST_F(FigureCommandTest, SvgParsesKeepsTextOrPathsAndCarriesItsSpec) {
  std::string err;
  for (const std::string mode : {"text", "paths"}) {
    const std::string svg = dir_.Join("cmp-" + mode + ".svg");
    ASSERT_EQ(Run(Comparison("--text " + mode + " --out " + svg), &err), 0) << err;
    const std::string bytes = Bytes(svg);
    QXmlStreamReader xml(QByteArray::fromStdString(bytes));
    int texts = 0, images = 0;
    bool metadata = false;
    while (!xml.atEnd()) {
      xml.readNext();
      if (xml.isStartElement()) {
        texts += xml.name() == QLatin1String("text");
        images += xml.name() == QLatin1String("image");
        metadata |= xml.name() == QLatin1String("metadata");
      }
    }
    ASSERT_FALSE(xml.hasError()) << xml.errorString().toStdString();
    EXPECT_TRUE(metadata);
    EXPECT_EQ(images, 2 * 4);  // 2 rows x (original + 3 views)
    if (mode == "text") {
      EXPECT_GT(texts, 8);
      EXPECT_NE(bytes.find("idx:17"), std::string::npos);
    } else {
      EXPECT_EQ(texts, 0);
    }
    auto spec = figures::ReadFigureSpec(svg);
    ASSERT_TRUE(spec.ok()) << spec.error();
    EXPECT_EQ((*spec)["text"], mode);
  }
}

TEST_F(FigureCommandTest, ThemesPaintTheBackground) {
  std::string err;
  ASSERT_EQ(Run(Comparison("--theme dark --dpi 72 --out " + dir_.Join("dark.png")), &err), 0) << err;
  ASSERT_EQ(Run(Comparison("--theme transparent --dpi 72 --out " + dir_.Join("clear.png")), &err), 0) << err;
  const cv::Mat dark = cv::imread(dir_.Join("dark.png"), cv::IMREAD_UNCHANGED);
  const cv::Mat clear = cv::imread(dir_.Join("clear.png"), cv::IMREAD_UNCHANGED);
  ASSERT_FALSE(dark.empty());
  ASSERT_EQ(clear.channels(), 4);
  const cv::Scalar corner = cv::mean(dark(cv::Rect(0, 0, 4, 4)));
  EXPECT_LT(corner[0] + corner[1] + corner[2], 3 * 60);
  EXPECT_EQ(clear.at<cv::Vec4b>(0, 0)[3], 0);
}

TEST_F(FigureCommandTest, BadInputIsNamedAndLeavesNothingBehind) {
  std::string err;
  const std::string out = dir_.Join("bad.png");
  EXPECT_EQ(Run("figure comparison --input " + source_ + " --ids idx:3,nope --model none --out " + out, &err), 1);
  EXPECT_NE(err.find("no image with id 'nope'"), std::string::npos) << err;
  EXPECT_NE(err.find(source_), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out + ".json"));

  EXPECT_EQ(Run(Comparison("--out " + dir_.Join("fig.jpg")), &err), 1);
  EXPECT_NE(err.find("unsupported extension '.jpg'"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_.Join("fig.jpg.json")));

  testing::WriteFile(dir_.Join("a-file"), "x");
  EXPECT_EQ(Run(Comparison("--out " + dir_.Join("a-file/fig.png")), &err), 1);
  EXPECT_NE(err.find("a-file"), std::string::npos) << err;

  EXPECT_EQ(Run(Comparison("--out " + dir_.Join("table.csv")), &err), 1);
  EXPECT_NE(err.find("for figures with a table"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_.Join("table.csv.json")));

  testing::WriteFile(dir_.Join("newer.json"), R"({"version": 99, "kind": "comparison", "params": {}})");
  EXPECT_EQ(Run("figure --spec " + dir_.Join("newer.json") + " --out " + out, &err), 1);
  EXPECT_NE(err.find("newer.json: figure spec version 99 is newer than this build reads"), std::string::npos) << err;

  testing::WriteFile(dir_.Join("corrupt.json"), R"({"version": 1, "kind": "compa)");
  EXPECT_EQ(Run("figure --spec " + dir_.Join("corrupt.json") + " --out " + out, &err), 1);
  EXPECT_NE(err.find("corrupt.json: not valid JSON"), std::string::npos) << err;

  // A PNG whose spec chunk was damaged, and one that has none.
  ASSERT_EQ(Run(Comparison("--dpi 72 --out " + dir_.Join("ok.png")), &err), 0) << err;
  std::string bytes = Bytes(dir_.Join("ok.png"));
  const size_t kind = bytes.find("\"kind\"");
  ASSERT_NE(kind, std::string::npos);
  bytes[kind + 5] = 'x';  // an unterminated string
  testing::WriteFile(dir_.Join("damaged.png"), bytes);
  EXPECT_EQ(Run("figure --from " + dir_.Join("damaged.png") + " --out " + out, &err), 1);
  EXPECT_NE(err.find("damaged.png: the figure spec is not valid JSON"), std::string::npos) << err;
  cv::imwrite(dir_.Join("plain.png"), cv::Mat(4, 4, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_EQ(Run("figure --from " + dir_.Join("plain.png") + " --out " + out, &err), 1);
  EXPECT_NE(err.find("plain.png: carries no SynthLens figure spec"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));

  // Usage errors name the flag.
  EXPECT_EQ(Run(Comparison("--strength lots --out " + out), &err), 2);
  EXPECT_NE(err.find("--strength"), std::string::npos) << err;
  EXPECT_EQ(Run(Comparison("--preset a0 --out " + out), &err), 2);
  EXPECT_NE(err.find("unknown preset 'a0'"), std::string::npos) << err;
  EXPECT_EQ(Run("figure --out " + out, &err), 2);
  EXPECT_NE(err.find("name one of"), std::string::npos) << err;
}

// Metrics from the embeddings of the metrics tests: the table's numbers are compare's numbers.
TEST_F(FigureCommandTest, MetricsTableAsCsvLatexAndFigure) {
  const std::string data = std::getenv("SYNTHLENS_TEST_DATA") ? std::getenv("SYNTHLENS_TEST_DATA") : "tests/data";
  const std::string real = data + "/metrics/fashion_encoder_real.npy";
  const std::string synth = data + "/metrics/fashion_encoder_synthetic.npy";
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " compare --real " + real + " --synthetic " + synth + " --json", &out, &err), 0) << err;
  const json compare = json::parse(out);
  const std::string csv = dir_.Join("m.csv");
  ASSERT_EQ(Run("figure metrics --real " + real + " --synthetic " + synth + " --digits 4 --out " + csv, &err), 0) << err;
  const std::string text = Bytes(csv);
  EXPECT_EQ(text.rfind("Metric,Value,Better\n", 0), 0u) << text;
  EXPECT_NE(text.find("FID," + FormatMetric(compare["fid"].get<double>(), 4) + ",lower"), std::string::npos) << text;
  EXPECT_NE(text.find("Precision," + FormatMetric(compare["precision"].get<double>(), 4) + ",higher"), std::string::npos);
  const std::string tex = dir_.Join("m.tex");
  ASSERT_EQ(Run("figure metrics --real " + real + " --synthetic " + synth + " --out " + tex, &err), 0) << err;
  const std::string latex = Bytes(tex);
  EXPECT_NE(latex.find("\\toprule"), std::string::npos);
  EXPECT_NE(latex.find("\\midrule"), std::string::npos);
  EXPECT_NE(latex.find("\\bottomrule"), std::string::npos);
  EXPECT_NE(latex.find("FID & " + FormatMetric(compare["fid"].get<double>(), 3)), std::string::npos) << latex;
  const std::string pdf = dir_.Join("m.pdf");
  ASSERT_EQ(Run("figure metrics --real " + real + " --synthetic " + synth + " --bootstrap 20 --data --out " + pdf, &err), 0) << err;
  EXPECT_TRUE(fs::exists(pdf + ".data.json"));
  EXPECT_TRUE(fs::exists(pdf + ".data.csv"));
  const json behind = json::parse(Bytes(pdf + ".data.json"));
  EXPECT_TRUE(behind["data"].contains("intervals"));
  ASSERT_EQ(testing::RunCommand("pdftotext " + pdf + " -", &out, &err), 0) << err;
  EXPECT_NE(out.find("95% interval"), std::string::npos) << out;
}

TEST_F(FigureCommandTest, EmbeddingFromEmbeddings) {
  const std::string data = std::getenv("SYNTHLENS_TEST_DATA") ? std::getenv("SYNTHLENS_TEST_DATA") : "tests/data";
  std::string err;
  const std::string png = dir_.Join("emb.png");
  ASSERT_EQ(Run("figure embedding --real " + data + "/metrics/fashion_encoder_real.npy --synthetic " + data +
                    "/metrics/fashion_encoder_synthetic.npy --method pca --data --dpi 100 --out " + png, &err), 0) << err;
  const json behind = json::parse(Bytes(png + ".data.json"));
  ASSERT_TRUE(behind["data"].contains("points"));
  EXPECT_EQ(behind["data"]["points"].size(), 400u);  // 200 real + 200 synthetic
  // Both kinds are drawn in their own colour (Okabe-Ito blue and vermillion).
  const cv::Mat image = cv::imread(png);
  int blue = 0, vermillion = 0;
  for (int y = 0; y < image.rows; ++y) {
    for (int x = 0; x < image.cols; ++x) {
      const cv::Vec3b p = image.at<cv::Vec3b>(y, x);  // BGR
      blue += std::abs(p[0] - 178) < 30 && std::abs(p[1] - 114) < 30 && p[2] < 40;
      vermillion += p[0] < 40 && std::abs(p[1] - 94) < 30 && std::abs(p[2] - 213) < 30;
    }
  }
  EXPECT_GT(blue, 50);
  EXPECT_GT(vermillion, 50);
}

// One image's views on the plot, as the studio's Embeddings tab shows them: PCA fitted on the real
// images alone (the views do not move a real point), the views placed with its components.
TEST_F(FigureCommandTest, EmbeddingPlacesOneImagesViews) {
  std::string err;
  const std::string plain = dir_.Join("plain.png"), with_views = dir_.Join("views.png");
  ASSERT_EQ(Run("figure embedding --real " + source_ + " --data --dpi 80 --out " + plain, &err), 0) << err;
  ASSERT_EQ(Run("figure embedding --real " + source_ + " --views-of idx:5 --views 3 --view-seed 4 --steps 4 "
                "--generative-views 2 --arrows --data --dpi 80 --out " + with_views, &err), 0) << err;
  const json a = json::parse(Bytes(plain + ".data.json"))["data"]["points"];
  const json b = json::parse(Bytes(with_views + ".data.json"))["data"]["points"];
  ASSERT_EQ(a.size(), 40u);
  ASSERT_EQ(b.size(), 45u);  // 40 real + 3 classic + 2 generative
  std::map<std::string, int> sets;
  for (const json& point : b) ++sets[point["set"].get<std::string>()];
  EXPECT_EQ(sets["real"], 40);
  EXPECT_EQ(sets["classic view"], 3);
  EXPECT_EQ(sets["generative view"], 2);
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i]["x"], b[i]["x"]) << i;
    EXPECT_EQ(a[i]["y"], b[i]["y"]) << i;
  }
  // The spec names what made the views (seeds, model hash), and reproduces the same PNG bytes.
  const json spec = json::parse(Bytes(with_views + ".json"));
  EXPECT_EQ(spec["params"]["views_of"], "idx:5");
  EXPECT_EQ(spec["params"]["view_seed"], 4);
  const std::string again = dir_.Join("again.png");
  ASSERT_EQ(Run("figure --spec " + with_views + ".json --out " + again, &err), 0) << err;
  EXPECT_TRUE(Bytes(again) == Bytes(with_views)) << "the PNG differs when made again from its spec";
  // Views need images: an embeddings file as the real set needs --views-input, and says so.
  const std::string data = std::getenv("SYNTHLENS_TEST_DATA") ? std::getenv("SYNTHLENS_TEST_DATA") : "tests/data";
  EXPECT_NE(Run("figure embedding --real " + data + "/metrics/fashion_encoder_real.npy --views-of idx:5 --out " +
                    dir_.Join("bad.png"), &err), 0);
  EXPECT_NE(err.find("set views_input to the SRC"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_.Join("bad.png")));
  EXPECT_NE(Run("figure embedding --real " + source_ + " --views-of idx:999 --out " + dir_.Join("bad.png"), &err), 0);
  EXPECT_NE(err.find("no image with id 'idx:999'"), std::string::npos) << err;
}

// The figure builder: two figures' panels in one, labelled (a)..(d), one caption, reproducible.
TEST_F(FigureCommandTest, CombinedFigureHoldsThePanelsOfItsFigures) {
  const std::string data = std::getenv("SYNTHLENS_TEST_DATA") ? std::getenv("SYNTHLENS_TEST_DATA") : "tests/data";
  std::string err, out;
  ASSERT_EQ(Run(Comparison("--sweep --sweep-strengths 0.5 --out " + dir_.Join("a.png")), &err), 0) << err;  // model none: no strip
  ASSERT_EQ(Run("figure metrics --real " + data + "/metrics/fashion_encoder_real.npy --synthetic " + data +
                    "/metrics/fashion_encoder_synthetic.npy --out " + dir_.Join("b.svg"), &err), 0) << err;
  const std::string pdf = dir_.Join("combined.pdf");
  ASSERT_EQ(Run("figure combined --panels " + dir_.Join("a.png") + "," + dir_.Join("b.svg.json") +
                    " --caption 'Figure 2: views and metrics' --data --out " + pdf, &err), 0) << err;
  ASSERT_EQ(testing::RunCommand("pdftotext " + pdf + " -", &out, &err), 0);
  // (a) the comparison grid, (b) the metrics table (these embeddings have no labels: no per-class
  // table, no (c)).
  EXPECT_NE(out.find("(a) Classic views"), std::string::npos) << out;
  EXPECT_NE(out.find("(b) Real vs synthetic"), std::string::npos) << out;
  EXPECT_EQ(out.find("(c)"), std::string::npos) << out;
  EXPECT_NE(out.find("Figure 2: views and metrics"), std::string::npos) << out;
  const json spec = json::parse(Bytes(pdf + ".json"));
  ASSERT_EQ(spec["params"]["panels"].size(), 2u);
  EXPECT_EQ(spec["params"]["panels"][0]["kind"], "comparison");
  EXPECT_EQ(spec["params"]["panels"][1]["kind"], "metrics");
  // Reproduced as PNG twice: the same bytes.
  ASSERT_EQ(Run("figure --from " + pdf + " --dpi 80 --out " + dir_.Join("c1.png"), &err), 0) << err;
  ASSERT_EQ(Run("figure --spec " + pdf + ".json --dpi 80 --out " + dir_.Join("c2.png"), &err), 0) << err;
  EXPECT_EQ(Bytes(dir_.Join("c1.png")), Bytes(dir_.Join("c2.png")));
  // A panel file that cannot be read is named.
  EXPECT_EQ(Run("figure combined --panels " + dir_.Join("missing.png") + " --out " + dir_.Join("x.png"), &err), 1);
  EXPECT_NE(err.find("missing.png"), std::string::npos) << err;
}

// Classic views of the test source as a "synthetic" folder with a manifest (fast: no model).
std::string MakeViews(FigureCommandTest* t, const std::string& source, const std::string& dir) {
  std::string out, err;
  EXPECT_EQ(testing::RunCommand(Cli() + " augment --input " + source + " --recipe simclr --views 1 --seed 4 --out " + dir, &out, &err), 0) << err;
  return dir;
}

TEST_F(FigureCommandTest, DetectorsBiasAndLabelsFigures) {
  const std::string views = MakeViews(this, source_, dir_.Join("views"));
  std::string err;
  const std::string det = dir_.Join("det.png");
  ASSERT_EQ(Run("figure detectors --input " + views + " --reference " + source_ + " --encoder none --detectors blur,light --top-k 3 --data --out " + det, &err), 0) << err;
  const json d = json::parse(Bytes(det + ".data.json"));
  ASSERT_EQ(d["data"]["shown"].size(), 2u);
  EXPECT_EQ(d["data"]["shown"][0]["detector"], "blur");
  EXPECT_EQ(d["data"]["shown"][0]["worst"].size(), 3u);
  // The worst images are sorted by score, and the flagged count is the summary's.
  const json& worst = d["data"]["shown"][0]["worst"];
  EXPECT_GE(worst[0]["score"].get<double>(), worst[1]["score"].get<double>());
  for (const json& s : d["data"]["summary"]["detectors"]) {
    if (s["name"] == "blur") {
      EXPECT_EQ(s["flagged"], d["data"]["shown"][0]["flagged"]);
    }
  }
  // Histogram counts add up to the images scored.
  double total = 0;
  for (const json& c : d["data"]["shown"][1]["histogram"]["counts"]) total += c.get<double>();
  EXPECT_EQ(total, 40);
  EXPECT_EQ(Run("figure detectors --input " + views + " --reference " + source_ + " --encoder none --detectors nonsense --out " + det, &err), 1);
  EXPECT_NE(err.find("no detector 'nonsense'"), std::string::npos) << err;

  const std::string bias = dir_.Join("bias.svg");
  ASSERT_EQ(Run("figure bias --real " + source_ + " --synthetic " + views + " --encoder none --statistics brightness --data --out " + bias, &err), 0) << err;
  const json b = json::parse(Bytes(bias + ".data.json"));
  EXPECT_TRUE(b["data"]["shifts"].contains("brightness"));
  EXPECT_NE(Bytes(bias).find("brightness"), std::string::npos);

  // Hand labels: two categories, three images, a box.
  const std::string project = dir_.Join("labels.synthlens");
  {
    auto store = LabelStore::Open(project);
    const int64_t smudge = store->AddCategory("smudge", "#aa3377");
    const int64_t warp = store->AddCategory("warp", "#228833");
    store->ToggleCategory({{source_, "idx:1"}, {source_, "idx:2"}}, smudge);
    store->ToggleCategory({{source_, "idx:2"}, {source_, "idx:3"}, {source_, "idx:4"}}, warp);
    store->AddBox({source_, "idx:1"}, {0, smudge, 3, 4, 10, 8});
    store->MarkClean({{source_, "idx:9"}});
  }
  const std::string labels = dir_.Join("labels.pdf");
  ASSERT_EQ(Run("figure labels --project " + project + " --examples 2 --data --out " + labels, &err), 0) << err;
  const json l = json::parse(Bytes(labels + ".data.json"));
  std::map<std::string, int> counts;
  for (const json& c : l["data"]["categories"]) counts[c["category"]] = c["images"];
  EXPECT_EQ(counts["smudge"], 2);
  EXPECT_EQ(counts["warp"], 3);
  EXPECT_EQ(l["data"]["clean"], 1);
  EXPECT_EQ(l["data"]["labelled"], 5);
  std::string out;
  ASSERT_EQ(testing::RunCommand("pdftotext " + labels + " -", &out, &err), 0);
  EXPECT_NE(out.find("smudge"), std::string::npos) << out;
  EXPECT_NE(out.find("Examples per category"), std::string::npos) << out;
  EXPECT_EQ(Run("figure labels --project " + dir_.Join("missing.synthlens") + " --out " + labels + ".png", &err), 1);
  EXPECT_NE(err.find("missing.synthlens"), std::string::npos) << err;
}

// Headless Chromium (Debian's) renders the report: a screenshot that is not blank, and the
// headline numbers in the DOM.
TEST_F(FigureCommandTest, ReportIsSelfContainedAndRendersInABrowser) {
  const std::string views = MakeViews(this, source_, dir_.Join("views"));
  const std::string out_dir = dir_.Join("report");
  std::string out, err;
  ASSERT_EQ(testing::RunCommand(Cli() + " report --real " + source_ + " --synthetic " + views +
                                    " --model none --sample 2 --bootstrap 5 --out " + out_dir, &out, &err), 0) << err;
  const json report = json::parse(Bytes(out_dir + "/report.json"));
  const std::string html = Bytes(out_dir + "/index.html");
  // Self-contained: no scripts, no external references.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("src=\"data:image/png;base64,"), std::string::npos);
  // The headline numbers are the metrics section's numbers.
  const double fid = report["summary"]["metrics"]["fid"];
  json metrics_section;
  for (const json& s : report["sections"]) {
    if (s["id"] == "metrics") metrics_section = s;
  }
  ASSERT_FALSE(metrics_section.is_null());
  EXPECT_EQ(metrics_section["data"]["fid"].get<double>(), fid);
  EXPECT_TRUE(report["summary"]["metrics"].contains("intervals"));
  EXPECT_TRUE(report["provenance"]["sections"].contains("detectors"));
  // PDF: a page per section after the summary, fonts embedded, none Type 3.
  ASSERT_EQ(testing::RunCommand("pdfinfo " + out_dir + "/report.pdf", &out, &err), 0) << err;
  EXPECT_TRUE(std::regex_search(out, std::regex("Pages:\\s+" + std::to_string(1 + report["sections"].size()) + "\\b"))) << out;
  ASSERT_EQ(testing::RunCommand("pdffonts " + out_dir + "/report.pdf", &out, &err), 0) << err;
  EXPECT_EQ(out.find("Type 3"), std::string::npos) << out;
  EXPECT_TRUE(std::regex_search(out, std::regex(R"([A-Z]{6}\+DejaVuSans\s+CID TrueType\s+\S+\s+yes\s+yes)"))) << out;
  ASSERT_EQ(testing::RunCommand("pdftoppm -r 10 -png " + out_dir + "/report.pdf " + dir_.Join("rp"), &out, &err), 0);
  EXPECT_EQ(err, "") << err;
  ASSERT_EQ(testing::RunCommand("pdftotext " + out_dir + "/report.pdf -", &out, &err), 0) << err;
  EXPECT_NE(out.find("page 2 of"), std::string::npos);
  EXPECT_NE(out.find("FID: " + FormatMetric(fid, 3)), std::string::npos) << out;

  const std::string chromium = "chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
                               "--disable-background-networking --disable-component-update --disable-sync "
                               "--user-data-dir=" + dir_.Join("chromium-profile") + " ";
  ASSERT_EQ(testing::RunCommand(chromium + "--dump-dom file://" + out_dir + "/index.html", &out, &err), 0) << err;
  EXPECT_NE(out.find("SynthLens report"), std::string::npos);
  EXPECT_NE(out.find("<td class=\"n\">" + FormatMetric(fid, 3) + "</td>"), std::string::npos);
  for (const json& v : report["verdicts"]) EXPECT_NE(out.find(v.get<std::string>().substr(0, 20)), std::string::npos) << v;
  const std::string shot = dir_.Join("report.png");
  ASSERT_EQ(testing::RunCommand(chromium + "--hide-scrollbars --window-size=1100,1600 --screenshot=" + shot +
                                    " file://" + out_dir + "/index.html", &out, &err), 0) << err;
  const cv::Mat page = cv::imread(shot);
  ASSERT_FALSE(page.empty());
  cv::Mat grey;
  cv::cvtColor(page, grey, cv::COLOR_BGR2GRAY);
  cv::Scalar mean, stddev;
  cv::meanStdDev(grey, mean, stddev);
  EXPECT_GT(stddev[0], 20) << "a blank page";
  // Dark text pixels: the page has text and figures, not only a background.
  EXPECT_GT(cv::countNonZero(grey < 100), page.total() / 100);

  // A bad set is named; nothing is written.
  EXPECT_EQ(testing::RunCommand(Cli() + " report --real " + source_ + " --synthetic " + dir_.Join("nope") + " --out " + dir_.Join("r2"), &out, &err), 1);
  EXPECT_NE(err.find("nope"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_.Join("r2") + "/index.html"));
}

// With hand labels on the synthetic images, the report trains the learned detector and reports
// its cross-validated AUROC (summary and a verdict line).
TEST_F(FigureCommandTest, ReportWithLabelsHasTheLearnedDetectorsAuroc) {
  const std::string views = MakeViews(this, source_, dir_.Join("views"));
  const std::string project = dir_.Join("labels.synthlens");
  {
    auto store = LabelStore::Open(project);
    const int64_t smudge = store->AddCategory("smudge", "#aa3377");
    std::vector<LabelTarget> artifacts, clean;
    for (int i = 0; i < 12; ++i) {
      (i % 2 ? artifacts : clean).push_back({views, "idx_" + std::to_string(i) + "_v0.png"});
    }
    store->ToggleCategory(artifacts, smudge);
    store->MarkClean(clean);
  }
  std::string out, err;
  const std::string dir = dir_.Join("report");
  ASSERT_EQ(testing::RunCommand(Cli() + " report --real " + source_ + " --synthetic " + views + " --project " + project +
                                    " --model none --sample 0 --sweep-images 0 --bootstrap 0 --out " + dir, &out, &err), 0) << err;
  const json report = json::parse(Bytes(dir + "/report.json"));
  const json& learned = report["summary"]["learned_detector"];
  ASSERT_TRUE(learned.contains("cv_auroc")) << learned.dump();
  EXPECT_GE(learned["cv_auroc"].get<double>(), 0.0);
  EXPECT_LE(learned["cv_auroc"].get<double>(), 1.0);
  EXPECT_EQ(learned["source_key"], views);
  bool verdict = false;
  for (const json& v : report["verdicts"]) verdict |= v.get<std::string>().find("cross-validated AUROC") != std::string::npos;
  EXPECT_TRUE(verdict) << report["verdicts"].dump();
  EXPECT_NE(out.find("cross-validated AUROC"), std::string::npos) << out;
  // The labels section counts them.
  EXPECT_EQ(report["summary"]["labels"]["labelled"], 12);
}

// The renderer on its own: a 28 px checkerboard stays crisp (only its two values) at any DPI.
TEST(FigureRenderer, ImagesAreNearestNeighbourAtIntegerFactors) {
  cv::Mat checker(28, 28, CV_8UC3);
  for (int y = 0; y < 28; ++y) {
    for (int x = 0; x < 28; ++x) checker.at<cv::Vec3b>(y, x) = ((x + y) % 2) ? cv::Vec3b(255, 0, 0) : cv::Vec3b(0, 0, 255);
  }
  FigureData data;
  ImageGridPanel grid;
  grid.rows.push_back({FigTile{checker, "", {}, -1}});
  data.panels.push_back({"", grid});
  for (int dpi : {72, 150, 300}) {
    auto spec = ResolveFigureSpec({{"kind", "comparison"}, {"preset", "paper-column"}, {"dpi", dpi},
                                   {"params", {{"input", "x"}, {"ids", {"a"}}}}}, "t");
    ASSERT_TRUE(spec.ok()) << spec.error();
    const QImage image = figures::RenderFigureImage(*spec, data).convertToFormat(QImage::Format_RGB32);
    std::set<QRgb> colours;
    int tile_pixels = 0;
    for (int y = 0; y < image.height(); ++y) {
      for (int x = 0; x < image.width(); ++x) {
        const QRgb c = image.pixel(x, y);
        if (c == qRgb(255, 255, 255)) continue;
        colours.insert(c);
        ++tile_pixels;
      }
    }
    EXPECT_EQ(colours, (std::set<QRgb>{qRgb(255, 0, 0), qRgb(0, 0, 255)})) << "dpi " << dpi;
    // The drawn size is a whole multiple of 28 px.
    const int side = static_cast<int>(std::lround(std::sqrt(tile_pixels)));
    EXPECT_EQ(side % 28, 0) << side;
    EXPECT_EQ(side * side, tile_pixels);
  }
}

}  // namespace
}  // namespace synthlens
