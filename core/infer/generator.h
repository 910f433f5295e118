#pragma once

// Generative views of source images from a diffusion model package (docs/generation.md). Public:
// no torch types; images are 8-bit RGB cv::Mat.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/infer/device.h"
#include "core/infer/model_package.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// The stream of ViewSeed used by generative views (classic views use stream 0), so a generative
// view never shares its random numbers with the classic view of the same (seed, source, index).
inline constexpr uint64_t kGenerativeSeedStream = 0x67656e;  // "gen"

// GenerateOptions::class_id for img2img/instance: condition each view on its source's label (as
// multipositive does with -1); a source without a label is an error.
inline constexpr int kClassOfSourceLabel = -2;

struct GenerateOptions {
  // img2img: SDEdit variations of the source at `strength` ("Can Generative Models Improve
  //   SSL?", Ayromlou et al.; SDEdit, Meng et al.), conditioned on the source's embedding when
  //   the model takes one (as Stable unCLIP img2img).
  // instance: new samples from pure noise conditioned on the source's embedding from the
  //   semantic encoder, class null (DiffAug, Zang et al.; ICGAN-style instance conditioning).
  // multipositive: K samples of the source's class (or class_id) from pure noise with different
  //   seeds, grouped as mutual positives (StableRep, Tian et al.).
  std::string mode = "img2img";      // img2img | instance | multipositive
  int views = 4;                     // views per source
  double strength = 0.5;             // img2img only: 0 = the source, 1 = pure sampling
  int steps = 25;                    // sampling steps at strength 1
  double guidance = 3.0;             // classifier-free guidance weight w (1 = conditional only)
  double guidance_rescale = 0.0;     // phi (Lin et al. 2023)
  double eta = 0.0;                  // DDIM eta
  std::string sampler = "ddim";      // ddim | ddpm
  std::string spacing = "trailing";  // leading | trailing
  uint64_t seed = 0;
  int batch = 16;                  // views per denoiser forward (2x that with guidance)
  std::string precision = "fp32";  // fp32 | fp16 (CUDA) | bf16
  // multipositive: the class (-1 = each source's label). img2img/instance: an extra class
  // condition (-1 = the null class, kClassOfSourceLabel = each source's label).
  int class_id = -1;
  // Clamp x0 predictions to the model's value range (pixel-space models).
  bool clip_sample = true;

  // Empty when valid, else the problem naming the option.
  std::string Validate() const;
};

struct GeneratedView {
  cv::Mat image;  // CV_8UC3 RGB at the model's resolution
  // One JSON object: mode, strength, steps, timesteps, t_start, guidance, guidance_rescale, eta,
  // sampler, spacing, precision, clip_sample, seed, view, view_seed, model, model_hash, class,
  // embedding ("source" | "null"), encoder (+ encoder_hash), and for multipositive "group".
  std::string params_json;
  int64_t view_index = 0;
};

// A diffusion model package ready to generate views on one device. Generate is const but not
// meant to run concurrently on one Generator (one batch of activations at a time).
class Generator {
 public:
  // `package`: a folder, a bundled name or "builtin" (ResolveModelPackage). `encoder_package`
  // (instance mode and embedding conditioning): default the package's
  // conditioning.embedding.encoder, looked up next to the package first, then by name. A missing
  // encoder is an error only for modes that need it. Validates the device, loads the TorchScript
  // denoiser and probes it.
  static Result<std::unique_ptr<Generator>> Open(const std::string& package, const Device& device,
                                                 const std::string& encoder_package = "");
  ~Generator();
  Generator(const Generator&) = delete;
  Generator& operator=(const Generator&) = delete;

  const ModelManifest& manifest() const;
  std::string model_hash() const;
  const Device& device() const;

  // Generates options.views views for each source (CV_8UC3 RGB, any size), batching across
  // sources and views up to options.batch; progress after each batch (false cancels: the views
  // of the finished batches are returned, so lists can be shorter than options.views). Returns
  // one list per source, in view order. View k of source id s is a pure function of (model hash,
  // options, source pixels, s, k): independent of the batch size and of the other sources.
  // Failures: invalid options, a multipositive source with label < 0 and class_id < 0, a mode
  // the model cannot do (no class / embedding conditioning, no encoder), a network error.
  // Throws synthlens::Error when the three vectors differ in size or an image is not CV_8UC3.
  Result<std::vector<std::vector<GeneratedView>>> Generate(
      const std::vector<cv::Mat>& sources_rgb, const std::vector<std::string>& source_ids,
      const std::vector<int>& labels, const GenerateOptions& options,
      const ProgressFn& progress) const;

  // The same for chosen view indices: source i gets views view_indices[i] (options.views is
  // ignored). View k of a source is the same bytes as view k from Generate. Used by the mixed
  // pipeline, where only some views of each source are generative.
  Result<std::vector<std::vector<GeneratedView>>> GenerateViews(
      const std::vector<cv::Mat>& sources_rgb, const std::vector<std::string>& source_ids,
      const std::vector<int>& labels, const std::vector<std::vector<int64_t>>& view_indices,
      const GenerateOptions& options, const ProgressFn& progress) const;

 private:
  struct Impl;
  explicit Generator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace synthlens
