#pragma once

#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>

#include "core/util/result.h"

namespace synthlens {

struct DecodeOptions {
  // Refuse images with more pixels than this before decoding any pixel data, so a crafted header
  // (a 40000x40000 PNG of a few bytes) cannot make us allocate gigabytes.
  int64_t max_pixels = 100'000'000;
  // Rotate/flip JPEGs by their EXIF orientation tag, as viewers and PIL's ImageOps.exif_transpose
  // do.
  bool apply_exif_orientation = true;
  bool Check() const;
};

// What the header of an image file says, read without decoding pixels.
struct ImageHeader {
  std::string format;  // "png", "jpeg", "bmp", "gif", "webp", "tiff"
  int width = 0;
  int height = 0;
};

// Detects the format by content (magic bytes, never the file extension) and parses the header.
// `name` is used only in error messages ("NAME: reason").
Result<ImageHeader> ReadImageHeader(std::string_view bytes, const std::string& name);

// Decodes an image to 8-bit RGB (CV_8UC3): grayscale is replicated, alpha is dropped (like PIL's
// convert('RGB')), 16-bit samples are scaled to 8 bits with rounding, palettes are expanded.
// Truncated or damaged data is a failure, not a partially grey image: PNG without IEND or with a
// bad critical-chunk CRC, JPEG without EOI after the scan, BMP/WebP shorter than their size
// fields. Failures read "NAME: reason".
Result<cv::Mat> DecodeImage(std::string_view bytes, const std::string& name,
                            const DecodeOptions& options = {});

// Reads and decodes a file; errors name the path.
Result<cv::Mat> DecodeImageFile(const std::string& path, const DecodeOptions& options = {});

}  // namespace synthlens
