#pragma once

#include <opencv2/core.hpp>
#include <optional>
#include <string_view>

namespace synthlens {

// Resampling filters with Pillow's definitions (PIL.Image.Resampling), so encoders trained on
// PIL-resized images see the same pixels here (clean-fid: resize filters alone move FID by >= 6).
enum class PilFilter {
  kNearest,   // Image.NEAREST: pixel floor((x + 0.5) * in / out), no filtering
  kBilinear,  // Image.BILINEAR: triangle filter, support 1, widened by the downscale factor
  kBicubic,   // Image.BICUBIC: Keys cubic with a = -0.5, support 2, widened likewise
};

// "nearest" | "bilinear" | "bicubic" (model.json "input.resize"); nullopt for anything else.
std::optional<PilFilter> ParsePilFilter(std::string_view name);
const char* PilFilterName(PilFilter filter);

// Resizes an 8-bit image (CV_8UC1 or CV_8UC3; channels are independent, so RGB and grey both
// work) to width x height exactly as Pillow 9.4's Image.resize(size, filter) on an "L" or "RGB"
// image: for bilinear/bicubic the separable ImagingResample (horizontal pass first, each pass
// rounded to 8 bits with 22-bit fixed-point weights and clipped); for nearest ImagingScaleAffine.
// The same size returns a copy. Throws synthlens::Error for other types, an empty image or a
// non-positive size.
cv::Mat ResizePil(const cv::Mat& rgb8_or_gray8, int width, int height, PilFilter filter);

}  // namespace synthlens
