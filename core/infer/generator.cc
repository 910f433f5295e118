#include "core/infer/generator.h"

#include <cmath>
#include <filesystem>
#include <map>
#include <mutex>

#include <nlohmann/json.hpp>
#include <torch/script.h>
#include <torch/torch.h>

#include "core/infer/diffusion_sampler_internal.h"
#include "core/infer/encoder.h"
#include "core/infer/noise_schedule.h"
#include "core/infer/torch_util_internal.h"
#include "core/util/check.h"
#include "core/util/logging.h"
#include "core/util/random.h"

namespace synthlens {

namespace fs = std::filesystem;
using internal::TorchErrorMessage;

std::string GenerateOptions::Validate() const {
  if (mode != "img2img" && mode != "instance" && mode != "multipositive") {
    return "mode '" + mode + "' is not one of img2img, instance, multipositive";
  }
  if (views < 1) return "views must be >= 1";
  if (!(strength >= 0.0 && strength <= 1.0)) return "strength must be in [0, 1]";
  if (steps < 1) return "steps must be >= 1";
  if (!(std::isfinite(guidance) && guidance >= 0.0)) return "guidance must be >= 0";
  if (!(guidance_rescale >= 0.0 && guidance_rescale <= 1.0)) {
    return "guidance_rescale must be in [0, 1]";
  }
  if (!(eta >= 0.0 && eta <= 1.0)) return "eta must be in [0, 1]";
  if (sampler != "ddim" && sampler != "ddpm") {
    return "sampler '" + sampler + "' is not one of ddim, ddpm";
  }
  if (spacing != "leading" && spacing != "trailing") {
    return "spacing '" + spacing + "' is not one of leading, trailing";
  }
  if (batch < 1) return "batch must be >= 1";
  if (precision != "fp32" && precision != "fp16" && precision != "bf16") {
    return "precision '" + precision + "' is not one of fp32, fp16, bf16";
  }
  if (class_id < kClassOfSourceLabel) {
    return "class_id must be >= 0, -1 (none) or kClassOfSourceLabel (each source's label)";
  }
  return {};
}

struct Generator::Impl {
  ModelManifest manifest;
  Device device;
  torch::Device tdevice = torch::kCPU;
  NoiseSchedule schedule;
  torch::jit::Module module;  // float32
  // Copies of the module cast to fp16/bf16, made on first use.
  mutable std::mutex cast_mutex;
  mutable std::map<int, torch::jit::Module> cast_modules;
  std::unique_ptr<Encoder> encoder;
  std::string encoder_error;  // why there is no encoder, for the modes that need one

  torch::jit::Module* ModuleFor(torch::ScalarType dtype) const {
    if (dtype == torch::kFloat32) return const_cast<torch::jit::Module*>(&module);
    std::lock_guard<std::mutex> lock(cast_mutex);
    auto it = cast_modules.find(static_cast<int>(dtype));
    if (it == cast_modules.end()) {
      torch::jit::Module copy = module.clone();
      copy.to(dtype);
      copy.eval();
      it = cast_modules.emplace(static_cast<int>(dtype), std::move(copy)).first;
    }
    return &it->second;
  }
};

Generator::Generator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Generator::~Generator() = default;

const ModelManifest& Generator::manifest() const { return impl_->manifest; }
std::string Generator::model_hash() const { return impl_->manifest.hash; }
const Device& Generator::device() const { return impl_->device; }

namespace {

// A bare encoder name in a diffusion manifest is looked up next to the package first (packages
// are usually shipped side by side), then by ResolveModelPackage's search path.
std::string EncoderLocation(const ModelManifest& manifest, const std::string& name) {
  if (name.empty() || name.find('/') != std::string::npos || name == "builtin") return name;
  fs::path dir = fs::path(manifest.dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  const fs::path sibling = dir.parent_path() / name;
  std::error_code ec;
  if (fs::is_regular_file(sibling / "model.json", ec)) return sibling.string();
  return name;
}

}  // namespace

Result<std::unique_ptr<Generator>> Generator::Open(const std::string& package, const Device& device,
                                                   const std::string& encoder_package) {
  using R = Result<std::unique_ptr<Generator>>;
  if (std::string problem = ValidateDevice(device); !problem.empty()) return R::Failure(problem);
  Result<ModelManifest> manifest = ReadModelPackage(package, "diffusion");
  if (!manifest.ok()) return R::Failure(manifest.error());
  auto impl = std::make_unique<Impl>();
  impl->manifest = std::move(manifest).value();
  impl->device = device;
  impl->tdevice = internal::ToTorchDevice(device);
  const ModelManifest& m = impl->manifest;
  if (m.diffusion.space != "pixel") {
    return R::Failure(m.dir + "/model.json: diffusion.space '" + m.diffusion.space +
                      "' is not supported by the generator yet (pixel only)");
  }
  Result<NoiseSchedule> schedule = NoiseSchedule::Make(m.diffusion.schedule);
  if (!schedule.ok()) return R::Failure(m.dir + "/model.json: " + schedule.error());
  impl->schedule = std::move(schedule).value();

  const std::string file = m.FilePath("denoiser");
  Result<torch::jit::Module> module = internal::LoadTorchScript(file, device);
  if (!module.ok()) return R::Failure(module.error());
  impl->module = std::move(module).value();
  if (std::string problem = internal::ProbeDenoiser(impl->module, m, device, file);
      !problem.empty()) {
    return R::Failure(problem);
  }

  const ConditioningSpec& cond = m.diffusion.conditioning;
  if (cond.embedding_dim > 0) {
    const std::string name =
        encoder_package.empty() ? EncoderLocation(m, cond.embedding_encoder) : encoder_package;
    if (name.empty()) {
      impl->encoder_error = m.dir + "/model.json: diffusion.conditioning.embedding names no " +
                            "encoder and none was given";
    } else {
      Result<std::unique_ptr<Encoder>> encoder = Encoder::Open(name, device);
      if (!encoder.ok()) {
        impl->encoder_error = "embedding encoder: " + encoder.error();
      } else if ((*encoder)->dim() != cond.embedding_dim) {
        impl->encoder_error = "embedding encoder " + name + " gives " +
                              std::to_string((*encoder)->dim()) + "-d embeddings, " + m.dir +
                              "/model.json expects " + std::to_string(cond.embedding_dim);
      } else {
        impl->encoder = std::move(encoder).value();
      }
    }
    if (!impl->encoder) SL_LOG_WARNING(impl->encoder_error);
  }
  return std::unique_ptr<Generator>(new Generator(std::move(impl)));
}

Result<std::vector<std::vector<GeneratedView>>> Generator::Generate(
    const std::vector<cv::Mat>& sources_rgb, const std::vector<std::string>& source_ids,
    const std::vector<int>& labels, const GenerateOptions& options,
    const ProgressFn& progress) const {
  std::vector<int64_t> all(static_cast<size_t>(std::max(options.views, 0)));
  for (size_t k = 0; k < all.size(); ++k) all[k] = static_cast<int64_t>(k);
  return GenerateViews(sources_rgb, source_ids, labels,
                       std::vector<std::vector<int64_t>>(sources_rgb.size(), all), options,
                       progress);
}

Result<std::vector<std::vector<GeneratedView>>> Generator::GenerateViews(
    const std::vector<cv::Mat>& sources_rgb, const std::vector<std::string>& source_ids,
    const std::vector<int>& labels, const std::vector<std::vector<int64_t>>& view_indices,
    const GenerateOptions& options, const ProgressFn& progress) const {
  using R = Result<std::vector<std::vector<GeneratedView>>>;
  SL_CHECK(sources_rgb.size() == source_ids.size() && sources_rgb.size() == labels.size() &&
               sources_rgb.size() == view_indices.size(),
           "Generate: " << sources_rgb.size() << " images, " << source_ids.size() << " ids, "
                        << labels.size() << " labels, " << view_indices.size()
                        << " view lists");
  if (std::string problem = options.Validate(); !problem.empty()) {
    return R::Failure("generate: " + problem);
  }
  Result<c10::ScalarType> dtype = internal::ParsePrecision(options.precision, impl_->device);
  if (!dtype.ok()) return R::Failure("generate: " + dtype.error());
  std::vector<std::vector<GeneratedView>> result(sources_rgb.size());
  if (sources_rgb.empty()) return result;

  const ModelManifest& m = impl_->manifest;
  const ConditioningSpec& cond = m.diffusion.conditioning;
  const int64_t n = static_cast<int64_t>(sources_rgb.size());
  const int null_class = cond.num_classes;

  // Per-source class condition (null_class = none).
  std::vector<int64_t> classes(static_cast<size_t>(n), null_class);
  const bool class_conditioned = options.mode == "multipositive" || options.class_id >= 0 ||
                                 options.class_id == kClassOfSourceLabel;
  if (class_conditioned) {
    if (cond.num_classes <= 0) {
      return R::Failure("model " + m.name + " is not class-conditional; " +
                        (options.mode == "multipositive" ? "mode multipositive needs a class"
                                                         : "class_id cannot be used"));
    }
    for (int64_t i = 0; i < n; ++i) {
      const int c = options.class_id >= 0 ? options.class_id : labels[static_cast<size_t>(i)];
      if (c < 0) {
        return R::Failure("source '" + source_ids[static_cast<size_t>(i)] + "' has no label; " +
                          (options.mode == "multipositive"
                               ? "mode multipositive needs labelled sources or a class_id"
                               : "conditioning on the source's label needs labelled sources"));
      }
      if (c >= cond.num_classes) {
        return R::Failure("class " + std::to_string(c) + " of source '" +
                          source_ids[static_cast<size_t>(i)] + "' is out of range: model " +
                          m.name + " has " + std::to_string(cond.num_classes) + " classes");
      }
      classes[static_cast<size_t>(i)] = c;
    }
  }
  // Embedding condition: instance mode needs it; img2img uses it when available (as unCLIP).
  const bool use_embedding =
      options.mode != "multipositive" && cond.embedding_dim > 0 && impl_->encoder != nullptr;
  if (options.mode == "instance" && !use_embedding) {
    return R::Failure(cond.embedding_dim <= 0
                          ? "model " + m.name + " is not embedding-conditioned; mode instance " +
                                "needs a diffusion.conditioning.embedding"
                          : "mode instance needs the embedding encoder: " + impl_->encoder_error);
  }
  const bool conditioned = use_embedding || class_conditioned;
  const double guidance = conditioned ? options.guidance : 1.0;
  const double strength = options.mode == "img2img" ? options.strength : 1.0;

  SamplerOptions so;
  so.sampler = options.sampler;
  so.steps = options.steps;
  so.spacing = options.spacing;
  so.eta = options.eta;
  so.guidance = guidance;
  so.guidance_rescale = options.guidance_rescale;
  so.strength = strength;
  so.clip_sample = options.clip_sample;
  so.clip_min = m.input.value_range[0];
  so.clip_max = m.input.value_range[1];
  so.model_dtype = *dtype;
  const std::vector<int> timesteps =
      strength < 1.0 ? Img2ImgTimesteps(impl_->schedule.T(), so.steps, so.spacing, strength)
                     : SamplingTimesteps(impl_->schedule.T(), so.steps, so.spacing);

  try {
    c10::InferenceMode guard;
    // Model-space sources [N, C, R, R] (only the img2img path reads them).
    std::vector<cv::Mat> pre;
    pre.reserve(sources_rgb.size());
    for (const cv::Mat& rgb : sources_rgb) pre.push_back(PreprocessImage(rgb, m.input, false));
    const torch::Tensor sources = internal::ImagesToTensor(pre);

    const int64_t emb_dim = std::max(cond.embedding_dim, 1);
    torch::Tensor embeddings = torch::zeros({n, emb_dim});
    std::string encoder_name = "null", encoder_hash;
    if (use_embedding) {
      Result<cv::Mat> e = impl_->encoder->Embed(sources_rgb);
      if (!e.ok()) return R::Failure(e.error());
      cv::Mat mat = e->isContinuous() ? *e : e->clone();
      SL_CHECK(mat.type() == CV_32F && mat.rows == n && mat.cols == emb_dim,
               "encoder returned " << mat.rows << " x " << mat.cols);
      embeddings = torch::from_blob(mat.data, {n, emb_dim}, torch::kFloat32).clone();
      encoder_name = impl_->encoder->manifest().name;
      encoder_hash = impl_->encoder->manifest().hash;
    }

    const torch::jit::Module* module_ptr = impl_->ModuleFor(*dtype);
    const DenoiserFn denoiser = ModuleDenoiser(const_cast<torch::jit::Module*>(module_ptr));
    // Every requested (source, view) pair, batched across sources and views.
    std::vector<std::pair<int64_t, int64_t>> requests;
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t k : view_indices[static_cast<size_t>(i)]) {
        SL_CHECK(k >= 0, "view index " << k << " is negative");
        requests.emplace_back(i, k);
      }
    }
    const int64_t total = static_cast<int64_t>(requests.size());
    const std::vector<int64_t> chw = {m.input.channels, m.input.resolution, m.input.resolution};
    for (int64_t start = 0; start < total; start += options.batch) {
      const int64_t count = std::min<int64_t>(options.batch, total - start);
      SampleBatch batch;
      batch.chw = chw;
      std::vector<int64_t> source_index, class_ids;
      for (int64_t j = start; j < start + count; ++j) {
        const auto [i, k] = requests[static_cast<size_t>(j)];
        source_index.push_back(i);
        class_ids.push_back(classes[static_cast<size_t>(i)]);
        batch.seeds.push_back(
            ViewSeed(options.seed, source_ids[static_cast<size_t>(i)], k, kGenerativeSeedStream));
      }
      const torch::Tensor index = torch::tensor(source_index, torch::kInt64);
      if (strength < 1.0) batch.source = sources.index_select(0, index);
      batch.cond.class_id = torch::tensor(class_ids, torch::kInt64);
      batch.cond.emb = embeddings.index_select(0, index);
      batch.cond.emb_mask = torch::full({count}, use_embedding ? 1.0f : 0.0f);
      batch.uncond.class_id = torch::full({count}, static_cast<int64_t>(null_class), torch::kInt64);
      batch.uncond.emb = torch::zeros({count, emb_dim});
      batch.uncond.emb_mask = torch::zeros({count});

      const torch::Tensor x = Sample(denoiser, impl_->schedule, so, batch, impl_->tdevice);
      const std::vector<cv::Mat> images =
          internal::TensorToImages(x, m.input.value_range[0], m.input.value_range[1]);
      for (int64_t j = 0; j < count; ++j) {
        const int64_t i = source_index[static_cast<size_t>(j)];
        const int64_t k = requests[static_cast<size_t>(start + j)].second;
        nlohmann::json p = {{"mode", options.mode},
                            {"strength", strength},
                            {"steps", options.steps},
                            {"timesteps", timesteps.size()},
                            {"t_start", timesteps.empty() ? -1 : timesteps.front()},
                            {"guidance", guidance},
                            {"guidance_rescale", options.guidance_rescale},
                            {"eta", options.eta},
                            {"sampler", options.sampler},
                            {"spacing", options.spacing},
                            {"precision", options.precision},
                            {"clip_sample", options.clip_sample},
                            {"seed", options.seed},
                            {"view", k},
                            {"view_seed", batch.seeds[static_cast<size_t>(j)]},
                            {"model", m.name},
                            {"model_hash", m.hash},
                            {"class", class_ids[static_cast<size_t>(j)] == null_class
                                          ? nlohmann::json(nullptr)
                                          : nlohmann::json(class_ids[static_cast<size_t>(j)])},
                            {"embedding", use_embedding ? "source" : "null"},
                            {"encoder", encoder_name}};
        if (!encoder_hash.empty()) p["encoder_hash"] = encoder_hash;
        if (options.mode == "multipositive") p["group"] = source_ids[static_cast<size_t>(i)];
        GeneratedView view;
        view.image = images[static_cast<size_t>(j)];
        view.params_json = p.dump();
        view.view_index = k;
        result[static_cast<size_t>(i)].push_back(std::move(view));
      }
      if (progress && !progress(static_cast<double>(start + count) / total)) break;
    }
  } catch (const Error&) {
    throw;  // contract violations (bad images) stay exceptions
  } catch (const std::exception& e) {
    return R::Failure(m.FilePath("denoiser") + ": " + TorchErrorMessage(e));
  }
  return result;
}

}  // namespace synthlens
