#include "core/augment/ops.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/core/hal/intrin.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/util/check.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

void CheckRgb(const cv::Mat& img, const char* what) {
  SL_CHECK(img.type() == CV_8UC3, what << " expects a CV_8UC3 image, got type " << img.type());
}

// Python's round(): half to even (std::nearbyint under the default rounding mode).
int PyRound(double v) { return static_cast<int>(std::nearbyint(v)); }

int CvInterpolation(Interpolation interpolation) {
  switch (interpolation) {
    case Interpolation::kBicubic:
      return cv::INTER_CUBIC;
    case Interpolation::kNearest:
      return cv::INTER_NEAREST;
    case Interpolation::kBilinear:
      break;
  }
  return cv::INTER_LINEAR;
}

// Applies a 256-entry table to every byte; rows are visited so submatrices work too.
void ApplyLut(cv::Mat& img, const uint8_t* lut) {
  const int row_bytes = img.cols * img.channels();
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* p = img.ptr<uint8_t>(y);
    for (int i = 0; i < row_bytes; ++i) p[i] = lut[p[i]];
  }
}

// Fixed-point ITU-R 601-2 weights as torchvision uses them (0.2989, 0.587, 0.114) in 1/65536.
constexpr int kGrayR = 19588;
constexpr int kGrayG = 38470;
constexpr int kGrayB = 7471;

inline int Gray(const uint8_t* px) {
  return (kGrayR * px[0] + kGrayG * px[1] + kGrayB * px[2]) >> 16;
}

// torchvision blends in float32 and truncates on the cast back to uint8.
inline uint8_t TruncClamp(float v) {
  if (!(v > 0.0f)) return 0;
  if (v >= 255.0f) return 255;
  return static_cast<uint8_t>(v);
}

// Rotating hue keeps max and min of (r, g, b); only which channel holds them and the middle value
// change, so a pixel needs its hue-sector position h in [0, 6), not a float HSV image. Written
// branch-free over a value type T (float or a SIMD vector) so the same formula serves both paths.
template <typename T, typename Ops>
inline void HueRotateT(T& r, T& g, T& b, const T& shift) {
  const T zero = Ops::Set(0.0f), one = Ops::Set(1.0f), two = Ops::Set(2.0f), three = Ops::Set(3.0f),
          four = Ops::Set(4.0f), five = Ops::Set(5.0f), six = Ops::Set(6.0f), eps = Ops::Set(1e-3f);
  const T mx = Ops::Max(r, Ops::Max(g, b));
  const T mn = Ops::Min(r, Ops::Min(g, b));
  const T cr = mx - mn;
  const T inv = one / Ops::Max(cr, one);  // grey pixels: cr = 0, and any hue gives them back
  const T hr = (g - b) * inv;
  const T hg = two + (b - r) * inv;
  const T hb = four + (r - g) * inv;
  T h = Ops::Select(Ops::Eq(mx, r), hr, Ops::Select(Ops::Eq(mx, g), hg, hb)) + shift;
  h = Ops::Select(Ops::Lt(h, zero), h + six, h);
  h = Ops::Select(Ops::Ge(h, six), h - six, h);
  const T sector = Ops::Min(Ops::Trunc(h), five);
  const T crf = cr * (h - sector);
  // q = max - cr*f and t = min + cr*f; torchvision truncates on the way back to uint8, and the
  // epsilon keeps exact integers from falling to the level below.
  const T q = mx - crf + eps;
  const T t = mn + crf + eps;
  const auto s0 = Ops::Eq(sector, zero), s1 = Ops::Eq(sector, one), s2 = Ops::Eq(sector, two),
             s3 = Ops::Eq(sector, three), s4 = Ops::Eq(sector, four), s5 = Ops::Eq(sector, five);
  r = Ops::Select(s0, mx, Ops::Select(s1, q, Ops::Select(s4, t, Ops::Select(s5, mx, mn))));
  g = Ops::Select(s0, t, Ops::Select(s1, mx, Ops::Select(s2, mx, Ops::Select(s3, q, mn))));
  b = Ops::Select(s2, t, Ops::Select(s3, mx, Ops::Select(s4, mx, Ops::Select(s5, q, mn))));
}

struct ScalarOps {
  static float Set(float v) { return v; }
  static float Max(float a, float b) { return a > b ? a : b; }
  static float Min(float a, float b) { return a < b ? a : b; }
  static bool Eq(float a, float b) { return a == b; }
  static bool Lt(float a, float b) { return a < b; }
  static bool Ge(float a, float b) { return a >= b; }
  static float Select(bool m, float a, float b) { return m ? a : b; }
  static float Trunc(float v) { return static_cast<float>(static_cast<int>(v)); }
};

inline void HueRotate(float& r, float& g, float& b, float shift) {
  HueRotateT<float, ScalarOps>(r, g, b, shift);
}

#if CV_SIMD128
struct SimdOps {
  using V = cv::v_float32x4;
  static V Set(float v) { return cv::v_setall_f32(v); }
  static V Max(const V& a, const V& b) { return cv::v_max(a, b); }
  static V Min(const V& a, const V& b) { return cv::v_min(a, b); }
  static V Eq(const V& a, const V& b) { return a == b; }
  static V Lt(const V& a, const V& b) { return a < b; }
  static V Ge(const V& a, const V& b) { return a >= b; }
  static V Select(const V& m, const V& a, const V& b) { return cv::v_select(m, a, b); }
  static V Trunc(const V& v) { return cv::v_cvt_f32(cv::v_trunc(v)); }
};

// 16 interleaved RGB pixels at p, in place.
inline void HueRotate16(uint8_t* p, float shift) {
  cv::v_uint8x16 r8, g8, b8;
  cv::v_load_deinterleave(p, r8, g8, b8);
  cv::v_uint16x8 rw[2], gw[2], bw[2];
  cv::v_expand(r8, rw[0], rw[1]);
  cv::v_expand(g8, gw[0], gw[1]);
  cv::v_expand(b8, bw[0], bw[1]);
  const cv::v_float32x4 vshift = cv::v_setall_f32(shift);
  cv::v_int32x4 out[3][4];
  for (int half = 0; half < 2; ++half) {
    cv::v_uint32x4 r32[2], g32[2], b32[2];
    cv::v_expand(rw[half], r32[0], r32[1]);
    cv::v_expand(gw[half], g32[0], g32[1]);
    cv::v_expand(bw[half], b32[0], b32[1]);
    for (int q = 0; q < 2; ++q) {
      cv::v_float32x4 r = cv::v_cvt_f32(cv::v_reinterpret_as_s32(r32[q]));
      cv::v_float32x4 g = cv::v_cvt_f32(cv::v_reinterpret_as_s32(g32[q]));
      cv::v_float32x4 b = cv::v_cvt_f32(cv::v_reinterpret_as_s32(b32[q]));
      HueRotateT<cv::v_float32x4, SimdOps>(r, g, b, vshift);
      out[0][half * 2 + q] = cv::v_trunc(r);
      out[1][half * 2 + q] = cv::v_trunc(g);
      out[2][half * 2 + q] = cv::v_trunc(b);
    }
  }
  cv::v_uint8x16 res[3];
  for (int c = 0; c < 3; ++c) {
    res[c] = cv::v_pack_u(cv::v_pack(out[c][0], out[c][1]), cv::v_pack(out[c][2], out[c][3]));
  }
  cv::v_store_interleave(p, res[0], res[1], res[2]);
}
#endif

}  // namespace

CropRect SampleResizedCrop(Rng& rng, int width, int height, const std::array<double, 2>& scale,
                           const std::array<double, 2>& ratio) {
  SL_CHECK(width > 0 && height > 0, "SampleResizedCrop on an empty image " << width << "x" << height);
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio[0]);
  const double log_hi = std::log(ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double target_area = area * rng.Uniform(scale[0], scale[1]);
    const double aspect = std::exp(rng.Uniform(log_lo, log_hi));
    const int w = PyRound(std::sqrt(target_area * aspect));
    const int h = PyRound(std::sqrt(target_area / aspect));
    if (0 < w && w <= width && 0 < h && h <= height) {
      CropRect r;
      r.y = static_cast<int>(rng.UniformInt(0, height - h));
      r.x = static_cast<int>(rng.UniformInt(0, width - w));
      r.w = w;
      r.h = h;
      return r;
    }
  }
  // Central-crop fallback, clamping the aspect ratio into range.
  const double in_ratio = static_cast<double>(width) / height;
  CropRect r;
  if (in_ratio < std::min(ratio[0], ratio[1])) {
    r.w = width;
    r.h = PyRound(r.w / std::min(ratio[0], ratio[1]));
  } else if (in_ratio > std::max(ratio[0], ratio[1])) {
    r.h = height;
    r.w = PyRound(r.h * std::max(ratio[0], ratio[1]));
  } else {
    r.w = width;
    r.h = height;
  }
  r.y = (height - r.h) / 2;
  r.x = (width - r.w) / 2;
  return r;
}

bool SampleEraseRect(Rng& rng, int width, int height, const std::array<double, 2>& scale,
                     const std::array<double, 2>& ratio, CropRect* rect) {
  const double area = static_cast<double>(width) * height;
  const double log_lo = std::log(ratio[0]);
  const double log_hi = std::log(ratio[1]);
  for (int attempt = 0; attempt < 10; ++attempt) {
    const double erase_area = area * rng.Uniform(scale[0], scale[1]);
    const double aspect = std::exp(rng.Uniform(log_lo, log_hi));
    const int h = PyRound(std::sqrt(erase_area * aspect));
    const int w = PyRound(std::sqrt(erase_area / aspect));
    if (!(h < height && w < width)) continue;
    rect->y = static_cast<int>(rng.UniformInt(0, height - h));
    rect->x = static_cast<int>(rng.UniformInt(0, width - w));
    rect->w = w;
    rect->h = h;
    return true;
  }
  return false;
}

cv::Mat ResizedCrop(const cv::Mat& src, const CropRect& rect, int out_w, int out_h,
                    Interpolation interpolation) {
  CheckRgb(src, "ResizedCrop");
  SL_CHECK(rect.x >= 0 && rect.y >= 0 && rect.w > 0 && rect.h > 0 && rect.x + rect.w <= src.cols &&
               rect.y + rect.h <= src.rows,
           "crop " << rect.x << "," << rect.y << " " << rect.w << "x" << rect.h << " outside "
                   << src.cols << "x" << src.rows);
  SL_CHECK(out_w > 0 && out_h > 0, "ResizedCrop output " << out_w << "x" << out_h);
  cv::Mat roi = src(cv::Rect(rect.x, rect.y, rect.w, rect.h));
  cv::Mat out;
  if (rect.w == out_w && rect.h == out_h) {
    out = roi.clone();
  } else {
    cv::resize(roi, out, cv::Size(out_w, out_h), 0, 0, CvInterpolation(interpolation));
  }
  return out;
}

void AdjustBrightness(cv::Mat& img, double factor) {
  CheckRgb(img, "AdjustBrightness");
  SL_CHECK(factor >= 0, "brightness factor " << factor << " is negative");
  const float f = static_cast<float>(factor);
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = TruncClamp(f * static_cast<float>(v));
  ApplyLut(img, lut);
}

void AdjustContrast(cv::Mat& img, double factor) {
  CheckRgb(img, "AdjustContrast");
  SL_CHECK(factor >= 0, "contrast factor " << factor << " is negative");
  int64_t sum = 0;
  for (int y = 0; y < img.rows; ++y) {
    const uint8_t* p = img.ptr<uint8_t>(y);
    int row_sum = 0;
    for (int x = 0; x < img.cols; ++x, p += 3) row_sum += Gray(p);
    sum += row_sum;
  }
  const float mean = static_cast<float>(static_cast<double>(sum) / (img.total()));
  const float f = static_cast<float>(factor);
  const float offset = static_cast<float>(1.0 - factor) * mean;
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = TruncClamp(f * static_cast<float>(v) + offset);
  ApplyLut(img, lut);
}

void AdjustSaturation(cv::Mat& img, double factor) {
  CheckRgb(img, "AdjustSaturation");
  SL_CHECK(factor >= 0, "saturation factor " << factor << " is negative");
  // 12-bit fixed point: |f| * 4096 * 255 stays far inside int32 for any sane factor.
  const int fq = static_cast<int>(std::lround(factor * 4096.0));
  const int gq = 4096 - fq;
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* p = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x, p += 3) {
      const int g = gq * Gray(p);
      for (int c = 0; c < 3; ++c) {
        const int v = (fq * p[c] + g) >> 12;
        p[c] = static_cast<uint8_t>(std::clamp(v, 0, 255));
      }
    }
  }
}

void AdjustHue(cv::Mat& img, double factor) {
  CheckRgb(img, "AdjustHue");
  SL_CHECK(factor >= -0.5 && factor <= 0.5, "hue factor " << factor << " outside [-0.5, 0.5]");
  const float shift = static_cast<float>(factor * 6.0);
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* p = img.ptr<uint8_t>(y);
    int x = 0;
#if CV_SIMD128
    for (; x + 16 <= img.cols; x += 16, p += 48) HueRotate16(p, shift);
#endif
    for (; x < img.cols; ++x, p += 3) {
      float r = p[0], g = p[1], b = p[2];
      HueRotate(r, g, b, shift);
      p[0] = static_cast<uint8_t>(static_cast<int>(r));
      p[1] = static_cast<uint8_t>(static_cast<int>(g));
      p[2] = static_cast<uint8_t>(static_cast<int>(b));
    }
  }
}

void ToGrayscale(cv::Mat& img) {
  CheckRgb(img, "ToGrayscale");
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* p = img.ptr<uint8_t>(y);
    for (int x = 0; x < img.cols; ++x, p += 3) {
      const uint8_t g = static_cast<uint8_t>(Gray(p));
      p[0] = p[1] = p[2] = g;
    }
  }
}

void Solarize(cv::Mat& img, int threshold) {
  CheckRgb(img, "Solarize");
  uint8_t lut[256];
  for (int v = 0; v < 256; ++v) lut[v] = static_cast<uint8_t>(v >= threshold ? 255 - v : v);
  ApplyLut(img, lut);
}

void GaussianBlurInPlace(cv::Mat& img, int kernel_size, double sigma) {
  CheckRgb(img, "GaussianBlur");
  SL_CHECK(kernel_size >= 1 && kernel_size % 2 == 1, "blur kernel size " << kernel_size
                                                                          << " must be odd");
  SL_CHECK(sigma > 0, "blur sigma " << sigma << " must be positive");
  int radius = std::min(kernel_size / 2, static_cast<int>(std::ceil(4.0 * sigma)));
  // Reflect-101 padding needs the radius to stay inside the image.
  radius = std::min(radius, std::max(0, std::min(img.rows, img.cols) - 1));
  if (radius == 0) return;
  const int k = 2 * radius + 1;
  cv::GaussianBlur(img, img, cv::Size(k, k), sigma, sigma, cv::BORDER_REFLECT_101);
}

void RotateImage(cv::Mat& img, double degrees) {
  CheckRgb(img, "RotateImage");
  const cv::Point2f center(static_cast<float>((img.cols - 1) * 0.5),
                           static_cast<float>((img.rows - 1) * 0.5));
  const cv::Mat m = cv::getRotationMatrix2D(center, degrees, 1.0);
  cv::Mat out;
  cv::warpAffine(img, out, m, img.size(), cv::INTER_NEAREST, cv::BORDER_CONSTANT,
                 cv::Scalar::all(0));
  img = out;
}

void EraseRect(cv::Mat& img, const CropRect& rect, int value, bool random_fill, Rng* rng) {
  CheckRgb(img, "EraseRect");
  cv::Mat roi = img(cv::Rect(rect.x, rect.y, rect.w, rect.h));
  if (!random_fill) {
    roi.setTo(cv::Scalar::all(value));
    return;
  }
  SL_CHECK(rng != nullptr, "EraseRect with random fill needs an Rng");
  for (int y = 0; y < roi.rows; ++y) {
    uint8_t* p = roi.ptr<uint8_t>(y);
    const int n = roi.cols * 3;
    for (int i = 0; i < n; i += 8) {
      uint64_t bits = rng->NextU64();
      for (int j = i; j < std::min(n, i + 8); ++j, bits >>= 8) p[j] = static_cast<uint8_t>(bits);
    }
  }
}

void JpegReencode(cv::Mat& img, int quality) {
  CheckRgb(img, "JpegReencode");
  SL_CHECK(quality >= 1 && quality <= 100, "JPEG quality " << quality << " outside [1, 100]");
  cv::Mat bgr;
  cv::cvtColor(img, bgr, cv::COLOR_RGB2BGR);
  std::vector<uint8_t> bytes;
  SL_CHECK(cv::imencode(".jpg", bgr, bytes, {cv::IMWRITE_JPEG_QUALITY, quality}),
           "JPEG encoding failed");
  cv::Mat decoded = cv::imdecode(bytes, cv::IMREAD_COLOR);
  SL_CHECK(!decoded.empty(), "JPEG decoding failed");
  cv::cvtColor(decoded, img, cv::COLOR_BGR2RGB);
}

void AddGaussianNoise(cv::Mat& img, double sigma, Rng& rng) {
  CheckRgb(img, "AddGaussianNoise");
  if (sigma <= 0) return;
  for (int y = 0; y < img.rows; ++y) {
    uint8_t* p = img.ptr<uint8_t>(y);
    for (int i = 0; i < img.cols * 3; ++i) {
      const long v = std::lround(p[i] + sigma * rng.Normal());
      p[i] = static_cast<uint8_t>(std::clamp<long>(v, 0, 255));
    }
  }
}

int KernelSizeFromFraction(double fraction, int side) {
  const int k = static_cast<int>(fraction * side);
  return std::max(3, (k / 2) * 2 + 1);
}

}  // namespace synthlens
