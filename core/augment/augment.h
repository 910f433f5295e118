#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <opencv2/core.hpp>

#include "core/augment/recipe.h"

namespace synthlens {

// A crop window in source pixel coordinates.
struct CropBox {
  double x = 0, y = 0, w = 0, h = 0;
};

struct AugmentedView {
  cv::Mat image;  // CV_8UC3, RGB
  // Every drawn parameter as a JSON object: {"recipe", "pipeline", "ops": [{"op", "applied", ...}]}
  // with crop boxes, jitter factors and their order, sigma, angle, quality, ...
  std::string params_json;
  std::optional<CropBox> crop;  // the random_resized_crop window, if the recipe has one
};

// One view of source_rgb (CV_8UC3, RGB). A pure function of (recipe, source id, view index, seed):
// draws come from Rng(ViewSeed(seed, source_id, view_index)), so bytes never depend on threads or
// order. View k uses recipe.pipelines[k % size]. out_size > 0: crops resize to out_size x out_size
// (unless the op has its own size) and a recipe without a crop is resized to it at the end;
// out_size <= 0 keeps the source size. Throws synthlens::Error on an invalid recipe or image.
AugmentedView MakeView(const Recipe& recipe, const cv::Mat& source_rgb, std::string_view source_id,
                       int64_t view_index, uint64_t seed, int out_size);

// Views first_view .. first_view + count - 1 of one image, made in parallel (ParallelFor); the
// same bytes as calling MakeView for each.
std::vector<AugmentedView> MakeViews(const Recipe& recipe, const cv::Mat& source_rgb,
                                     std::string_view source_id, int64_t first_view, int count,
                                     uint64_t seed, int out_size);

}  // namespace synthlens
