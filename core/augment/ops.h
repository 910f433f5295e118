#pragma once

// Deterministic image operations behind the classic SSL augmentations. Each takes already-drawn
// parameters (the random draws live in augment.cc), works on CV_8UC3 RGB images in place where it
// can, and follows torchvision 0.14's uint8 tensor semantics (see ops_test.cc for the tolerances).

#include <array>
#include <cstdint>

#include <opencv2/core.hpp>

namespace synthlens {

class Rng;

enum class Interpolation { kBilinear, kBicubic, kNearest };

// An integer crop window inside a width x height image.
struct CropRect {
  int x = 0, y = 0, w = 0, h = 0;
};

// torchvision RandomResizedCrop.get_params: 10 attempts of (area fraction in scale, log-uniform
// aspect ratio in ratio), then the central-crop fallback. Python's round() is half-to-even.
CropRect SampleResizedCrop(Rng& rng, int width, int height, const std::array<double, 2>& scale,
                           const std::array<double, 2>& ratio);

// torchvision RandomErasing.get_params: 10 attempts, the erased box strictly smaller than the image;
// returns false (nothing to erase) when every attempt fails.
bool SampleEraseRect(Rng& rng, int width, int height, const std::array<double, 2>& scale,
                     const std::array<double, 2>& ratio, CropRect* rect);

// Crops rect out of src and resizes it to out_w x out_h (no copy of the crop itself).
cv::Mat ResizedCrop(const cv::Mat& src, const CropRect& rect, int out_w, int out_h,
                    Interpolation interpolation);

// out = trunc(clamp(factor * in)) (torchvision adjust_brightness).
void AdjustBrightness(cv::Mat& img, double factor);
// Blends with the mean of the uint8 grayscale image (torchvision adjust_contrast).
void AdjustContrast(cv::Mat& img, double factor);
// Blends each pixel with its grayscale value in fixed point (torchvision adjust_saturation).
void AdjustSaturation(cv::Mat& img, double factor);
// Rotates hue by factor (in turns, [-0.5, 0.5]) keeping HSV value and saturation (adjust_hue).
void AdjustHue(cv::Mat& img, double factor);
// torchvision rgb_to_grayscale with 3 output channels: trunc(0.2989 r + 0.587 g + 0.114 b).
void ToGrayscale(cv::Mat& img);
// Pixels >= threshold are inverted (torchvision solarize).
void Solarize(cv::Mat& img, int threshold);
// Gaussian blur with an odd kernel and reflect-101 borders, on uint8 (OpenCV's fixed-point path).
// Taps beyond 4 sigma are dropped: they weigh < 1e-4 of the kernel, far below one grey level.
void GaussianBlurInPlace(cv::Mat& img, int kernel_size, double sigma);
// Rotates counter-clockwise by degrees about the image centre, nearest neighbour, black fill
// (torchvision RandomRotation defaults: expand=False, fill=0).
void RotateImage(cv::Mat& img, double degrees);
// Fills rect with value, or with uniform random bytes drawn from rng when random_fill.
void EraseRect(cv::Mat& img, const CropRect& rect, int value, bool random_fill, Rng* rng);
// Re-encodes as JPEG at quality (1..100) and decodes again; keeps RGB order.
void JpegReencode(cv::Mat& img, int quality);
// Adds N(0, sigma^2) noise (sigma in grey levels) per channel value, rounded and clamped.
void AddGaussianNoise(cv::Mat& img, double sigma, Rng& rng);

// SimCLR's blur kernel: int(fraction * side) made odd (radius*2+1), at least 3.
int KernelSizeFromFraction(double fraction, int side);

}  // namespace synthlens
