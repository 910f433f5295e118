#include "core/train/diffusion_trainer.h"

#include <ATen/CPUGeneratorImpl.h>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <regex>
#include <opencv2/imgproc.hpp>
#include <sstream>

#include "core/infer/model_package.h"
#include "core/io/npy.h"
#include "core/train/diffusion_trainer_internal.h"
#include "core/train/diffusion_unet_internal.h"
#include "core/util/check.h"
#include "core/util/file_util.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace fs = std::filesystem;

std::string DiffusionTrainOptions::Validate() const {
  if (input.empty()) return "--input is required";
  if (out_dir.empty()) return "--out is required";
  if (steps < 0) return "--steps must be >= 0";
  if (epochs < 0) return "--epochs must be >= 0";
  if (batch < 1 || batch > 65536) return "--batch must be in [1, 65536]";
  if (!(lr > 0 && lr < 1)) return "--lr must be in (0, 1)";
  if (!(weight_decay >= 0)) return "--weight-decay must be >= 0";
  if (warmup_steps < 0) return "--warmup must be >= 0";
  if (!(ema_decay >= 0 && ema_decay < 1)) return "--ema must be in [0, 1)";
  if (!(class_drop >= 0 && class_drop <= 1)) return "--cond-drop must be in [0, 1]";
  if (!(emb_drop >= 0 && emb_drop <= 1)) return "--emb-drop must be in [0, 1]";
  if (!(checkpoint_minutes >= 0)) return "--checkpoint-minutes must be >= 0";
  if (checkpoint_steps < 0) return "--checkpoint-steps must be >= 0";
  if (log_every < 1) return "--log-every must be >= 1";
  if (std::string problem = model.Validate(); !problem.empty()) return "model: " + problem;
  return {};
}

std::string DiffusionTrainOptions::CheckpointPath() const {
  return checkpoint.empty() ? (fs::path(out_dir) / "checkpoint.pt").string() : checkpoint;
}

namespace internal {

torch::Tensor AlphasCumprod(const NoiseSchedule& schedule) {
  return torch::tensor(schedule.alphas_cumprod, torch::kFloat64);
}

torch::Tensor QSample(const torch::Tensor& x0, const torch::Tensor& t, const torch::Tensor& noise,
                      const torch::Tensor& alphas_cumprod) {
  const auto abar = alphas_cumprod.index_select(0, t).view({-1, 1, 1, 1});
  return (abar.sqrt() * x0.to(torch::kFloat64) + (1.0 - abar).sqrt() * noise.to(torch::kFloat64))
      .to(torch::kFloat32);
}

torch::Tensor DiffusionLoss(torch::jit::Module& model, const torch::Tensor& x0,
                            const torch::Tensor& t, const torch::Tensor& noise,
                            const torch::Tensor& class_id, const torch::Tensor& emb,
                            const torch::Tensor& emb_mask, const torch::Tensor& alphas_cumprod) {
  const auto xt = QSample(x0, t, noise, alphas_cumprod);
  const auto pred = model.forward({xt, t, class_id, emb, emb_mask}).toTensor();
  return torch::mse_loss(pred, noise);
}

Result<torch::Tensor> ReadNpyMatrix(const std::string& path) {
  std::vector<int64_t> shape;
  auto m = ReadNpy(path, &shape);
  if (!m.ok()) return Result<torch::Tensor>::Failure(m.error());
  if (shape.size() != 2) return Result<torch::Tensor>::Failure(path + ": not a 2-D array");
  cv::Mat f;
  m->convertTo(f, CV_32F);
  if (!f.isContinuous()) f = f.clone();
  return torch::from_blob(f.data, {f.rows, f.cols}, torch::kFloat32).clone();
}

}  // namespace internal

namespace {

using Clock = std::chrono::steady_clock;

// Images of the source as float [-1, 1] grey, their labels (-1 unknown) and source indices.
struct TrainData {
  torch::Tensor images;  // [N, C, R, R] float32
  torch::Tensor labels;  // [N] int64, null class where unknown
  std::vector<int64_t> source_index;
  torch::Tensor emb;     // [N, E] or undefined
};

Result<TrainData> LoadData(const DiffusionTrainOptions& o,
                           const std::function<void(const std::string&)>& log) {
  auto source = OpenImageSource(o.input, o.source);
  if (!source.ok()) return Result<TrainData>::Failure(source.error());
  const auto& src = **source;
  for (const auto& issue : src.issues()) log("skipped: " + issue.file + ": " + issue.reason);
  const int64_t n = src.size();
  const int r = o.model.resolution, c = o.model.in_channels;
  auto images = torch::empty({n, c, r, r}, torch::kFloat32);
  std::vector<char> ok(static_cast<size_t>(n), 0);
  std::vector<std::string> errors(static_cast<size_t>(n));
  float* dst = images.data_ptr<float>();
  ModelInput input;
  input.resolution = r;
  input.channels = c;
  input.resize = "bilinear";
  input.value_range[0] = -1.0;
  input.value_range[1] = 1.0;
  ParallelFor(n, [&](int64_t i) {
    auto img = src.Load(i);
    if (!img.ok()) {
      errors[i] = img.error();
      return;
    }
    // The package's own preprocessing (grey, Pillow resize, [-1, 1]): the model trains on exactly
    // what the Generator will feed it.
    const cv::Mat f = PreprocessImage(*img, input);
    float* out = dst + i * c * r * r;
    for (int y = 0; y < r; ++y) {
      const float* row = f.ptr<float>(y);
      for (int x = 0; x < r; ++x) {
        for (int ch = 0; ch < c; ++ch) out[(ch * r + y) * r + x] = row[x * c + ch];
      }
    }
    ok[i] = 1;
  });
  TrainData d;
  std::vector<int64_t> labels;
  for (int64_t i = 0; i < n; ++i) {
    if (!ok[i]) {
      log("skipped: " + errors[i]);
      continue;
    }
    d.source_index.push_back(i);
    const int label = src.record(i).label;
    labels.push_back(label >= 0 && label < o.model.num_classes ? label : o.model.num_classes);
  }
  if (d.source_index.empty()) return Result<TrainData>::Failure(o.input + ": no readable images");
  const auto index = torch::tensor(d.source_index, torch::kInt64);
  d.images = static_cast<int64_t>(d.source_index.size()) == n ? images
                                                             : images.index_select(0, index);
  d.labels = torch::tensor(labels, torch::kInt64);
  if (!o.embeddings.empty()) {
    auto emb = internal::ReadNpyMatrix(o.embeddings);
    if (!emb.ok()) return Result<TrainData>::Failure(emb.error());
    if (emb->size(0) < n) {
      return Result<TrainData>::Failure(o.embeddings + ": " + std::to_string(emb->size(0)) +
                                        " rows for " + std::to_string(n) + " images of " +
                                        o.input);
    }
    if (emb->size(1) < 1) return Result<TrainData>::Failure(o.embeddings + ": no columns");
    d.emb = emb->narrow(0, 0, n).index_select(0, index).contiguous();
  }
  return d;
}

std::string FormatDuration(double s) {
  const int64_t total = static_cast<int64_t>(std::max(0.0, s));
  std::ostringstream out;
  if (total >= 3600) out << total / 3600 << "h";
  if (total >= 60) out << std::setw(total >= 3600 ? 2 : 1) << std::setfill('0') << (total / 60) % 60 << "m";
  out << std::setw(total >= 60 ? 2 : 1) << std::setfill('0') << total % 60 << "s";
  return out.str();
}

// Everything a resumed run needs to continue exactly where the checkpoint left off.
struct TrainState {
  torch::jit::Module model;
  torch::jit::Module ema;
  std::vector<torch::Tensor> params;
  std::vector<std::string> names;
  std::vector<torch::Tensor> ema_params;
  std::unique_ptr<torch::optim::AdamW> opt;
  int64_t step = 0;
  double elapsed = 0.0;
  double recent_loss = 0.0;
};

// What must match between a checkpoint and the run resuming it.
std::string RunIdentity(const DiffusionTrainOptions& o) {
  std::ostringstream s;
  s << "model=" << o.model.ToString() << ";batch=" << o.batch << ";seed=" << o.seed
    << ";class_drop=" << o.class_drop << ";emb_drop=" << o.emb_drop;
  return s.str();
}

// RunIdentity without the embedding width ("-e<dim>" of the UNet string).
std::string WithoutEmbeddingWidth(const std::string& identity) {
  return std::regex_replace(identity, std::regex("-e[0-9]+;"), ";");
}

bool IsEmbeddingProjection(const std::string& name) { return name.rfind("emb_proj_", 0) == 0; }

std::string SaveCheckpoint(const DiffusionTrainOptions& o, const TrainState& s,
                           const std::string& path) {
  try {
    torch::serialize::OutputArchive archive;
    archive.write("identity", c10::IValue(RunIdentity(o)));
    archive.write("step", c10::IValue(s.step));
    archive.write("elapsed", c10::IValue(s.elapsed));
    archive.write("recent_loss", c10::IValue(s.recent_loss));
    archive.write("embedding_conditioned", c10::IValue(!o.embeddings.empty()));
    torch::serialize::OutputArchive model_ar, ema_ar, opt_ar;
    for (size_t i = 0; i < s.params.size(); ++i) {
      model_ar.write(s.names[i], s.params[i]);
      ema_ar.write(s.names[i], s.ema_params[i]);
    }
    s.opt->save(opt_ar);
    archive.write("model", model_ar);
    archive.write("ema", ema_ar);
    archive.write("optimizer", opt_ar);
    std::ostringstream bytes;
    archive.save_to(bytes);
    return WriteFileAtomic(path, bytes.str());
  } catch (const std::exception& e) {
    return path + ": cannot write checkpoint: " + e.what();
  }
}

std::string LoadCheckpoint(const DiffusionTrainOptions& o, TrainState& s, const std::string& path,
                           const std::function<void(const std::string&)>& log) {
  if (!fs::exists(path)) return path + ": no checkpoint to resume from";
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    c10::IValue v;
    archive.read("embedding_conditioned", v);
    const bool ckpt_emb = v.toBool();
    // Fine-tuning a checkpoint trained without embeddings: its embedding projection is unused
    // (zero), so the embedding width may differ; everything else must match.
    const bool fine_tune = !ckpt_emb && !o.embeddings.empty();
    archive.read("identity", v);
    if (fine_tune ? WithoutEmbeddingWidth(v.toStringRef()) != WithoutEmbeddingWidth(RunIdentity(o))
                  : v.toStringRef() != RunIdentity(o)) {
      return path + ": checkpoint was made by a different run (" + v.toStringRef() +
             "), this run is (" + RunIdentity(o) + ")";
    }
    archive.read("step", v);
    s.step = v.toInt();
    archive.read("elapsed", v);
    s.elapsed = v.toDouble();
    archive.read("recent_loss", v);
    s.recent_loss = v.toDouble();
    if (ckpt_emb != !o.embeddings.empty()) {
      log(std::string("note: the checkpoint was trained ") + (ckpt_emb ? "with" : "without") +
          " embedding conditioning, this run is " + (o.embeddings.empty() ? "without" : "with") +
          " it (fine-tuning)");
    }
    torch::serialize::InputArchive model_ar, ema_ar, opt_ar;
    archive.read("model", model_ar);
    archive.read("ema", ema_ar);
    archive.read("optimizer", opt_ar);
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < s.params.size(); ++i) {
      torch::Tensor p, e;
      model_ar.read(s.names[i], p);
      ema_ar.read(s.names[i], e);
      if (fine_tune && IsEmbeddingProjection(s.names[i])) continue;  // zeroed below
      if (!p.sizes().equals(s.params[i].sizes()) || !e.sizes().equals(s.params[i].sizes())) {
        return path + ": parameter " + s.names[i] + " has the wrong shape";
      }
      s.params[i].copy_(p);
      s.ema_params[i].copy_(e);
    }
    s.opt->load(opt_ar);
    if (fine_tune) {
      // The projection never saw emb_mask = 1 (its weights are the untrained init): start the
      // embedding fine-tune from zero so the model begins exactly as the class-conditional one,
      // with fresh AdamW moments (the saved ones may have another width).
      for (size_t i = 0; i < s.params.size(); ++i) {
        if (IsEmbeddingProjection(s.names[i])) {
          s.params[i].zero_();
          s.ema_params[i].zero_();
          s.opt->state().erase(c10::guts::to_string(s.params[i].unsafeGetTensorImpl()));
        }
      }
    }
  } catch (const std::exception& e) {
    return path + ": cannot read checkpoint: " + e.what();
  }
  return {};
}

std::string WritePackage(const DiffusionTrainOptions& o, const TrainState& s,
                         const NoiseSchedule& schedule, int64_t total_steps, bool complete,
                         int64_t images, int64_t num_params) {
  try {
    // The package's denoiser: the EMA weights in a module whose forward ignores emb/emb_mask
    // unless the model was trained with embedding conditioning (docs/model-packages.md).
    const bool has_emb = !o.embeddings.empty();
    torch::jit::Module out = internal::BuildDiffusionUNet(o.model, 0, has_emb);
    {
      torch::NoGradGuard no_grad;
      auto src = s.ema.named_parameters();
      std::map<std::string, torch::Tensor> by_name;
      for (const auto& p : src) by_name[p.name] = p.value;
      for (const auto& p : out.named_parameters()) {
        p.value.set_requires_grad(false);
        p.value.copy_(by_name.at(p.name));
      }
    }
    std::ostringstream bytes;
    out.save(bytes);
    const std::string denoiser = (fs::path(o.out_dir) / "denoiser.pt").string();
    if (std::string err = WriteFileAtomic(denoiser, bytes.str()); !err.empty()) return err;
  } catch (const std::exception& e) {
    return o.out_dir + "/denoiser.pt: cannot save: " + e.what();
  }
  using nlohmann::json;
  json conditioning = {{"class", {{"num_classes", o.model.num_classes}}}};
  if (!o.embeddings.empty()) {
    json emb = {{"dim", o.model.emb_dim}};
    if (!o.encoder_name.empty()) emb["encoder"] = o.encoder_name;
    conditioning["embedding"] = emb;
  }
  const auto& sp = schedule.spec;
  json manifest = {
      {"format", "synthlens-model-package"},
      {"format_version", 1},
      {"kind", "diffusion"},
      {"name", fs::path(o.out_dir).filename().string()},
      {"description",
       "Class-" + std::string(o.embeddings.empty() ? "" : " and embedding-") +
           "conditioned pixel-space DDPM (eps prediction) for 28x28 grey images, trained by "
           "synthlens train-diffusion"},
      {"files", {{"denoiser", "denoiser.pt"}}},
      {"input",
       {{"resolution", o.model.resolution},
        {"channels", o.model.in_channels},
        {"resize", "bilinear"},
        {"value_range", {-1.0, 1.0}}}},
      {"diffusion",
       {{"space", "pixel"},
        {"schedule",
         {{"beta_schedule", sp.beta_schedule},
          {"beta_start", sp.beta_start},
          {"beta_end", sp.beta_end},
          {"num_train_timesteps", sp.num_train_timesteps},
          {"prediction_type", sp.prediction_type}}},
        {"conditioning", conditioning}}},
      {"training",
       {{"command", o.command_line},
        {"dataset", o.input},
        {"images", images},
        {"seed", o.seed},
        {"steps", s.step},
        {"planned_steps", total_steps},
        {"complete", complete},
        {"batch", o.batch},
        {"lr", o.lr},
        {"ema_decay", o.ema_decay},
        {"class_drop", o.class_drop},
        {"emb_drop", o.emb_drop},
        {"embedding_conditioning", !o.embeddings.empty()},
        {"final_loss", s.recent_loss},
        {"seconds", std::round(s.elapsed)},
        {"unet", o.model.ToString()},
        {"parameters", num_params}}}};
  if (!o.encoder_name.empty()) manifest["training"]["encoder"] = o.encoder_name;
  // The encoder's package hash (model.json + files, docs/model-packages.md); the manifest schema
  // has no hash field under conditioning.embedding, so it is provenance here.
  if (!o.encoder_hash.empty()) manifest["training"]["encoder_hash"] = o.encoder_hash;
  if (o.embeddings.empty()) {
    manifest["training"]["note"] =
        "trained without embedding conditioning (emb_mask = 0 throughout); the denoiser takes "
        "emb/emb_mask and ignores them";
  }
  return WriteFileAtomic((fs::path(o.out_dir) / "model.json").string(), manifest.dump(2) + "\n");
}

}  // namespace

Result<DiffusionTrainSummary> RunDiffusionTraining(
    const DiffusionTrainOptions& options, const ProgressFn& progress,
    const std::function<void(const std::string&)>& log_fn) {
  SL_CHECK(options.Validate().empty(), "bad diffusion training options: " << options.Validate());
  DiffusionTrainOptions o = options;  // the embedding width follows the embeddings given
  auto log = [&](const std::string& line) {
    if (log_fn) log_fn(line);
  };
  using R = Result<DiffusionTrainSummary>;
  // The profiling executor's graph rewrites cost more than they save for this small CPU model.
  torch::jit::GraphOptimizerEnabledGuard no_graph_opt(false);
  auto schedule = NoiseSchedule::Make(NoiseScheduleSpec{});
  if (!schedule.ok()) return R::Failure(schedule.error());
  const auto alphas = internal::AlphasCumprod(*schedule);
  const int T = schedule->T();

  auto data_or = LoadData(o, log);
  if (!data_or.ok()) return R::Failure(data_or.error());
  TrainData& data = *data_or;
  if (data.emb.defined()) o.model.emb_dim = static_cast<int>(data.emb.size(1));
  const int64_t n = data.images.size(0);
  const bool has_emb = data.emb.defined();
  const int64_t batch = std::min<int64_t>(o.batch, n);
  const int64_t steps_per_epoch = std::max<int64_t>(1, n / batch);
  const int64_t total_steps =
      o.steps > 0 ? o.steps : steps_per_epoch * (o.epochs > 0 ? o.epochs : 20);

  TrainState s;
  s.model = internal::BuildDiffusionUNet(o.model, MixSeed(o.seed, 0x756e6574));
  s.ema = s.model.clone();
  for (const auto& p : s.model.named_parameters()) {
    s.names.push_back(p.name);
    s.params.push_back(p.value);
  }
  for (const auto& p : s.ema.named_parameters()) {
    p.value.set_requires_grad(false);
    s.ema_params.push_back(p.value);
  }
  SL_CHECK(s.ema_params.size() == s.params.size(), "EMA copy has a different parameter count");
  s.opt = std::make_unique<torch::optim::AdamW>(
      s.params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weight_decay));
  const int64_t num_params = internal::CountParameters(s.model);

  const std::string ckpt = o.CheckpointPath();
  if (o.resume) {
    if (std::string err = LoadCheckpoint(o, s, ckpt, log); !err.empty()) return R::Failure(err);
    log("resumed from " + ckpt + " at step " + std::to_string(s.step));
  } else if (fs::exists(ckpt)) {
    log("note: " + ckpt + " exists and will be overwritten (use --resume to continue it)");
  }
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  // Resuming with --steps at or below the checkpoint's step re-exports the package only.
  const int64_t planned_steps = std::max(total_steps, s.step);

  DiffusionTrainSummary summary;
  summary.images = n;
  summary.start_step = s.step;
  summary.total_steps = std::max(total_steps, s.step);
  summary.parameters = num_params;
  summary.embedding_conditioned = has_emb;
  summary.checkpoint_path = ckpt;
  summary.denoiser_path = (fs::path(o.out_dir) / "denoiser.pt").string();
  log("train-diffusion: " + std::to_string(n) + " images, " + std::to_string(num_params) +
      " parameters (" + o.model.ToString() + "), batch " + std::to_string(batch) + ", steps " +
      std::to_string(s.step) + " -> " + std::to_string(total_steps) + ", embedding conditioning " +
      (has_emb ? "on" : "off"));

  auto save_all = [&](bool complete) -> std::string {
    if (std::string err = SaveCheckpoint(o, s, ckpt); !err.empty()) return err;
    return WritePackage(o, s, *schedule, planned_steps, complete, n, num_params);
  };

  // The batch order: one seeded permutation per epoch, so step k's batch depends only on
  // (seed, k) and a resumed run sees exactly the batches an uninterrupted one would.
  int64_t perm_epoch = -1;
  std::vector<int64_t> perm(static_cast<size_t>(n));
  auto batch_indices = [&](int64_t step) {
    const int64_t epoch = step / steps_per_epoch;
    if (epoch != perm_epoch) {
      std::iota(perm.begin(), perm.end(), 0);
      Rng rng(MixSeed(o.seed, 0x7065726d00000000ULL + static_cast<uint64_t>(epoch)));
      for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[rng.UniformInt(0, i)]);
      perm_epoch = epoch;
    }
    const int64_t start = (step % steps_per_epoch) * batch;
    return torch::tensor(std::vector<int64_t>(perm.begin() + start, perm.begin() + start + batch),
                         torch::kInt64);
  };

  std::deque<double> recent;
  double window_loss = 0.0;
  int64_t window_steps = 0;
  auto window_start = Clock::now();
  auto last_ckpt = Clock::now();
  auto run_start = Clock::now();
  const double elapsed_before = s.elapsed;
  const int64_t first_step = s.step;
  while (s.step < total_steps) {
    if (progress && !progress(static_cast<double>(s.step) / total_steps)) {
      summary.cancelled = true;
      break;
    }
    const auto idx = batch_indices(s.step);
    const auto x0 = data.images.index_select(0, idx);
    auto gen = at::detail::createCPUGenerator(MixSeed(o.seed, 0x73746570ULL << 32 ^
                                                                  static_cast<uint64_t>(s.step)));
    const auto t = torch::randint(0, T, {batch}, gen, torch::kInt64);
    const auto noise = torch::randn(x0.sizes(), gen, torch::kFloat32);
    const auto drop_class = torch::rand({batch}, gen) < o.class_drop;
    const auto keep_emb = torch::rand({batch}, gen) >= o.emb_drop;
    const auto labels = data.labels.index_select(0, idx);
    const auto class_id = torch::where(drop_class, torch::full_like(labels, o.model.num_classes),
                                       labels);
    torch::Tensor emb, emb_mask;
    if (has_emb) {
      emb = data.emb.index_select(0, idx);
      emb_mask = keep_emb.to(torch::kFloat32);
    } else {
      emb = torch::zeros({batch, o.model.emb_dim});
      emb_mask = torch::zeros({batch});
    }
    const double lr =
        o.warmup_steps > 0 ? o.lr * std::min(1.0, (s.step + 1.0) / o.warmup_steps) : o.lr;
    for (auto& group : s.opt->param_groups()) group.options().set_lr(lr);

    s.opt->zero_grad();
    auto loss = internal::DiffusionLoss(s.model, x0, t, noise, class_id, emb, emb_mask, alphas);
    loss.backward();
    if (o.grad_clip > 0) torch::nn::utils::clip_grad_norm_(s.params, o.grad_clip);
    s.opt->step();
    {
      torch::NoGradGuard no_grad;
      // Short runs use a smaller decay (as in diffusers' EMAModel warmup).
      const double d = std::min(o.ema_decay, (1.0 + s.step) / (10.0 + s.step));
      for (size_t i = 0; i < s.params.size(); ++i) {
        s.ema_params[i].mul_(d).add_(s.params[i].detach(), 1.0 - d);
      }
    }
    const double l = loss.item<double>();
    if (!std::isfinite(l)) {
      return R::Failure("loss became " + std::to_string(l) + " at step " +
                        std::to_string(s.step) + "; try a lower --lr");
    }
    ++s.step;
    recent.push_back(l);
    if (recent.size() > 500) recent.pop_front();
    s.recent_loss = std::accumulate(recent.begin(), recent.end(), 0.0) / recent.size();
    window_loss += l;
    ++window_steps;
    s.elapsed = elapsed_before + std::chrono::duration<double>(Clock::now() - run_start).count();

    if (s.step % o.log_every == 0 || s.step == total_steps) {
      const double secs = std::chrono::duration<double>(Clock::now() - window_start).count();
      const double its = window_steps / std::max(1e-9, secs);
      std::ostringstream line;
      line << "step " << s.step << "/" << total_steps << "  loss " << std::fixed
           << std::setprecision(4) << window_loss / window_steps << " (last " << recent.size()
           << ": " << s.recent_loss << ")  lr " << std::scientific << std::setprecision(2) << lr
           << std::fixed << std::setprecision(2) << "  " << its << " it/s  elapsed "
           << FormatDuration(s.elapsed) << "  ETA " << FormatDuration((total_steps - s.step) / its);
      log(line.str());
      window_loss = 0.0;
      window_steps = 0;
      window_start = Clock::now();
    }
    const bool by_time = o.checkpoint_minutes > 0 &&
                         std::chrono::duration<double>(Clock::now() - last_ckpt).count() >=
                             o.checkpoint_minutes * 60.0;
    const bool by_steps = o.checkpoint_steps > 0 && s.step % o.checkpoint_steps == 0;
    if ((by_time || by_steps) && s.step < total_steps) {
      if (std::string err = save_all(false); !err.empty()) return R::Failure(err);
      log("checkpoint: step " + std::to_string(s.step) + " -> " + ckpt);
      last_ckpt = Clock::now();
    }
  }
  if (progress && !summary.cancelled) progress(1.0);
  if (std::string err = save_all(s.step >= total_steps); !err.empty()) return R::Failure(err);
  if (summary.cancelled) log("cancelled: checkpoint at step " + std::to_string(s.step) + " -> " + ckpt);
  summary.steps_done = s.step;
  summary.final_loss = s.recent_loss;
  summary.seconds = s.elapsed;
  (void)first_step;
  return summary;
}

}  // namespace synthlens
