#include "core/train/simclr_trainer.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>
#include <future>
#include <numeric>
#include <sstream>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>
#include <torch/csrc/jit/runtime/graph_executor.h>

#include "core/augment/augment.h"
#include "core/augment/recipe.h"
#include "core/train/simclr_internal.h"
#include "core/util/check.h"
#include "core/util/file_util.h"
#include "core/util/logging.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {

namespace fs = std::filesystem;
using namespace train_internal;

namespace {

constexpr int kSide = 28;                 // the encoder's input side
constexpr int64_t kCheckpointVersion = 1;

// The training set in memory: grey uint8 images (any size; views are resized to 28x28).
struct GreyImages {
  std::vector<cv::Mat> images;  // CV_8UC1
  std::vector<std::string> ids;
  double mean = 0, std = 1;     // of pixels / 255, over every image
};

Result<GreyImages> LoadGreyImages(const SimclrTrainOptions& options) {
  auto source = OpenImageSource(options.input, options.source);
  if (!source.ok()) return Result<GreyImages>::Failure(source.error());
  const ImageSource& src = **source;
  const int64_t n = src.size();
  std::vector<cv::Mat> grey(static_cast<size_t>(n));
  std::vector<std::string> errors(static_cast<size_t>(n));
  ParallelFor(n, [&](int64_t i) {
    auto rgb = src.Load(i);
    if (!rgb.ok()) {
      errors[static_cast<size_t>(i)] = rgb.error();
      return;
    }
    cv::cvtColor(*rgb, grey[static_cast<size_t>(i)], cv::COLOR_RGB2GRAY);  // ITU-R 601
  });
  GreyImages out;
  double sum = 0, sum_sq = 0, count = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!errors[static_cast<size_t>(i)].empty()) {
      SL_LOG_WARNING("skipped: " << errors[static_cast<size_t>(i)]);
      continue;
    }
    const cv::Mat& g = grey[static_cast<size_t>(i)];
    for (int y = 0; y < g.rows; ++y) {
      const uint8_t* row = g.ptr<uint8_t>(y);
      for (int x = 0; x < g.cols; ++x) {
        const double v = row[x] / 255.0;
        sum += v;
        sum_sq += v * v;
      }
    }
    count += static_cast<double>(g.total());
    out.images.push_back(g);
    out.ids.push_back(src.record(i).id);
  }
  if (out.images.empty()) {
    return Result<GreyImages>::Failure(options.input + ": no readable images to train on");
  }
  out.mean = sum / count;
  out.std = std::sqrt(std::max(sum_sq / count - out.mean * out.mean, 1e-12));
  return out;
}

// The two views of a batch as one [2B, 1, 28, 28] float tensor: rows 0..B-1 are view 0 of each
// image, rows B..2B-1 view 1. View index 2 * epoch + v, so each epoch draws fresh views.
torch::Tensor MakeBatch(const GreyImages& data, const Recipe& recipe,
                        const std::vector<int64_t>& indices, int epoch, uint64_t seed) {
  const int64_t b = static_cast<int64_t>(indices.size());
  auto batch = torch::empty({2 * b, 1, kSide, kSide}, torch::kFloat32);
  float* out = batch.data_ptr<float>();
  const float mean = static_cast<float>(data.mean);
  const float inv_std = static_cast<float>(1.0 / data.std);
  ParallelFor(2 * b, [&](int64_t k) {
    const int64_t v = k / b;
    const size_t img = static_cast<size_t>(indices[static_cast<size_t>(k % b)]);
    cv::Mat rgb;
    cv::cvtColor(data.images[img], rgb, cv::COLOR_GRAY2RGB);
    const AugmentedView view =
        MakeView(recipe, rgb, data.ids[img], 2 * static_cast<int64_t>(epoch) + v, seed, kSide);
    cv::Mat grey;
    cv::cvtColor(view.image, grey, cv::COLOR_RGB2GRAY);
    if (grey.rows != kSide || grey.cols != kSide) {
      cv::resize(grey, grey, cv::Size(kSide, kSide), 0, 0, cv::INTER_LINEAR);
    }
    float* dst = out + k * kSide * kSide;
    for (int y = 0; y < kSide; ++y) {
      const uint8_t* row = grey.ptr<uint8_t>(y);
      for (int x = 0; x < kSide; ++x) {
        dst[y * kSide + x] = (static_cast<float>(row[x]) / 255.0f - mean) * inv_std;
      }
    }
  });
  return batch;
}

// The image order of one epoch: a Fisher-Yates shuffle seeded by (seed, epoch).
std::vector<int64_t> EpochOrder(int64_t n, uint64_t seed, int epoch) {
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  Rng rng(MixSeed(MixSeed(seed, 0x5349434c52ULL), static_cast<uint64_t>(epoch)));
  for (int64_t i = n - 1; i > 0; --i) {
    std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng.UniformInt(0, i))]);
  }
  return order;
}

double LearningRate(const SimclrTrainOptions& o, int64_t step, int64_t steps_per_epoch) {
  const double total = static_cast<double>(o.epochs) * static_cast<double>(steps_per_epoch);
  const double warm = std::min(o.warmup_epochs * static_cast<double>(steps_per_epoch), total);
  const double t = static_cast<double>(step);
  if (t < warm) return o.lr * (t + 1.0) / warm;
  if (total <= warm) return o.lr;
  const double progress = std::min(1.0, (t - warm) / (total - warm));
  return o.lr * 0.5 * (1.0 + std::cos(M_PI * progress));
}

// What a checkpoint holds besides the weights.
struct TrainState {
  int epoch = 0;              // epochs completed
  int64_t step_in_epoch = 0;  // steps done in the current (incomplete) epoch
  int64_t steps_done = 0;
  double epoch_loss_sum = 0;  // over the steps done in the current epoch
  double last_epoch_loss = 0;
  double seconds = 0;
  // Command lines of the runs that made this state, first the one that started training.
  std::vector<std::string> commands;
};

std::string SaveCheckpoint(const std::string& path, const SimclrTrainOptions& o, int64_t images,
                           torch::jit::Module& encoder, torch::nn::Sequential& head,
                           torch::optim::Optimizer& optimizer, const TrainState& s) {
  torch::serialize::OutputArchive archive;
  auto i64 = [](int64_t v) { return torch::tensor(v, torch::kInt64); };
  auto f64 = [](double v) { return torch::tensor(v, torch::kFloat64); };
  archive.write("version", i64(kCheckpointVersion));
  archive.write("seed", i64(static_cast<int64_t>(o.seed)));
  archive.write("batch", i64(o.batch));
  archive.write("images", i64(images));
  archive.write("epoch", i64(s.epoch));
  archive.write("step_in_epoch", i64(s.step_in_epoch));
  archive.write("steps_done", i64(s.steps_done));
  archive.write("epoch_loss_sum", f64(s.epoch_loss_sum));
  archive.write("last_epoch_loss", f64(s.last_epoch_loss));
  archive.write("seconds", f64(s.seconds));
  std::string commands;
  for (const auto& c : s.commands) commands += c + "\n";
  archive.write("commands", c10::IValue(commands));
  for (const auto& p : encoder.named_parameters()) archive.write("enc." + p.name, p.value.detach());
  for (const auto& p : head->named_parameters()) archive.write("head." + p.key(), p.value().detach());
  torch::serialize::OutputArchive opt;
  optimizer.save(opt);
  archive.write("optimizer", opt);
  std::ostringstream bytes;
  archive.save_to(bytes);
  return WriteFileAtomic(path, bytes.str());
}

// Loads a checkpoint into the model and optimizer; fails naming the file and the mismatch.
std::string LoadCheckpoint(const std::string& path, const SimclrTrainOptions& o, int64_t images,
                           torch::jit::Module& encoder, torch::nn::Sequential& head,
                           torch::optim::Optimizer& optimizer, TrainState* s) {
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    auto read_i64 = [&](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t.item<int64_t>();
    };
    auto read_f64 = [&](const char* key) {
      torch::Tensor t;
      archive.read(key, t);
      return t.item<double>();
    };
    if (read_i64("version") != kCheckpointVersion) return path + ": unsupported checkpoint version";
    auto mismatch = [&](const char* what, int64_t theirs, int64_t ours) {
      std::ostringstream m;
      m << path << ": checkpoint was made with " << what << " " << theirs << ", this run has "
        << ours << " (use the same options or another --checkpoint)";
      return m.str();
    };
    if (read_i64("seed") != static_cast<int64_t>(o.seed)) {
      return mismatch("--seed", read_i64("seed"), static_cast<int64_t>(o.seed));
    }
    if (read_i64("batch") != o.batch) return mismatch("--batch", read_i64("batch"), o.batch);
    if (read_i64("images") != images) return mismatch("images", read_i64("images"), images);
    s->epoch = static_cast<int>(read_i64("epoch"));
    s->step_in_epoch = read_i64("step_in_epoch");
    s->steps_done = read_i64("steps_done");
    s->epoch_loss_sum = read_f64("epoch_loss_sum");
    s->last_epoch_loss = read_f64("last_epoch_loss");
    s->seconds = read_f64("seconds");
    c10::IValue commands;
    if (archive.try_read("commands", commands) && commands.isString()) {
      std::istringstream lines(commands.toStringRef());
      for (std::string line; std::getline(lines, line);) {
        if (!line.empty()) s->commands.push_back(line);
      }
    }
    torch::NoGradGuard no_grad;
    for (const auto& p : encoder.named_parameters()) {
      torch::Tensor t;
      archive.read("enc." + p.name, t);
      if (t.sizes() != p.value.sizes()) return path + ": parameter " + p.name + " has another shape";
      p.value.copy_(t);
    }
    for (auto& p : head->named_parameters()) {
      torch::Tensor t;
      archive.read("head." + p.key(), t);
      if (t.sizes() != p.value().sizes()) return path + ": head parameter has another shape";
      p.value().copy_(t);
    }
    torch::serialize::InputArchive opt;
    archive.read("optimizer", opt);
    optimizer.load(opt);
  } catch (const c10::Error& e) {
    return path + ": not a readable SimCLR checkpoint (" + e.what_without_backtrace() + ")";
  }
  return "";
}

std::string UtcNow() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string WritePackage(const SimclrTrainOptions& o, const GreyImages& data,
                         torch::jit::Module& encoder, const TrainState& s) {
  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec) return o.out_dir + ": cannot create folder (" + ec.message() + ")";
  std::ostringstream module_bytes;
  encoder.save(module_bytes);
  const std::string pt_path = (fs::path(o.out_dir) / "encoder.pt").string();
  if (std::string err = WriteFileAtomic(pt_path, module_bytes.str()); !err.empty()) return err;

  const bool fmnist = o.input.rfind("fashion-mnist:", 0) == 0;
  nlohmann::ordered_json j;
  j["format"] = "synthlens-model-package";
  j["format_version"] = 1;
  j["kind"] = "encoder";
  j["name"] = fmnist ? "fmnist-simclr-encoder" : "simclr-encoder";
  j["description"] =
      "SimCLR (NT-Xent) CNN encoder trained by `synthlens train-encoder` on " + o.input +
      " with the '" + o.recipe + "' recipe; output is the 512-d representation: the last "
      "feature map average-pooled on a 2x2 grid (the projection head saw its global average).";
  j["files"] = {{"encoder", "encoder.pt"}};
  j["input"] = {{"resolution", kSide},
                {"channels", 1},
                {"resize", "bilinear"},
                {"value_range", {0.0, 1.0}},
                {"mean", {std::round(data.mean * 1e6) / 1e6}},
                {"std", {std::round(data.std * 1e6) / 1e6}}};
  j["encoder"] = {{"output_dim", kSimclrRepDim}};
  // The command that started training first; resumes and exports after it.
  std::vector<std::string> history = s.commands;
  if (!o.command_line.empty() && (history.empty() || history.back() != o.command_line)) {
    history.push_back(o.command_line);
  }
  const std::string first = history.empty() ? o.command_line : history.front();
  const std::vector<std::string> later(history.empty() ? history.end() : history.begin() + 1,
                                       history.end());
  j["training"] = {{"command", first},
                   {"later_commands", later},
                   {"method", "simclr"},
                   {"dataset", o.input},
                   {"images", static_cast<int64_t>(data.images.size())},
                   {"recipe", o.recipe},
                   {"seed", o.seed},
                   {"epochs", s.epoch},
                   {"steps", s.steps_done},
                   {"batch", o.batch},
                   {"optimizer", "adam"},
                   {"lr", o.lr},
                   {"lr_schedule", "linear warm-up then cosine"},
                   {"warmup_epochs", o.warmup_epochs},
                   {"weight_decay", o.weight_decay},
                   {"temperature", o.temperature},
                   {"final_loss", s.last_epoch_loss},
                   {"date", UtcNow()},
                   {"seconds", std::round(s.seconds * 10.0) / 10.0},
                   {"torch_version", TORCH_VERSION}};
  return WriteFileAtomic((fs::path(o.out_dir) / "model.json").string(), j.dump(2) + "\n");
}

}  // namespace

std::string SimclrTrainOptions::Validate() const {
  if (input.empty()) return "--input is required";
  if (out_dir.empty()) return "--out is required";
  if (epochs < 1) return "--epochs must be at least 1";
  if (batch < 2) return "--batch must be at least 2 (NT-Xent needs negatives)";
  if (!(lr > 0) || !std::isfinite(lr)) return "--lr must be positive";
  if (!(temperature > 0) || !std::isfinite(temperature)) return "--temperature must be positive";
  if (weight_decay < 0) return "--weight-decay must not be negative";
  if (warmup_epochs < 0) return "--warmup-epochs must not be negative";
  if (stop_after_epochs < 0) return "--stop-after-epochs must not be negative";
  if (!source.Check()) return "invalid source options (--limit)";
  return "";
}

std::string SimclrTrainOptions::CheckpointPath() const {
  if (!checkpoint.empty()) return checkpoint;
  std::string dir = out_dir;
  while (dir.size() > 1 && dir.back() == '/') dir.pop_back();
  return dir + ".ckpt";
}

Result<SimclrTrainSummary> TrainSimclrEncoder(const SimclrTrainOptions& options,
                                              const ProgressFn& progress) {
  using Fail = Result<SimclrTrainSummary>;
  if (std::string problem = options.Validate(); !problem.empty()) return Fail::Failure(problem);
  auto recipe = LoadRecipe(options.recipe);
  if (!recipe.ok()) return Fail::Failure(recipe.error());
  auto loaded = LoadGreyImages(options);
  if (!loaded.ok()) return Fail::Failure(loaded.error());
  const GreyImages& data = *loaded;
  const int64_t n = static_cast<int64_t>(data.images.size());
  const int64_t batch = std::min<int64_t>(options.batch, n);
  if (batch < 2) return Fail::Failure(options.input + ": SimCLR needs at least 2 images");
  const int64_t steps_per_epoch = n / batch;  // drops the last incomplete batch
  const int64_t total_steps = steps_per_epoch * options.epochs;
  SL_LOG_INFO("train-encoder: " << n << " images, mean " << data.mean << ", std " << data.std
                                << ", " << steps_per_epoch << " steps/epoch of " << batch);

  // The plain interpreter: the profiling executor's autodiff specialisation buys nothing for this
  // small graph and makes the first steps slow.
  torch::jit::setGraphExecutorOptimize(false);
  torch::manual_seed(options.seed);
  torch::jit::Module encoder = BuildSimclrEncoder();
  torch::nn::Sequential head = BuildProjectionHead();
  encoder.train();
  head->train();
  torch::optim::Adam optimizer(
      SimclrParameters(encoder, head),
      torch::optim::AdamOptions(options.lr).weight_decay(options.weight_decay));

  TrainState state;
  const std::string ckpt = options.CheckpointPath();
  if (options.resume) {
    if (fs::exists(ckpt)) {
      if (std::string err = LoadCheckpoint(ckpt, options, n, encoder, head, optimizer, &state);
          !err.empty()) {
        return Fail::Failure(err);
      }
      SL_LOG_INFO("train-encoder: resumed from " << ckpt << " at epoch " << state.epoch
                                                  << ", step " << state.step_in_epoch);
    } else {
      SL_LOG_INFO("train-encoder: no checkpoint at " << ckpt << ", starting from scratch");
    }
  }

  if (!options.command_line.empty()) state.commands.push_back(options.command_line);
  SimclrTrainSummary summary;
  summary.images = n;
  summary.checkpoint = ckpt;
  const int64_t run_start_step = std::min(state.steps_done, total_steps);
  const auto run_start = std::chrono::steady_clock::now();
  auto elapsed = [&]() {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
  };
  const double seconds_before = state.seconds;
  bool cancelled = false;
  const int64_t log_every = std::max<int64_t>(1, steps_per_epoch / 10);

  auto stop_here = [&] {
    return options.stop_after_epochs > 0 && state.epoch >= options.stop_after_epochs;
  };
  while (state.epoch < options.epochs && !cancelled && !stop_here()) {
    const int epoch = state.epoch;
    const std::vector<int64_t> order = EpochOrder(n, options.seed, epoch);
    auto batch_indices = [&](int64_t step) {
      return std::vector<int64_t>(order.begin() + step * batch, order.begin() + (step + 1) * batch);
    };
    // Views of the next batch are drawn on another thread while this one trains.
    std::future<torch::Tensor> next = std::async(std::launch::async, [&, s = state.step_in_epoch] {
      return MakeBatch(data, *recipe, batch_indices(s), epoch, options.seed);
    });
    const auto epoch_start = std::chrono::steady_clock::now();
    const int64_t epoch_first_step = state.step_in_epoch;
    while (state.step_in_epoch < steps_per_epoch) {
      torch::Tensor views = next.get();
      if (state.step_in_epoch + 1 < steps_per_epoch) {
        next = std::async(std::launch::async, [&, s = state.step_in_epoch + 1] {
          return MakeBatch(data, *recipe, batch_indices(s), epoch, options.seed);
        });
      }
      const double lr = LearningRate(options, state.steps_done, steps_per_epoch);
      for (auto& group : optimizer.param_groups()) {
        static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
      }
      optimizer.zero_grad();
      torch::Tensor z = head->forward(SimclrHeadInput(encoder, views));
      torch::Tensor loss = NtXentLoss(z.narrow(0, 0, batch), z.narrow(0, batch, batch),
                                      options.temperature);
      loss.backward();
      optimizer.step();
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        return Fail::Failure("training diverged (loss " + std::to_string(loss_value) +
                             " at epoch " + std::to_string(epoch + 1) +
                             "); try a lower --lr or a higher --temperature");
      }
      state.epoch_loss_sum += loss_value;
      ++state.step_in_epoch;
      ++state.steps_done;
      state.seconds = seconds_before + elapsed();
      if (state.step_in_epoch % log_every == 0 || state.step_in_epoch == steps_per_epoch) {
        const double epoch_secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
        const double per_step =
            epoch_secs / static_cast<double>(state.step_in_epoch - epoch_first_step);
        const double eta = per_step * static_cast<double>(total_steps - state.steps_done);
        SL_LOG_INFO("epoch " << epoch + 1 << "/" << options.epochs << " step "
                             << state.step_in_epoch << "/" << steps_per_epoch << " loss "
                             << state.epoch_loss_sum / static_cast<double>(state.step_in_epoch)
                             << " lr " << lr << " " << static_cast<int>(batch / per_step)
                             << " img/s, ETA " << static_cast<int>(eta / 60) << " min");
      }
      const double fraction =
          total_steps > run_start_step
              ? static_cast<double>(state.steps_done - run_start_step) /
                    static_cast<double>(total_steps - run_start_step)
              : 1.0;
      if (progress && !progress(std::min(1.0, fraction))) {
        cancelled = true;
        break;
      }
    }
    if (next.valid()) next.wait();  // never leave a worker touching `order` behind
    if (state.step_in_epoch >= steps_per_epoch) {
      state.last_epoch_loss = state.epoch_loss_sum / static_cast<double>(steps_per_epoch);
      SL_LOG_INFO("epoch " << epoch + 1 << "/" << options.epochs << " done: loss "
                           << state.last_epoch_loss << ", " << static_cast<int>(state.seconds)
                           << " s so far");
      ++state.epoch;
      state.step_in_epoch = 0;
      state.epoch_loss_sum = 0;
    }
    if (std::string err = SaveCheckpoint(ckpt, options, n, encoder, head, optimizer, state);
        !err.empty()) {
      return Fail::Failure(err);
    }
  }

  summary.epochs_done = state.epoch;
  summary.steps_done = state.steps_done;
  summary.last_epoch_loss = state.last_epoch_loss;
  summary.seconds = state.seconds;
  summary.cancelled = cancelled;
  if (cancelled) {
    SL_LOG_INFO("train-encoder: stopped; checkpoint saved to " << ckpt << " (resume with --resume)");
    return summary;
  }
  if (state.epoch < options.epochs) {  // stop_after_epochs reached
    summary.stopped = true;
    SL_LOG_INFO("train-encoder: stopped after epoch " << state.epoch << " as asked; checkpoint "
                                                      << ckpt << " (resume with --resume)");
    return summary;
  }
  if (std::string err = WritePackage(options, data, encoder, state); !err.empty()) {
    return Fail::Failure(err);
  }
  summary.package_written = true;
  return summary;
}

}  // namespace synthlens
