#include "core/infer/encoder.h"

#include <cmath>
#include <cstdlib>

#include "core/infer/torch_util_internal.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace {

using internal::ShapeString;
using internal::TorchErrorMessage;

// "pixels", "pixels:64", "pixels:64:rgb" -> manifest; nullopt-like failure otherwise.
Result<ModelManifest> PixelsManifest(const std::string& spec) {
  using R = Result<ModelManifest>;
  ModelManifest m;
  m.kind = "encoder";
  m.name = spec;
  m.description = "flattened preprocessed pixels (linear-probe baseline)";
  m.input.resolution = 28;
  m.input.channels = 1;
  m.training = "{}";
  m.hash = "pixels";
  std::string rest = spec.size() > 6 ? spec.substr(7) : "";
  if (!rest.empty()) {
    const size_t colon = rest.find(':');
    const std::string res = rest.substr(0, colon);
    char* end = nullptr;
    const long value = std::strtol(res.c_str(), &end, 10);
    if (res.empty() || *end != '\0' || value < 1 || value > 1024) {
      return R::Failure("encoder '" + spec + "': expected pixels[:RES[:grey|rgb]] with RES 1..1024");
    }
    m.input.resolution = static_cast<int>(value);
    if (colon != std::string::npos) {
      const std::string mode = rest.substr(colon + 1);
      if (mode == "rgb") m.input.channels = 3;
      else if (mode != "grey" && mode != "gray") {
        return R::Failure("encoder '" + spec + "': expected pixels[:RES[:grey|rgb]]");
      }
    }
  }
  m.encoder.output_dim = m.input.resolution * m.input.resolution * m.input.channels;
  return m;
}

std::vector<cv::Mat> Preprocess(const std::vector<cv::Mat>& images, size_t begin, size_t end,
                                const ModelInput& input) {
  std::vector<cv::Mat> out(end - begin);
  ParallelFor(static_cast<int64_t>(end - begin), [&](int64_t j) {
    out[static_cast<size_t>(j)] = PreprocessImage(images[begin + static_cast<size_t>(j)], input);
  });
  return out;
}

class PixelsEncoder : public Encoder {
 public:
  PixelsEncoder(ModelManifest m, Device d, EncoderOptions o)
      : Encoder(std::move(m), d, std::move(o)) {}
  Result<cv::Mat> Embed(const std::vector<cv::Mat>& images) const override {
    cv::Mat out(static_cast<int>(images.size()), dim(), CV_32F);
    ParallelFor(static_cast<int64_t>(images.size()), [&](int64_t i) {
      const cv::Mat x = PreprocessImage(images[static_cast<size_t>(i)], manifest_.input);
      x.reshape(1, 1).copyTo(out.row(static_cast<int>(i)));
    });
    return out;
  }
};

class TorchEncoder : public Encoder {
 public:
  TorchEncoder(ModelManifest m, Device d, EncoderOptions o, torch::jit::Module module,
               c10::ScalarType dtype)
      : Encoder(std::move(m), d, std::move(o)), module_(std::move(module)), dtype_(dtype) {
    file_ = manifest_.FilePath("encoder");
  }

  // Runs one batch [B, C, H, W] (CPU float32) and checks the result; the output stays on device.
  Result<torch::Tensor> Forward(const torch::Tensor& host_batch) const {
    using R = Result<torch::Tensor>;
    const bool cuda = device_.type == Device::Type::kCuda;
    torch::Tensor x = host_batch.to(internal::ToTorchDevice(device_), /*non_blocking=*/cuda);
    if (dtype_ != c10::ScalarType::Float) x = x.to(dtype_);
    torch::jit::IValue out;
    try {
      out = module_.forward({x});
    } catch (const std::exception& e) {
      return R::Failure(file_ + ": forward on a " + ShapeString(x) + " " +
                        std::string(c10::toString(dtype_)) + " input failed: " + TorchErrorMessage(e));
    }
    if (!out.isTensor()) {
      return R::Failure(file_ + ": forward returned " + std::string(out.tagKind()) +
                        ", expected a Tensor [B, " + std::to_string(dim()) + "]");
    }
    torch::Tensor y = out.toTensor();
    if (y.dim() != 2 || y.size(0) != x.size(0) || y.size(1) != dim()) {
      return R::Failure(file_ + ": forward returned " + ShapeString(y) +
                        ", model.json declares output_dim " + std::to_string(dim()) + " (expected [" +
                        std::to_string(x.size(0)) + ", " + std::to_string(dim()) + "])");
    }
    return y;
  }

  // The load-time check: zeros of the declared input shape give finite [2, output_dim].
  std::string Probe() const {
    torch::InferenceMode guard;
    const ModelInput& in = manifest_.input;
    auto y = Forward(torch::zeros({2, in.channels, in.resolution, in.resolution}));
    if (!y.ok()) return y.error();
    if (!torch::isfinite(*y).all().item<bool>()) {
      return file_ + ": forward returned NaN or Inf on a zero probe input";
    }
    return {};
  }

  Result<cv::Mat> Embed(const std::vector<cv::Mat>& images) const override {
    using R = Result<cv::Mat>;
    cv::Mat out(static_cast<int>(images.size()), dim(), CV_32F);
    if (images.empty()) return out;
    torch::InferenceMode guard;
    const bool cuda = device_.type == Device::Type::kCuda;
    const size_t batch = static_cast<size_t>(options_.batch_size);
    // Results stay on the device until the end: no host sync per batch on CUDA.
    std::vector<torch::Tensor> outputs;
    for (size_t begin = 0; begin < images.size(); begin += batch) {
      const size_t end = std::min(images.size(), begin + batch);
      const torch::Tensor host = internal::ImagesToTensor(
          Preprocess(images, begin, end, manifest_.input), /*pin=*/cuda);
      auto y = Forward(host);
      if (!y.ok()) return R::Failure(y.error());
      outputs.push_back(*y);
    }
    const cv::Mat all = internal::TensorToMat(torch::cat(outputs, 0));
    all.copyTo(out);
    return out;
  }

 private:
  mutable torch::jit::Module module_;
  c10::ScalarType dtype_;
  std::string file_;
};

}  // namespace

std::string EncoderOptions::Validate() const {
  if (batch_size < 1 || batch_size > 65536) return "batch size must be in [1, 65536]";
  if (precision != "fp32" && precision != "fp16" && precision != "bf16") {
    return "precision '" + precision + "' is not one of fp32, fp16, bf16";
  }
  return {};
}

Encoder::Encoder(ModelManifest manifest, Device device, EncoderOptions options)
    : manifest_(std::move(manifest)), device_(device), options_(std::move(options)) {}

Encoder::~Encoder() = default;

std::string Encoder::PreprocessingDescription() const {
  return DescribePreprocessing(manifest_.input);
}

std::string Encoder::PreprocessingJson() const { return synthlens::PreprocessingJson(manifest_.input); }

Result<std::unique_ptr<Encoder>> Encoder::Open(const std::string& package, const Device& device,
                                               int batch_size) {
  EncoderOptions options;
  options.batch_size = batch_size;
  return Open(package, device, options);
}

Result<std::unique_ptr<Encoder>> Encoder::Open(const std::string& package, const Device& device,
                                               const EncoderOptions& options) {
  using R = Result<std::unique_ptr<Encoder>>;
  if (std::string problem = options.Validate(); !problem.empty()) return R::Failure(problem);
  if (std::string problem = ValidateDevice(device); !problem.empty()) return R::Failure(problem);
  if (package == "pixels" || package.rfind("pixels:", 0) == 0) {
    auto m = PixelsManifest(package);
    if (!m.ok()) return R::Failure(m.error());
    return std::unique_ptr<Encoder>(new PixelsEncoder(std::move(m).value(), device, options));
  }
  auto manifest = ReadModelPackage(package, "encoder");
  if (!manifest.ok()) return R::Failure(manifest.error());
  auto dtype = internal::ParsePrecision(options.precision, device);
  if (!dtype.ok()) return R::Failure(dtype.error());
  auto module = internal::LoadTorchScript(manifest->FilePath("encoder"), device);
  if (!module.ok()) return R::Failure(module.error());
  if (*dtype != c10::ScalarType::Float) module->to(*dtype);
  auto encoder = std::make_unique<TorchEncoder>(std::move(manifest).value(), device, options,
                                                std::move(module).value(), *dtype);
  if (std::string problem = encoder->Probe(); !problem.empty()) return R::Failure(problem);
  return std::unique_ptr<Encoder>(std::move(encoder));
}

Result<EmbeddingSet> EmbedSource(const ImageSource& source, const Encoder& encoder,
                                 const ProgressFn& progress,
                                 const std::function<void(const SourceIssue&)>& on_issue) {
  using R = Result<EmbeddingSet>;
  EmbeddingSet set;
  for (const SourceIssue& issue : source.issues()) {
    ++set.skipped;
    if (on_issue) on_issue(issue);
  }
  const int64_t total = source.size();
  const int64_t batch = encoder.options().batch_size;
  set.matrix.create(static_cast<int>(total), encoder.dim(), CV_32F);
  int rows = 0;
  for (int64_t begin = 0; begin < total; begin += batch) {
    const int64_t end = std::min(total, begin + batch);
    std::vector<Result<cv::Mat>> loaded(static_cast<size_t>(end - begin),
                                        Result<cv::Mat>::Failure("not loaded"));
    ParallelFor(end - begin, [&](int64_t j) { loaded[static_cast<size_t>(j)] = source.Load(begin + j); });
    std::vector<cv::Mat> images;
    for (int64_t i = begin; i < end; ++i) {
      auto& image = loaded[static_cast<size_t>(i - begin)];
      const ImageRecord& record = source.record(i);
      if (!image.ok()) {
        ++set.skipped;
        if (on_issue) on_issue(LoadIssue(record, image.error()));
        continue;
      }
      images.push_back(std::move(image).value());
      set.ids.push_back(record.id);
      set.labels.push_back(record.label);
    }
    loaded.clear();
    if (!images.empty()) {
      auto embedded = encoder.Embed(images);
      if (!embedded.ok()) return R::Failure(embedded.error());
      embedded->copyTo(set.matrix.rowRange(rows, rows + embedded->rows));
      rows += embedded->rows;
    }
    if (progress && !progress(static_cast<double>(end) / static_cast<double>(total))) {
      set.cancelled = end < total;
      break;
    }
  }
  set.matrix = set.matrix.rowRange(0, rows).clone();
  return set;
}

}  // namespace synthlens
