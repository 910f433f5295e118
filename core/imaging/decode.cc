#include "core/imaging/decode.h"

#include <zlib.h>

#include <cstdio>
#include <cstdlib>
#include <limits>
#include <mutex>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/util/file_util.h"

namespace synthlens {
namespace {

uint32_t Be16(std::string_view b, size_t p) {
  return (uint32_t(uint8_t(b[p])) << 8) | uint8_t(b[p + 1]);
}
uint32_t Be32(std::string_view b, size_t p) { return (Be16(b, p) << 16) | Be16(b, p + 2); }
uint32_t Le16(std::string_view b, size_t p) {
  return uint8_t(b[p]) | (uint32_t(uint8_t(b[p + 1])) << 8);
}
uint32_t Le24(std::string_view b, size_t p) {
  return Le16(b, p) | (uint32_t(uint8_t(b[p + 2])) << 16);
}
uint32_t Le32(std::string_view b, size_t p) { return Le16(b, p) | (Le16(b, p + 2) << 16); }

bool StartsWith(std::string_view b, std::string_view magic) {
  return b.size() >= magic.size() && b.substr(0, magic.size()) == magic;
}

Result<ImageHeader> Corrupt(const std::string& name, const std::string& format) {
  return Result<ImageHeader>::Failure(name + ": truncated or corrupt " + format + " data");
}

Result<ImageHeader> Header(std::string format, int64_t width, int64_t height) {
  ImageHeader h;
  h.format = std::move(format);
  h.width = static_cast<int>(width);
  h.height = static_cast<int>(height);
  return h;
}

Result<ImageHeader> ParsePng(std::string_view b, const std::string& name) {
  // Signature (8) + IHDR length (4) + "IHDR" (4) + width (4) + height (4).
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return Corrupt(name, "PNG");
  return Header("png", Be32(b, 16), Be32(b, 20));
}

bool IsJpegSof(uint8_t marker) {
  return marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
}

// Walks JPEG marker segments from SOI. Returns the offset of the first SOS segment (0 if none)
// and fills width/height from the first SOFn segment.
size_t WalkJpeg(std::string_view b, int64_t* width, int64_t* height) {
  size_t pos = 2;
  while (pos + 4 <= b.size()) {
    if (uint8_t(b[pos]) != 0xFF) return 0;
    uint8_t marker = uint8_t(b[pos + 1]);
    if (marker == 0xFF) {  // fill byte
      ++pos;
      continue;
    }
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {  // standalone markers
      pos += 2;
      continue;
    }
    if (marker == 0xD9) return 0;  // EOI before any scan
    const size_t length = Be16(b, pos + 2);
    if (length < 2 || pos + 2 + length > b.size()) return 0;
    if (IsJpegSof(marker)) {
      if (length < 7) return 0;
      *height = Be16(b, pos + 5);
      *width = Be16(b, pos + 7);
    }
    if (marker == 0xDA) return *width > 0 ? pos : 0;
    pos += 2 + length;
  }
  return 0;
}

Result<ImageHeader> ParseJpeg(std::string_view b, const std::string& name) {
  int64_t width = 0, height = 0;
  WalkJpeg(b, &width, &height);
  if (width <= 0 || height <= 0) return Corrupt(name, "JPEG");
  return Header("jpeg", width, height);
}

Result<ImageHeader> ParseBmp(std::string_view b, const std::string& name) {
  if (b.size() < 26) return Corrupt(name, "BMP");
  const uint32_t dib_size = Le32(b, 14);
  if (dib_size == 12) return Header("bmp", Le16(b, 18), Le16(b, 20));
  const int64_t width = static_cast<int32_t>(Le32(b, 18));
  const int64_t height = static_cast<int32_t>(Le32(b, 22));  // negative: top-down rows
  return Header("bmp", width, height < 0 ? -height : height);
}

Result<ImageHeader> ParseWebp(std::string_view b, const std::string& name) {
  if (b.size() < 30) return Corrupt(name, "WebP");
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    if (uint8_t(b[23]) != 0x9D || uint8_t(b[24]) != 0x01 || uint8_t(b[25]) != 0x2A) {
      return Corrupt(name, "WebP");
    }
    return Header("webp", Le16(b, 26) & 0x3FFF, Le16(b, 28) & 0x3FFF);
  }
  if (chunk == "VP8L") {
    if (uint8_t(b[20]) != 0x2F) return Corrupt(name, "WebP");
    const uint32_t bits = Le32(b, 21);
    return Header("webp", (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1);
  }
  if (chunk == "VP8X") return Header("webp", int64_t(Le24(b, 24)) + 1, int64_t(Le24(b, 27)) + 1);
  return Corrupt(name, "WebP");
}

Result<ImageHeader> ParseTiff(std::string_view b, const std::string& name) {
  const bool little = b[0] == 'I';
  auto u16 = [&](size_t p) { return little ? Le16(b, p) : Be16(b, p); };
  auto u32 = [&](size_t p) { return little ? Le32(b, p) : Be32(b, p); };
  if (b.size() < 8) return Corrupt(name, "TIFF");
  const size_t ifd = u32(4);
  if (ifd + 2 > b.size()) return Corrupt(name, "TIFF");
  const size_t count = u16(ifd);
  int64_t width = 0, height = 0;
  for (size_t i = 0; i < count; ++i) {
    const size_t entry = ifd + 2 + 12 * i;
    if (entry + 12 > b.size()) return Corrupt(name, "TIFF");
    const uint32_t tag = u16(entry);
    const uint32_t type = u16(entry + 2);
    if (tag != 256 && tag != 257) continue;
    // SHORT (3) values sit in the first two bytes of the value field, LONG (4) fill it.
    const int64_t value = type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : 0;
    (tag == 256 ? width : height) = value;
  }
  if (width <= 0 || height <= 0) return Corrupt(name, "TIFF");
  return Header("tiff", width, height);
}

// The display name of a format in messages.
std::string FormatLabel(const std::string& format) {
  if (format == "png") return "PNG";
  if (format == "jpeg") return "JPEG";
  if (format == "bmp") return "BMP";
  if (format == "gif") return "GIF";
  if (format == "webp") return "WebP";
  if (format == "tiff") return "TIFF";
  return format;
}

// OpenCV decodes a PNG cut short or a JPEG without its end as a partly grey image (with only a
// warning on stderr), so truncation is detected here and treated as a failure. The checks only
// walk chunk/marker structure (and PNG CRCs), never pixels.
bool LooksComplete(std::string_view b, const std::string& format) {
  if (format == "png") {
    size_t pos = 8;
    while (pos + 12 <= b.size()) {
      const size_t length = Be32(b, pos);
      if (length > b.size() - pos - 12) return false;
      // Critical chunks (upper-case first letter) must have a valid CRC, as libpng requires;
      // checking here reports flipped bytes without libpng printing its own error to stderr.
      if (b[pos + 4] >= 'A' && b[pos + 4] <= 'Z') {
        const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(b.data() + pos + 4),
                                static_cast<uInt>(length + 4));
        if (crc != Be32(b, pos + 8 + length)) return false;
      }
      if (b.substr(pos + 4, 4) == "IEND") return true;
      pos += 12 + length;
    }
    return false;
  }
  if (format == "jpeg") {
    int64_t width = 0, height = 0;
    const size_t sos = WalkJpeg(b, &width, &height);
    if (sos == 0) return false;
    // Entropy-coded data stuffs 0xFF as FF 00, so FF D9 after the first scan is the EOI marker.
    const size_t eoi = b.rfind("\xFF\xD9");
    return eoi != std::string_view::npos && eoi > sos;
  }
  if (format == "webp") {
    // The RIFF size field counts the bytes after the first 8; OpenCV also needs 32 bytes.
    return b.size() >= 32 && size_t(Le32(b, 4)) + 8 <= b.size();
  }
  if (format == "bmp") {
    // bfSize: the whole file. Some writers leave it 0; a larger value means the file was cut.
    return b.size() >= 14 && Le32(b, 2) <= b.size();
  }
  return true;
}

// OpenCV logs libjpeg/libpng complaints about corrupt data as warnings on stderr; we report those
// files through Result instead, so quieten OpenCV unless the user asked for a level explicitly.
void QuietOpenCvLogging() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (std::getenv("OPENCV_LOG_LEVEL") != nullptr) return;
    if (cv::utils::logging::getLogLevel() > cv::utils::logging::LOG_LEVEL_ERROR) {
      cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    }
  });
}

cv::Mat ToRgb8(const cv::Mat& decoded) {
  cv::Mat eight;
  switch (decoded.depth()) {
    case CV_8U:
      eight = decoded;
      break;
    case CV_16U:
      decoded.convertTo(eight, CV_8U, 255.0 / 65535.0);  // saturate_cast rounds to nearest
      break;
    case CV_32F:
    case CV_64F:
      decoded.convertTo(eight, CV_8U, 255.0);  // float images are in [0, 1]
      break;
    default:
      decoded.convertTo(eight, CV_8U);
      break;
  }
  cv::Mat rgb;
  if (eight.channels() == 1) {
    cv::cvtColor(eight, rgb, cv::COLOR_GRAY2RGB);
  } else if (eight.channels() == 4) {
    cv::cvtColor(eight, rgb, cv::COLOR_BGRA2RGB);
  } else {
    cv::cvtColor(eight, rgb, cv::COLOR_BGR2RGB);
  }
  return rgb;
}

}  // namespace

bool DecodeOptions::Check() const { return max_pixels > 0; }

Result<ImageHeader> ReadImageHeader(std::string_view bytes, const std::string& name) {
  if (bytes.empty()) return Result<ImageHeader>::Failure(name + ": empty file");
  if (StartsWith(bytes, "\x89PNG\r\n\x1A\n")) return ParsePng(bytes, name);
  if (StartsWith(bytes, "\xFF\xD8\xFF")) return ParseJpeg(bytes, name);
  if (StartsWith(bytes, "BM")) return ParseBmp(bytes, name);
  if (StartsWith(bytes, "GIF87a") || StartsWith(bytes, "GIF89a")) {
    if (bytes.size() < 10) return Corrupt(name, "GIF");
    return Header("gif", Le16(bytes, 6), Le16(bytes, 8));
  }
  if (StartsWith(bytes, "RIFF") && bytes.size() >= 12 && bytes.substr(8, 4) == "WEBP") {
    return ParseWebp(bytes, name);
  }
  if (StartsWith(bytes, std::string_view("II*\0", 4)) ||
      StartsWith(bytes, std::string_view("MM\0*", 4))) {
    return ParseTiff(bytes, name);
  }
  return Result<ImageHeader>::Failure(name + ": not a recognised image format");
}

Result<cv::Mat> DecodeImage(std::string_view bytes, const std::string& name,
                            const DecodeOptions& options) {
  SL_CHECK(options.Check(),
           "DecodeOptions: max_pixels must be positive, got " << options.max_pixels);
  auto header = ReadImageHeader(bytes, name);
  if (!header.ok()) return Result<cv::Mat>::Failure(header.error());
  const std::string label = FormatLabel(header->format);
  const int64_t width = header->width, height = header->height;
  if (width <= 0 || height <= 0) {
    return Result<cv::Mat>::Failure(name + ": invalid " + label + " size " + std::to_string(width) +
                                    "x" + std::to_string(height));
  }
  const int64_t pixels = width * height;
  if (pixels > options.max_pixels) {
    char message[160];
    std::snprintf(message, sizeof(message),
                  ": %lldx%lld = %.1f MP exceeds the %g MP limit (DecodeOptions::max_pixels)",
                  static_cast<long long>(width), static_cast<long long>(height), pixels / 1e6,
                  options.max_pixels / 1e6);
    return Result<cv::Mat>::Failure(name + message);
  }
  if (header->format == "gif") {
    return Result<cv::Mat>::Failure(name + ": GIF images are not supported (convert to PNG)");
  }
  const std::string corrupt = name + ": truncated or corrupt " + label + " data";
  if (!LooksComplete(bytes, header->format)) return Result<cv::Mat>::Failure(corrupt);

  if (bytes.size() > static_cast<size_t>(std::numeric_limits<int>::max())) {
    return Result<cv::Mat>::Failure(name + ": file too large to decode (over 2 GiB)");
  }
  QuietOpenCvLogging();
  int flags = cv::IMREAD_COLOR | cv::IMREAD_ANYDEPTH;
  if (!options.apply_exif_orientation) flags |= cv::IMREAD_IGNORE_ORIENTATION;
  cv::Mat decoded;
  try {
    // imdecode only reads the buffer; the const_cast avoids copying the whole file.
    const cv::Mat buffer(1, static_cast<int>(bytes.size()), CV_8U, const_cast<char*>(bytes.data()));
    decoded = cv::imdecode(buffer, flags);
  } catch (const cv::Exception& e) {
    return Result<cv::Mat>::Failure(corrupt + " (" + e.err + ")");
  }
  if (decoded.empty()) return Result<cv::Mat>::Failure(corrupt);
  return ToRgb8(decoded);
}

Result<cv::Mat> DecodeImageFile(const std::string& path, const DecodeOptions& options) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return Result<cv::Mat>::Failure(bytes.error());
  return DecodeImage(*bytes, path, options);
}

}  // namespace synthlens
