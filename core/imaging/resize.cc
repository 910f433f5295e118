// Pillow's resampling (libImaging/Resample.c and Geometry.c of Pillow 9.4), reimplemented on
// cv::Mat. The arithmetic follows Pillow step by step (double weights normalised per output
// pixel, rounded to 22-bit integers; int32 accumulation with a rounding bias; 8-bit clipping
// after each pass), because "close to PIL" is not enough for FID-style comparisons.

#include "core/imaging/resize.h"

#include <cmath>
#include <cstdint>
#include <functional>
#include <vector>

#include "core/util/check.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace {

// Pillow's PRECISION_BITS: 8 bits of result, 2 bits of headroom for filters with negative lobes.
constexpr int kPrecisionBits = 32 - 8 - 2;

double BilinearFilter(double x) {
  if (x < 0.0) x = -x;
  if (x < 1.0) return 1.0 - x;
  return 0.0;
}

// Keys' cubic convolution with a = -0.5 (Pillow's bicubic_filter; OpenCV and torch use -0.75).
double BicubicFilter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Pillow's clip8: the accumulator shifted down to 8 bits, clamped to [0, 255]. The right shift of
// a negative int is arithmetic on every compiler we build with, as Pillow assumes too.
inline uint8_t Clip8(int32_t acc) {
  const int32_t v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Per output pixel along one axis: the first input pixel, how many are used, and their weights.
struct Coefficients {
  int ksize = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // out_size x ksize, fixed point with kPrecisionBits
};

// precompute_coeffs + normalize_coeffs_8bpc for the full-image box (in0 = 0, in1 = in_size).
Coefficients PrecomputeCoefficients(int in_size, int out_size, double (*filter)(double),
                                    double filter_support) {
  // Pillow's box is float; the difference of two small integers is exact, then divided in double.
  const float in0 = 0.0f;
  const float in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  // Downscaling widens the filter by the scale factor: this is Pillow's antialiasing.
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter_support * filterscale;
  Coefficients c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<size_t>(out_size));
  c.count.resize(static_cast<size_t>(out_size));
  c.weights.assign(static_cast<size_t>(out_size) * static_cast<size_t>(c.ksize), 0);
  std::vector<double> k(static_cast<size_t>(c.ksize));
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    // Truncation toward zero as in C, then clamped; "rounds" the window ends as Pillow does.
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = filter((x + xmin - center + 0.5) * ss);
      k[static_cast<size_t>(x)] = w;
      ww += w;
    }
    int32_t* out = &c.weights[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
    for (int x = 0; x < xmax; ++x) {
      double w = k[static_cast<size_t>(x)];
      if (ww != 0.0) w /= ww;
      const double fixed = w * (1 << kPrecisionBits);
      out[x] = static_cast<int32_t>(w < 0 ? -0.5 + fixed : 0.5 + fixed);
    }
    c.first[static_cast<size_t>(xx)] = xmin;
    c.count[static_cast<size_t>(xx)] = xmax;
  }
  return c;
}

// Runs body(row) for every row; on the worker pool only when there is enough work to pay for it
// (the encoder already preprocesses images in parallel, and small images are the common case).
void ForEachRow(int rows, int64_t work_per_row, const std::function<void(int64_t)>& body) {
  if (static_cast<int64_t>(rows) * work_per_row < (int64_t{1} << 16)) {
    for (int64_t y = 0; y < rows; ++y) body(y);
  } else {
    ParallelFor(rows, body);
  }
}

// ImagingResampleHorizontal_8bpc: output row y comes from input row y + row_offset.
void ResampleHorizontal(const cv::Mat& in, cv::Mat& out, int row_offset, const Coefficients& c) {
  const int cn = in.channels();
  ForEachRow(out.rows, int64_t{out.cols} * cn * c.ksize, [&](int64_t y) {
    const uint8_t* src = in.ptr<uint8_t>(static_cast<int>(y) + row_offset);
    uint8_t* dst = out.ptr<uint8_t>(static_cast<int>(y));
    for (int xx = 0; xx < out.cols; ++xx) {
      const int32_t* k = &c.weights[static_cast<size_t>(xx) * static_cast<size_t>(c.ksize)];
      const uint8_t* s = src + static_cast<ptrdiff_t>(c.first[static_cast<size_t>(xx)]) * cn;
      const int n = c.count[static_cast<size_t>(xx)];
      for (int ch = 0; ch < cn; ++ch) {
        // Weights sum to 2^22 (positive part < 1.2 * 2^22 for bicubic), so 255 * that fits int32.
        int32_t acc = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < n; ++x) acc += s[x * cn + ch] * k[x];
        dst[xx * cn + ch] = Clip8(acc);
      }
    }
  });
}

// ImagingResampleVertical_8bpc: c.first is relative to the first row of `in`.
void ResampleVertical(const cv::Mat& in, cv::Mat& out, const Coefficients& c) {
  const int values = out.cols * out.channels();
  ForEachRow(out.rows, int64_t{values} * c.ksize, [&](int64_t yy) {
    const int32_t* k = &c.weights[static_cast<size_t>(yy) * static_cast<size_t>(c.ksize)];
    const int ymin = c.first[static_cast<size_t>(yy)];
    const int n = c.count[static_cast<size_t>(yy)];
    uint8_t* dst = out.ptr<uint8_t>(static_cast<int>(yy));
    std::vector<int32_t> acc(static_cast<size_t>(values), 1 << (kPrecisionBits - 1));
    // Row by row (same sums, same order per pixel as Pillow) for cache-friendly reads.
    for (int y = 0; y < n; ++y) {
      const uint8_t* src = in.ptr<uint8_t>(ymin + y);
      const int32_t w = k[y];
      for (int i = 0; i < values; ++i) acc[static_cast<size_t>(i)] += src[i] * w;
    }
    for (int i = 0; i < values; ++i) dst[i] = Clip8(acc[static_cast<size_t>(i)]);
  });
}

// ImagingScaleAffine, reached by Image.resize(NEAREST) through an affine transform with
// a = (in_w / out_w, 0, 0, 0, in_h / out_h, 0). The source coordinate is accumulated by repeated
// addition exactly as Pillow does, so the picked pixels agree even where (x + 0.5) * scale lands
// on an integer up to rounding.
cv::Mat ResizeNearest(const cv::Mat& in, int width, int height) {
  const double ax = static_cast<double>(static_cast<float>(in.cols) - 0.0f) / width;
  const double ay = static_cast<double>(static_cast<float>(in.rows) - 0.0f) / height;
  // Pillow's COORD: -1 for negative coordinates, else truncation.
  auto coord = [](double v) { return v < 0.0 ? -1 : static_cast<int>(v); };
  std::vector<int> xin(static_cast<size_t>(width), -1);
  double xo = 0.0 + ax * 0.5;
  for (int x = 0; x < width; ++x) {
    const int xi = coord(xo);
    if (xi >= 0 && xi < in.cols) xin[static_cast<size_t>(x)] = xi;
    xo += ax;
  }
  std::vector<int> yin(static_cast<size_t>(height), -1);
  double yo = 0.0 + ay * 0.5;
  for (int y = 0; y < height; ++y) {
    const int yi = coord(yo);
    if (yi >= 0 && yi < in.rows) yin[static_cast<size_t>(y)] = yi;
    yo += ay;
  }
  // Pixels mapped outside the input stay 0 (Pillow's fill); with the full-image box none are.
  cv::Mat out = cv::Mat::zeros(height, width, in.type());
  const size_t pixel = in.elemSize();
  ForEachRow(height, width, [&](int64_t y) {
    const int yi = yin[static_cast<size_t>(y)];
    if (yi < 0) return;
    const uint8_t* src = in.ptr<uint8_t>(yi);
    uint8_t* dst = out.ptr<uint8_t>(static_cast<int>(y));
    for (int x = 0; x < width; ++x) {
      const int xi = xin[static_cast<size_t>(x)];
      if (xi < 0) continue;
      for (size_t b = 0; b < pixel; ++b) dst[x * pixel + b] = src[static_cast<size_t>(xi) * pixel + b];
    }
  });
  return out;
}

}  // namespace

std::optional<PilFilter> ParsePilFilter(std::string_view name) {
  for (PilFilter f : {PilFilter::kNearest, PilFilter::kBilinear, PilFilter::kBicubic}) {
    if (name == PilFilterName(f)) return f;
  }
  return std::nullopt;
}

const char* PilFilterName(PilFilter filter) {
  switch (filter) {
    case PilFilter::kNearest:
      return "nearest";
    case PilFilter::kBilinear:
      return "bilinear";
    case PilFilter::kBicubic:
      return "bicubic";
  }
  return "unknown";
}

cv::Mat ResizePil(const cv::Mat& image, int width, int height, PilFilter filter) {
  SL_CHECK(!image.empty() && (image.type() == CV_8UC1 || image.type() == CV_8UC3),
           "ResizePil needs a non-empty CV_8UC1 or CV_8UC3 image, got type "
               << image.type() << " of " << image.cols << "x" << image.rows);
  SL_CHECK(width > 0 && height > 0, "ResizePil: target size " << width << "x" << height
                                                               << " must be positive");
  // Image.resize returns a copy for the same size (no pass would change a pixel anyway).
  if (image.cols == width && image.rows == height) return image.clone();
  if (filter == PilFilter::kNearest) return ResizeNearest(image, width, height);

  double (*fn)(double) = filter == PilFilter::kBicubic ? BicubicFilter : BilinearFilter;
  const double support = filter == PilFilter::kBicubic ? 2.0 : 1.0;
  const bool need_horizontal = width != image.cols;
  const bool need_vertical = height != image.rows;
  const Coefficients horizontal = PrecomputeCoefficients(image.cols, width, fn, support);
  Coefficients vertical = PrecomputeCoefficients(image.rows, height, fn, support);

  cv::Mat current = image;
  if (need_horizontal) {
    // Only the input rows the vertical pass reads are resampled horizontally.
    const int first_row = vertical.first.front();
    const int last_row = vertical.first.back() + vertical.count.back();
    for (int& first : vertical.first) first -= first_row;
    cv::Mat temp(last_row - first_row, width, image.type());
    ResampleHorizontal(image, temp, first_row, horizontal);
    current = temp;
  }
  if (need_vertical) {
    cv::Mat out(height, current.cols, image.type());
    ResampleVertical(current, out, vertical);
    current = out;
  }
  return current;
}

}  // namespace synthlens
