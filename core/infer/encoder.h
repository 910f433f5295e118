#pragma once

#include <functional>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/infer/device.h"
#include "core/infer/model_package.h"
#include "core/io/image_source.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

struct EncoderOptions {
  int batch_size = 256;
  // fp32 | fp16 (CUDA only) | bf16: the network's compute precision; embeddings are float32.
  std::string precision = "fp32";
  // Empty when valid, else the problem naming the option.
  std::string Validate() const;
};

// An image encoder: a TorchScript encoder package (docs/model-packages.md) or the "pixels"
// pseudo-encoder (flattened preprocessed pixels, the linear-probe baseline). Thread-compatible:
// Embed is const and may be called from several threads.
class Encoder {
 public:
  // `package`: "builtin", a bundled name, a folder, or "pixels[:RES[:rgb]]" (default 28x28 grey,
  // range [0, 1], no mean/std). Validates the package, that the device exists, that the file is
  // TorchScript, and that a zero probe of the declared input shape returns finite [B, output_dim].
  static Result<std::unique_ptr<Encoder>> Open(const std::string& package, const Device& device,
                                               int batch_size = 256);
  static Result<std::unique_ptr<Encoder>> Open(const std::string& package, const Device& device,
                                               const EncoderOptions& options);
  virtual ~Encoder();

  const ModelManifest& manifest() const { return manifest_; }
  int dim() const { return manifest_.encoder.output_dim; }
  Device device() const { return device_; }
  const EncoderOptions& options() const { return options_; }
  // How images are turned into network input, in one line for people.
  std::string PreprocessingDescription() const;
  // The same as canonical JSON (PreprocessingJson in model_package.h): recorded with embeddings
  // and part of the embedding cache key.
  std::string PreprocessingJson() const;

  // Embeds 8-bit RGB images (CV_8UC3, any size): N x dim() CV_32F, row i for image i. Runs in
  // batches of options().batch_size. Fails (naming the model file) if the network throws or
  // returns the wrong shape; throws synthlens::Error for images that are not CV_8UC3.
  virtual Result<cv::Mat> Embed(const std::vector<cv::Mat>& rgb_images) const = 0;

 protected:
  Encoder(ModelManifest manifest, Device device, EncoderOptions options);
  ModelManifest manifest_;
  Device device_;
  EncoderOptions options_;
};

// Embeddings of a source, in source order, without the images that could not be read.
struct EmbeddingSet {
  cv::Mat matrix;                // N x D float32
  std::vector<std::string> ids;  // N image ids
  std::vector<int> labels;       // N labels (-1: unknown)
  int64_t skipped = 0;           // unreadable images (reported through on_issue)
  bool cancelled = false;        // progress returned false; the rows so far are kept
};

// Streams a source through an encoder in batches: only one batch of decoded images is in memory
// at a time, besides the N x D result.
// Unreadable images (and the source's own open issues) go to on_issue and are skipped; progress
// is called after every batch, and returning false stops after that batch.
Result<EmbeddingSet> EmbedSource(const ImageSource& source, const Encoder& encoder,
                                 const ProgressFn& progress,
                                 const std::function<void(const SourceIssue&)>& on_issue);

}  // namespace synthlens
