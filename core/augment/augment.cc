#include "core/augment/augment.h"

#include <algorithm>
#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "core/augment/ops.h"
#include "core/util/check.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace {

using Json = nlohmann::json;

// The view image is shared with the caller's source until the first op writes to it.
class WorkImage {
 public:
  explicit WorkImage(const cv::Mat& source) : mat_(source) {}
  const cv::Mat& Read() const { return mat_; }
  cv::Mat& Write() {
    if (!owned_) {
      mat_ = mat_.clone();
      owned_ = true;
    }
    return mat_;
  }
  void Replace(cv::Mat mat) {
    mat_ = std::move(mat);
    owned_ = true;
  }

 private:
  cv::Mat mat_;
  bool owned_ = false;
};

void ApplyColorJitter(const OpSpec& op, Rng& rng, cv::Mat& img, Json& record) {
  // torchvision ColorJitter.get_params: randperm(4), then the four factors in fixed order.
  int order[4] = {0, 1, 2, 3};
  for (int i = 3; i > 0; --i) std::swap(order[i], order[rng.UniformInt(0, i)]);
  auto factor = [&rng](double strength) { return rng.Uniform(std::max(0.0, 1.0 - strength), 1.0 + strength); };
  const bool has[4] = {op.brightness > 0, op.contrast > 0, op.saturation > 0, op.hue > 0};
  double values[4] = {1.0, 1.0, 1.0, 0.0};
  if (has[0]) values[0] = factor(op.brightness);
  if (has[1]) values[1] = factor(op.contrast);
  if (has[2]) values[2] = factor(op.saturation);
  if (has[3]) values[3] = rng.Uniform(-op.hue, op.hue);
  static const char* const kNames[4] = {"brightness", "contrast", "saturation", "hue"};
  Json applied_order = Json::array();
  for (int k : order) {
    if (!has[k]) continue;
    applied_order.push_back(kNames[k]);
    record[kNames[k]] = values[k];
    switch (k) {
      case 0: AdjustBrightness(img, values[k]); break;
      case 1: AdjustContrast(img, values[k]); break;
      case 2: AdjustSaturation(img, values[k]); break;
      default: AdjustHue(img, values[k]); break;
    }
  }
  record["order"] = std::move(applied_order);
}

}  // namespace

AugmentedView MakeView(const Recipe& recipe, const cv::Mat& source_rgb, std::string_view source_id,
                       int64_t view_index, uint64_t seed, int out_size) {
  SL_CHECK(!source_rgb.empty() && source_rgb.type() == CV_8UC3,
           "MakeView expects a non-empty CV_8UC3 RGB image, got " << source_rgb.cols << "x" << source_rgb.rows
                                                                  << " type " << source_rgb.type());
  SL_CHECK(view_index >= 0, "view index " << view_index << " is negative");
  const std::string problem = ValidateRecipe(recipe);
  SL_CHECK(problem.empty(), "invalid recipe \"" << recipe.name << "\": " << problem);

  Rng rng(ViewSeed(seed, source_id, view_index));
  const size_t pipeline_index = static_cast<size_t>(view_index) % recipe.pipelines.size();
  const Pipeline& pipeline = recipe.pipelines[pipeline_index];

  AugmentedView view;
  WorkImage work(source_rgb);
  bool cropped = false;
  Json ops = Json::array();
  for (const OpSpec& op : pipeline) {
    Json record;
    record["op"] = OpName(op.kind);
    const bool applied = rng.Bernoulli(op.p);
    record["applied"] = applied;
    if (!applied) {
      ops.push_back(std::move(record));
      continue;
    }
    switch (op.kind) {
      case OpKind::kRandomResizedCrop: {
        const cv::Mat& img = work.Read();
        const CropRect rect = SampleResizedCrop(rng, img.cols, img.rows, op.scale, op.ratio);
        const int out_w = op.size > 0 ? op.size : (out_size > 0 ? out_size : img.cols);
        const int out_h = op.size > 0 ? op.size : (out_size > 0 ? out_size : img.rows);
        // A second crop is mapped back through the first so the box stays in source pixels.
        CropBox box{double(rect.x), double(rect.y), double(rect.w), double(rect.h)};
        if (view.crop) {
          const CropBox& prev = *view.crop;
          const double sx = prev.w / img.cols, sy = prev.h / img.rows;
          box = CropBox{prev.x + rect.x * sx, prev.y + rect.y * sy, rect.w * sx, rect.h * sy};
        }
        view.crop = box;
        record["box"] = {rect.x, rect.y, rect.w, rect.h};
        record["size"] = {out_w, out_h};
        work.Replace(ResizedCrop(img, rect, out_w, out_h, op.interpolation));
        cropped = true;
        break;
      }
      case OpKind::kHorizontalFlip: {
        cv::Mat& img = work.Write();
        cv::flip(img, img, 1);
        break;
      }
      case OpKind::kVerticalFlip: {
        cv::Mat& img = work.Write();
        cv::flip(img, img, 0);
        break;
      }
      case OpKind::kColorJitter:
        ApplyColorJitter(op, rng, work.Write(), record);
        break;
      case OpKind::kGrayscale:
        ToGrayscale(work.Write());
        break;
      case OpKind::kGaussianBlur: {
        const double sigma = rng.Uniform(op.sigma[0], op.sigma[1]);
        const cv::Mat& img = work.Read();
        const int kernel = op.kernel_fraction > 0
                               ? KernelSizeFromFraction(op.kernel_fraction, std::min(img.cols, img.rows))
                               : op.kernel_size;
        record["sigma"] = sigma;
        record["kernel_size"] = kernel;
        GaussianBlurInPlace(work.Write(), kernel, sigma);
        break;
      }
      case OpKind::kSolarize:
        record["threshold"] = op.threshold;
        Solarize(work.Write(), op.threshold);
        break;
      case OpKind::kRotation: {
        const double angle = rng.Uniform(op.degrees[0], op.degrees[1]);
        record["angle"] = angle;
        RotateImage(work.Write(), angle);
        break;
      }
      case OpKind::kRandomErasing: {
        const cv::Mat& img = work.Read();
        CropRect rect;
        if (SampleEraseRect(rng, img.cols, img.rows, op.scale, op.ratio, &rect)) {
          record["box"] = {rect.x, rect.y, rect.w, rect.h};
          if (op.erase_random) record["value"] = "random";
          else record["value"] = op.erase_value;
          EraseRect(work.Write(), rect, op.erase_value, op.erase_random, &rng);
        } else {
          record["box"] = nullptr;  // torchvision leaves the image alone after 10 failed attempts
        }
        break;
      }
      case OpKind::kJpeg: {
        const int quality = static_cast<int>(rng.UniformInt(op.quality[0], op.quality[1]));
        record["quality"] = quality;
        JpegReencode(work.Write(), quality);
        break;
      }
      case OpKind::kGaussianNoise: {
        const double sigma = rng.Uniform(op.sigma[0], op.sigma[1]);
        record["sigma"] = sigma;
        AddGaussianNoise(work.Write(), sigma, rng);
        break;
      }
    }
    ops.push_back(std::move(record));
  }

  if (!cropped && out_size > 0 && (work.Read().cols != out_size || work.Read().rows != out_size)) {
    cv::Mat resized;
    cv::resize(work.Read(), resized, cv::Size(out_size, out_size), 0, 0, cv::INTER_LINEAR);
    work.Replace(std::move(resized));
  }
  // A view never aliases the caller's source.
  view.image = work.Write();

  Json params;
  params["recipe"] = recipe.name;
  params["pipeline"] = pipeline_index;
  params["ops"] = std::move(ops);
  view.params_json = params.dump();
  return view;
}

std::vector<AugmentedView> MakeViews(const Recipe& recipe, const cv::Mat& source_rgb,
                                     std::string_view source_id, int64_t first_view, int count,
                                     uint64_t seed, int out_size) {
  SL_CHECK(count >= 0, "MakeViews count " << count << " is negative");
  std::vector<AugmentedView> views(static_cast<size_t>(count));
  ParallelFor(count, [&](int64_t i) {
    views[static_cast<size_t>(i)] = MakeView(recipe, source_rgb, source_id, first_view + i, seed, out_size);
  });
  return views;
}

}  // namespace synthlens
