#include "core/imaging/decode.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <zlib.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/imaging/encode.h"
#include "tests/test_util.h"

namespace synthlens {
namespace {

using ::testing::HasSubstr;
using testing::TempDir;
using testing::WriteFile;

// Encodes a BGR/gray Mat with OpenCV (the test oracle for well-formed files).
std::string Encode(const std::string& ext, const cv::Mat& mat,
                   const std::vector<int>& params = {}) {
  std::vector<uchar> buffer;
  EXPECT_TRUE(cv::imencode(ext, mat, buffer, params));
  return std::string(buffer.begin(), buffer.end());
}

// A small RGB test pattern with distinct colours per pixel.
cv::Mat Pattern(int width, int height) {
  cv::Mat rgb(height, width, CV_8UC3);
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      rgb.at<cv::Vec3b>(y, x) = cv::Vec3b(uchar(40 * x + 10), uchar(60 * y + 5), uchar(7 * x * y));
    }
  }
  return rgb;
}

cv::Mat ToBgr(const cv::Mat& rgb) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

bool Equal(const cv::Mat& a, const cv::Mat& b) {
  return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

std::string Be32(uint32_t v) { return {char(v >> 24), char(v >> 16), char(v >> 8), char(v)}; }

std::string PngChunk(const std::string& type, const std::string& data) {
  std::string body = type + data;
  const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(body.data()), body.size());
  return Be32(uint32_t(data.size())) + body + Be32(uint32_t(crc));
}

// Builds a PNG by hand: `rows` holds the raw scanlines without filter bytes.
std::string MakePng(uint32_t width, uint32_t height, int bit_depth, int colour_type,
                    const std::vector<std::string>& rows, const std::string& extra_chunks = "") {
  std::string ihdr = Be32(width) + Be32(height);
  ihdr += {char(bit_depth), char(colour_type), 0, 0, 0};
  std::string raw;
  for (const auto& row : rows) raw += '\0' + row;  // filter type 0 (None)
  uLongf size = compressBound(raw.size());
  std::string compressed(size, '\0');
  EXPECT_EQ(compress(reinterpret_cast<Bytef*>(compressed.data()), &size,
                     reinterpret_cast<const Bytef*>(raw.data()), raw.size()),
            Z_OK);
  compressed.resize(size);
  return "\x89PNG\r\n\x1A\n" + PngChunk("IHDR", ihdr) + extra_chunks +
         PngChunk("IDAT", compressed) + PngChunk("IEND", "");
}

TEST(ReadImageHeaderTest, DetectsEveryFormatByContent) {
  const cv::Mat bgr = ToBgr(Pattern(6, 4));
  struct Case {
    std::string ext, format;
    std::vector<int> params;
  };
  const std::vector<Case> cases = {
      {".png", "png", {}},
      {".jpg", "jpeg", {}},
      {".jpg", "jpeg", {cv::IMWRITE_JPEG_PROGRESSIVE, 1}},
      {".bmp", "bmp", {}},
      {".tiff", "tiff", {}},
      {".webp", "webp", {cv::IMWRITE_WEBP_QUALITY, 101}},  // lossless: VP8L
      {".webp", "webp", {cv::IMWRITE_WEBP_QUALITY, 80}},   // lossy: VP8
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.ext);
    const auto header = ReadImageHeader(Encode(c.ext, bgr, c.params), "x");
    ASSERT_TRUE(header.ok()) << header.error();
    EXPECT_EQ(header->format, c.format);
    EXPECT_EQ(header->width, 6);
    EXPECT_EQ(header->height, 4);
  }
  // GIF and the extended WebP header (VP8X) are crafted by hand.
  const auto gif = ReadImageHeader(std::string("GIF89a\x2c\x01\xc8\x00", 10) + "rest", "g");
  ASSERT_TRUE(gif.ok()) << gif.error();
  EXPECT_EQ(gif->format, "gif");
  EXPECT_EQ(gif->width, 300);
  EXPECT_EQ(gif->height, 200);
  std::string vp8x = "RIFF" + std::string(4, '\0') + "WEBPVP8X" + std::string(4, '\x0a');
  vp8x += std::string(4, '\0');                        // flags + reserved
  vp8x += std::string("\x1f\x03\x00\x57\x02\x00", 6);  // 800-1, 600-1 as 24-bit LE
  const auto webp = ReadImageHeader(vp8x, "w");
  ASSERT_TRUE(webp.ok()) << webp.error();
  EXPECT_EQ(webp->width, 800);
  EXPECT_EQ(webp->height, 600);
}

TEST(DecodeImageTest, LosslessFormatsRoundTripToRgb) {
  const cv::Mat rgb = Pattern(6, 4);
  for (const std::string ext : {".png", ".bmp", ".tiff", ".webp"}) {
    SCOPED_TRACE(ext);
    const auto decoded = DecodeImage(Encode(ext, ToBgr(rgb), {cv::IMWRITE_WEBP_QUALITY, 101}), "x");
    ASSERT_TRUE(decoded.ok()) << decoded.error();
    EXPECT_TRUE(Equal(*decoded, rgb));
  }
  const auto jpeg = DecodeImage(Encode(".jpg", ToBgr(rgb)), "x");
  ASSERT_TRUE(jpeg.ok()) << jpeg.error();
  EXPECT_EQ(jpeg->type(), CV_8UC3);
  EXPECT_EQ(jpeg->size(), rgb.size());
}

TEST(DecodeImageTest, MislabelledPngNamedJpgDecodesByContent) {
  TempDir dir;
  const cv::Mat rgb = Pattern(5, 3);
  WriteFile(dir.Join("photo.jpg"), EncodePng(rgb));
  const auto decoded = DecodeImageFile(dir.Join("photo.jpg"));
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_TRUE(Equal(*decoded, rgb));
}

TEST(DecodeImageTest, BadFilesFailWithPathAndReason) {
  TempDir dir;
  const std::string png = EncodePng(Pattern(32, 32));
  const std::string jpeg = Encode(".jpg", ToBgr(Pattern(32, 32)));
  const std::string bmp = Encode(".bmp", ToBgr(Pattern(32, 32)));
  const std::string webp = Encode(".webp", ToBgr(Pattern(32, 32)));
  const std::string tiff = Encode(".tiff", ToBgr(Pattern(32, 32)));
  std::string corrupt_png = png;
  for (size_t i = 60; i < 80; ++i) corrupt_png[i] = char(0x5A);  // inside IDAT: CRC mismatch
  std::string corrupt_jpeg = jpeg;
  corrupt_jpeg[3] = char(0xC0);  // the APP0 segment turns into a malformed SOF0
  struct Case {
    std::string file, bytes, error;
  };
  const std::vector<Case> cases = {
      {"empty.png", "", ": empty file"},
      {"notes.jpg", "these are my notes, not a photo\n", ": not a recognised image format"},
      {"half.png", png.substr(0, png.size() / 2), ": truncated or corrupt PNG data"},
      {"no_iend.png", png.substr(0, png.size() - 12), ": truncated or corrupt PNG data"},
      {"half.jpg", jpeg.substr(0, jpeg.size() * 2 / 3), ": truncated or corrupt JPEG data"},
      {"no_eoi.jpg", jpeg.substr(0, jpeg.size() - 2), ": truncated or corrupt JPEG data"},
      {"header_only.jpg", jpeg.substr(0, 20), ": truncated or corrupt JPEG data"},
      {"corrupt.png", corrupt_png, ": truncated or corrupt PNG data"},
      {"half.bmp", bmp.substr(0, bmp.size() / 2), ": truncated or corrupt BMP data"},
      {"half.webp", webp.substr(0, webp.size() / 2), ": truncated or corrupt WebP data"},
      {"half.tiff", tiff.substr(0, tiff.size() / 2), ": truncated or corrupt TIFF data"},
      {"corrupt.jpg", corrupt_jpeg, ": truncated or corrupt JPEG data"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file);
    const std::string path = dir.Join(c.file);
    WriteFile(path, c.bytes);
    const auto decoded = DecodeImageFile(path);
    ASSERT_FALSE(decoded.ok());
    EXPECT_EQ(decoded.error(), path + c.error);
  }
  const auto missing = DecodeImageFile(dir.Join("missing.png"));
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(missing.error(), HasSubstr(dir.Join("missing.png") + ": no such file"));
}

TEST(DecodeImageTest, HugeDimensionsAreRefusedBeforeDecoding) {
  // A 40000x40000 RGB header with a one-row body: decoding would need 4.8 GB.
  const std::string bomb = MakePng(40000, 40000, 8, 2, {std::string(3 * 40000, '\0')});
  const auto decoded = DecodeImage(bomb, "bomb.png");
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error(),
            "bomb.png: 40000x40000 = 1600.0 MP exceeds the 100 MP limit "
            "(DecodeOptions::max_pixels)");

  const std::string small = EncodePng(Pattern(100, 50));
  DecodeOptions options;
  options.max_pixels = 4999;
  const auto refused = DecodeImage(small, "small.png", options);
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.error(), HasSubstr("100x50 = 0.0 MP exceeds the 0.004999 MP limit"));
  options.max_pixels = 5000;
  EXPECT_TRUE(DecodeImage(small, "small.png", options).ok());
  options.max_pixels = 0;
  EXPECT_FALSE(options.Check());
  EXPECT_THROW(DecodeImage(small, "small.png", options), Error);
}

TEST(DecodeImageTest, GrayscaleIsReplicated) {
  cv::Mat gray(2, 3, CV_8UC1);
  for (int i = 0; i < 6; ++i) gray.data[i] = uchar(i * 40);
  const auto decoded = DecodeImage(Encode(".png", gray), "g.png");
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(1, 2), cv::Vec3b(200, 200, 200));
}

TEST(DecodeImageTest, AlphaIsDroppedLikePilConvertRgb) {
  cv::Mat bgra(1, 3, CV_8UC4);
  bgra.at<cv::Vec4b>(0, 0) = cv::Vec4b(10, 20, 30, 255);
  bgra.at<cv::Vec4b>(0, 1) = cv::Vec4b(40, 50, 60, 128);
  bgra.at<cv::Vec4b>(0, 2) = cv::Vec4b(70, 80, 90, 0);  // fully transparent keeps its colour
  const auto decoded = DecodeImage(Encode(".png", bgra), "a.png");
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_EQ(decoded->type(), CV_8UC3);
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(30, 20, 10));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 1), cv::Vec3b(60, 50, 40));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 2), cv::Vec3b(90, 80, 70));
}

TEST(DecodeImageTest, SixteenBitIsScaledWithRounding) {
  const std::vector<uint16_t> values = {0, 257, 1000, 32896, 65535};
  cv::Mat gray16(1, int(values.size()), CV_16UC1);
  for (size_t i = 0; i < values.size(); ++i) gray16.at<uint16_t>(0, int(i)) = values[i];
  const auto gray = DecodeImage(Encode(".png", gray16), "g16.png");
  ASSERT_TRUE(gray.ok()) << gray.error();
  ASSERT_EQ(gray->type(), CV_8UC3);
  const std::vector<int> expected = {0, 1, 4, 128, 255};  // round(v * 255 / 65535)
  for (size_t i = 0; i < values.size(); ++i) {
    EXPECT_EQ(gray->at<cv::Vec3b>(0, int(i))[0], expected[i]) << values[i];
  }
  cv::Mat bgr16(1, 1, CV_16UC3, cv::Scalar(1000, 32896, 65535));
  const auto colour = DecodeImage(Encode(".png", bgr16), "c16.png");
  ASSERT_TRUE(colour.ok()) << colour.error();
  EXPECT_EQ(colour->at<cv::Vec3b>(0, 0), cv::Vec3b(255, 128, 4));
}

TEST(DecodeImageTest, PaletteIsExpanded) {
  const std::string plte = PngChunk("PLTE", std::string("\xff\x00\x00\x00\xff\x00\x00\x00\xff", 9));
  const std::string png8 = MakePng(3, 1, 8, 3, {std::string("\x02\x00\x01", 3)}, plte);
  const auto decoded = DecodeImage(png8, "p.png");
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  ASSERT_EQ(decoded->size(), cv::Size(3, 1));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 0), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 1), cv::Vec3b(255, 0, 0));
  EXPECT_EQ(decoded->at<cv::Vec3b>(0, 2), cv::Vec3b(0, 255, 0));
  // A 2-bit palette with transparency (tRNS): indices 1,2,0,1 packed in one byte.
  const std::string trns = PngChunk("tRNS", std::string("\x00\x80", 2));
  const auto packed = DecodeImage(MakePng(4, 1, 2, 3, {std::string("\x61", 1)}, plte + trns), "q");
  ASSERT_TRUE(packed.ok()) << packed.error();
  ASSERT_EQ(packed->type(), CV_8UC3);
  EXPECT_EQ(packed->at<cv::Vec3b>(0, 0), cv::Vec3b(0, 255, 0));
  EXPECT_EQ(packed->at<cv::Vec3b>(0, 1), cv::Vec3b(0, 0, 255));
  EXPECT_EQ(packed->at<cv::Vec3b>(0, 2), cv::Vec3b(255, 0, 0));
}

// Inserts an APP1 Exif segment with the given orientation right after SOI.
std::string WithExifOrientation(const std::string& jpeg, int orientation) {
  std::string tiff = std::string("MM\0*", 4) + Be32(8);
  tiff += std::string("\x00\x01", 2);                          // one IFD entry
  tiff += std::string("\x01\x12\x00\x03\x00\x00\x00\x01", 8);  // Orientation, SHORT, 1
  tiff += {char(0), char(orientation), 0, 0};
  tiff += Be32(0);  // no next IFD
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t length = payload.size() + 2;
  std::string app1 = {char(0xFF), char(0xE1), char(length >> 8), char(length & 0xFF)};
  return jpeg.substr(0, 2) + app1 + payload + jpeg.substr(2);
}

TEST(DecodeImageTest, ExifOrientationIsApplied) {
  // 64x32 with solid quadrants (large enough that JPEG chroma subsampling keeps the colours).
  cv::Mat rgb(32, 64, CV_8UC3);
  rgb(cv::Rect(0, 0, 32, 16)).setTo(cv::Scalar(255, 0, 0));        // top-left red
  rgb(cv::Rect(32, 0, 32, 16)).setTo(cv::Scalar(0, 255, 0));       // top-right green
  rgb(cv::Rect(0, 16, 32, 16)).setTo(cv::Scalar(0, 0, 255));       // bottom-left blue
  rgb(cv::Rect(32, 16, 32, 16)).setTo(cv::Scalar(255, 255, 255));  // bottom-right white
  const std::string jpeg =
      WithExifOrientation(Encode(".jpg", ToBgr(rgb), {cv::IMWRITE_JPEG_QUALITY, 100}), 6);
  auto near = [](const cv::Vec3b& a, const cv::Vec3b& b) {
    return std::abs(a[0] - b[0]) < 40 && std::abs(a[1] - b[1]) < 40 && std::abs(a[2] - b[2]) < 40;
  };
  const auto rotated = DecodeImage(jpeg, "exif.jpg");
  ASSERT_TRUE(rotated.ok()) << rotated.error();
  // Orientation 6: rotate 90 degrees clockwise to display.
  ASSERT_EQ(rotated->size(), cv::Size(32, 64));
  EXPECT_TRUE(near(rotated->at<cv::Vec3b>(4, 4), cv::Vec3b(0, 0, 255)));       // was bottom-left
  EXPECT_TRUE(near(rotated->at<cv::Vec3b>(4, 27), cv::Vec3b(255, 0, 0)));      // was top-left
  EXPECT_TRUE(near(rotated->at<cv::Vec3b>(59, 27), cv::Vec3b(0, 255, 0)));     // was top-right
  EXPECT_TRUE(near(rotated->at<cv::Vec3b>(59, 4), cv::Vec3b(255, 255, 255)));  // was bottom-right

  DecodeOptions options;
  options.apply_exif_orientation = false;
  const auto raw = DecodeImage(jpeg, "exif.jpg", options);
  ASSERT_TRUE(raw.ok()) << raw.error();
  ASSERT_EQ(raw->size(), cv::Size(64, 32));
  EXPECT_TRUE(near(raw->at<cv::Vec3b>(4, 4), cv::Vec3b(255, 0, 0)));
}

TEST(EncodePngTest, WritesAtomicallyAndRoundTrips) {
  TempDir dir;
  const cv::Mat rgb = Pattern(7, 5);
  const std::string path = dir.Join("sub/out.png");
  EXPECT_EQ(WritePng(path, rgb), "");
  const auto decoded = DecodeImageFile(path);
  ASSERT_TRUE(decoded.ok()) << decoded.error();
  EXPECT_TRUE(Equal(*decoded, rgb));
  EXPECT_THROW(EncodePng(cv::Mat(2, 2, CV_32FC3)), Error);
  EXPECT_THROW(EncodePng(cv::Mat()), Error);
}

}  // namespace
}  // namespace synthlens
