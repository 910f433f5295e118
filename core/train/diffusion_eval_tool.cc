// synthlens_diffusion_eval: checks a diffusion package against the quality bars of the bundled
// model (docs/models.md). A linear probe on an encoder's embeddings of real training images
// (RunLinearProbe, as `synthlens probe`) classifies
//   - class-conditional samples (the Generator's multipositive mode): fraction predicted as the
//     class asked for;
//   - img2img views of real test images at strengths 0.1 ... 1.0: fraction keeping the source's
//     predicted class, without a class (the source's embedding when the model takes one, else
//     the null condition) and with the source's predicted class.
// Prints one JSON object; with --out also writes sample grids (PNG).
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <filesystem>
#include <iostream>

#include "core/infer/encoder.h"
#include "core/infer/generator.h"
#include "core/io/image_source.h"
#include "core/train/linear_probe.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace {

struct Args {
  std::string model;
  std::string encoder = "pixels";
  int64_t train_limit = 10000;
  int64_t sources = 200;
  int per_class = 50;
  int steps = 20;
  double guidance = 3.0;
  double img2img_guidance = 3.0;
  double no_class_guidance = 1.0;  // 1: conditional prediction only (no CFG)
  std::vector<double> strengths = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0};
  uint64_t seed = 0;
  int batch = 64;
  int threads = 0;
  bool skip_class_img2img = false;
  std::string out;
};

template <typename T>
T Need(Result<T> r, const std::string& what) {
  if (!r.ok()) SL_THROW(what << ": " << r.error());
  return std::move(r).value();
}

std::vector<cv::Mat> LoadAll(const ImageSource& src, std::vector<int>* labels) {
  std::vector<cv::Mat> out;
  for (int64_t i = 0; i < src.size(); ++i) {
    out.push_back(Need(src.Load(i), "load"));
    labels->push_back(src.record(i).label);
  }
  return out;
}

cv::Mat Grid(const std::vector<cv::Mat>& images, int cols) {
  const int rows = (static_cast<int>(images.size()) + cols - 1) / cols;
  const int s = images.empty() ? 28 : images[0].rows;
  cv::Mat grid(rows * s, cols * s, CV_8UC3, cv::Scalar(0, 0, 0));
  for (size_t i = 0; i < images.size(); ++i) {
    images[i].copyTo(grid(cv::Rect(static_cast<int>(i % cols) * s,
                                   static_cast<int>(i / cols) * s, s, s)));
  }
  cv::Mat bgr;
  cv::cvtColor(grid, bgr, cv::COLOR_RGB2BGR);
  return bgr;
}

int Run(const Args& a) {
  SetNumThreads(a.threads);
  SetBackendThreads(a.threads);
  auto encoder = Need(Encoder::Open(a.encoder, Device{}), "encoder");
  auto generator = Need(Generator::Open(a.model, Device{}), "model");
  SourceOptions train_opt;
  train_opt.limit = a.train_limit;
  auto train_src = Need(OpenImageSource("fashion-mnist:train", train_opt), "train");
  SourceOptions test_opt;
  test_opt.limit = a.sources;
  auto test_src = Need(OpenImageSource("fashion-mnist:test", test_opt), "test");
  std::cerr << "embedding " << train_src->size() << " training images" << std::endl;
  auto train = Need(EmbedSource(*train_src, *encoder, nullptr, nullptr), "embed train");
  std::vector<int> test_labels;
  const auto test_images = LoadAll(*test_src, &test_labels);
  std::vector<std::string> test_ids;
  for (int64_t i = 0; i < test_src->size(); ++i) test_ids.push_back(test_src->record(i).id);
  const cv::Mat test_x = Need(encoder->Embed(test_images), "embed test");

  LinearProbeOptions probe_opt;
  probe_opt.seed = a.seed;
  auto classify = [&](const cv::Mat& x, std::vector<int> y) {
    return Need(RunLinearProbe(train.matrix, train.labels, x, y, probe_opt), "probe");
  };
  const auto real = classify(test_x, test_labels);
  const std::vector<int>& source_pred = real.test_predictions;
  std::cerr << "probe top-1 on " << test_x.rows << " real test images: " << real.top1
            << std::endl;

  nlohmann::json report;
  report["model"] = a.model;
  report["model_hash"] = generator->model_hash();
  report["encoder"] = a.encoder;
  report["probe"] = {{"train_images", train.matrix.rows},
                     {"weight_decay", real.weight_decay},
                     {"real_test_images", test_x.rows},
                     {"real_test_top1", real.top1}};
  report["sampler"] = {{"sampler", "ddim"}, {"eta", 0.0}, {"spacing", "trailing"},
                       {"steps", a.steps}, {"seed", a.seed}};

  // Class-conditional samples: one multipositive group per class.
  std::vector<cv::Mat> class_sources;
  std::vector<std::string> class_ids;
  std::vector<int> class_labels;
  for (int c = 0; c < 10; ++c) {
    for (size_t i = 0; i < test_labels.size(); ++i) {
      if (test_labels[i] == c) {
        class_sources.push_back(test_images[i]);
        class_ids.push_back("class:" + std::to_string(c));
        class_labels.push_back(c);
        break;
      }
    }
  }
  GenerateOptions g;
  g.mode = "multipositive";
  g.views = a.per_class;
  g.steps = a.steps;
  g.guidance = a.guidance;
  g.seed = a.seed;
  g.batch = a.batch;
  std::cerr << "sampling " << a.per_class << " images per class, guidance " << a.guidance
            << std::endl;
  auto groups = Need(generator->Generate(class_sources, class_ids, class_labels, g, nullptr),
                     "generate samples");
  std::vector<cv::Mat> samples;
  std::vector<int> sample_labels;
  for (size_t s = 0; s < groups.size(); ++s) {
    for (const auto& v : groups[s]) {
      samples.push_back(v.image);
      sample_labels.push_back(class_labels[s]);
    }
  }
  // Everything generated is classified by one probe fit at the end (rows appended in order).
  std::vector<cv::Mat> pending;
  std::vector<int> pending_labels;
  auto defer = [&](const std::vector<cv::Mat>& images, const std::vector<int>& labels) {
    const size_t start = pending.size();
    pending.insert(pending.end(), images.begin(), images.end());
    pending_labels.insert(pending_labels.end(), labels.begin(), labels.end());
    return start;
  };
  defer(samples, sample_labels);
  struct CurveRow {
    double strength;
    int conditioned;
    size_t start;
  };
  std::vector<CurveRow> rows;

  if (!a.out.empty()) {
    std::filesystem::create_directories(a.out);
    std::vector<cv::Mat> grid;
    for (size_t s = 0; s < groups.size(); ++s) {
      for (int k = 0; k < std::min<int>(10, static_cast<int>(groups[s].size())); ++k) {
        grid.push_back(groups[s][k].image);
      }
    }
    cv::imwrite(a.out + "/class_samples.png", Grid(grid, 10));
  }

  // img2img curve.
  nlohmann::json curve = nlohmann::json::array();
  std::vector<cv::Mat> strip;  // source 0..7 at each strength (no class)
  for (double s : a.strengths) {
    for (int conditioned = 0; conditioned < (a.skip_class_img2img ? 1 : 2); ++conditioned) {
      std::vector<cv::Mat> views(test_images.size());
      GenerateOptions v;
      v.mode = "img2img";
      v.views = 1;
      v.strength = s;
      v.steps = a.steps;
      v.seed = a.seed;
      v.batch = a.batch;
      if (!conditioned) {
        v.guidance = a.no_class_guidance;
        auto out = Need(generator->Generate(test_images, test_ids, test_labels, v, nullptr),
                        "img2img");
        for (size_t i = 0; i < out.size(); ++i) views[i] = out[i][0].image;
      } else {
        v.guidance = a.img2img_guidance;
        for (int c = 0; c < 10; ++c) {  // one call per predicted class
          std::vector<cv::Mat> src;
          std::vector<std::string> ids;
          std::vector<int> labels;
          std::vector<size_t> where;
          for (size_t i = 0; i < test_images.size(); ++i) {
            if (source_pred[i] != c) continue;
            src.push_back(test_images[i]);
            ids.push_back(test_ids[i]);
            labels.push_back(test_labels[i]);
            where.push_back(i);
          }
          if (src.empty()) continue;
          v.class_id = c;
          auto out = Need(generator->Generate(src, ids, labels, v, nullptr), "img2img");
          for (size_t j = 0; j < out.size(); ++j) views[where[j]] = out[j][0].image;
        }
      }
      rows.push_back({s, conditioned, defer(views, source_pred)});
      if (!conditioned) {
        for (int i = 0; i < std::min<int>(8, static_cast<int>(views.size())); ++i) {
          strip.push_back(views[i]);
        }
      }
    }
  }
  std::cerr << "classifying " << pending.size() << " generated images" << std::endl;
  const auto all = classify(Need(encoder->Embed(pending), "embed generated"), pending_labels);
  auto kept = [&](size_t start, size_t n) {
    int ok = 0;
    for (size_t i = start; i < start + n; ++i) ok += all.test_predictions[i] == pending_labels[i];
    return static_cast<double>(ok) / std::max<size_t>(1, n);
  };
  const double sample_accuracy = kept(0, samples.size());
  std::vector<int> per_class_ok(10, 0), per_class_n(10, 0);
  for (size_t i = 0; i < samples.size(); ++i) {
    per_class_n[sample_labels[i]]++;
    per_class_ok[sample_labels[i]] += all.test_predictions[i] == sample_labels[i];
  }
  nlohmann::json per_class = nlohmann::json::array();
  for (int c = 0; c < 10; ++c) {
    per_class.push_back(per_class_n[c] ? static_cast<double>(per_class_ok[c]) / per_class_n[c] : 0);
  }
  report["class_samples"] = {{"guidance", a.guidance},
                             {"per_class", a.per_class},
                             {"accuracy", sample_accuracy},
                             {"per_class_accuracy", per_class}};
  std::cerr << "class-conditional accuracy: " << sample_accuracy << std::endl;
  const bool takes_embedding = generator->manifest().diffusion.conditioning.embedding_dim > 0;
  for (double s : a.strengths) {
    nlohmann::json point = {{"strength", s}};
    for (const auto& r : rows) {
      if (r.strength != s) continue;
      const double k = kept(r.start, test_images.size());
      // Fraction of views keeping the source's predicted class.
      point[r.conditioned ? "kept_class_conditioned" : "kept_no_class"] = k;
      std::cerr << "img2img strength " << s
                << (r.conditioned ? " (class)" : (takes_embedding ? " (source embedding)" : " (null)"))
                << ": kept " << k << std::endl;
    }
    curve.push_back(point);
  }
  // Without a class, the Generator conditions img2img on the source's embedding when the model
  // takes one (guidance 1: no CFG), else on nothing (the null condition).
  report["img2img"] = {{"sources", test_images.size()},
                       {"no_class_condition", takes_embedding ? "source embedding" : "null"},
                       {"guidance_no_class", a.no_class_guidance},
                       {"guidance_class_conditioned", a.img2img_guidance},
                       {"curve", curve}};
  if (!a.out.empty()) {
    // Columns: strengths; rows: the first 8 sources (transposed layout of `strip`).
    std::vector<cv::Mat> grid;
    const int n = std::min<int>(8, static_cast<int>(test_images.size()));
    for (int i = 0; i < n; ++i) {
      grid.push_back(test_images[i]);
      for (size_t k = 0; k < a.strengths.size(); ++k) grid.push_back(strip[k * n + i]);
    }
    cv::imwrite(a.out + "/img2img_strengths.png",
                Grid(grid, static_cast<int>(a.strengths.size()) + 1));
  }
  std::cout << report.dump(2) << std::endl;
  return 0;
}

}  // namespace
}  // namespace synthlens

int main(int argc, char** argv) {
  synthlens::Args a;
  CLI::App app{"Checks a diffusion package against the bundled model's quality bars"};
  app.add_option("--model", a.model, "Diffusion package")->required();
  app.add_option("--encoder", a.encoder, "Encoder package for the linear probe, or pixels")
      ->capture_default_str();
  app.add_option("--train-limit", a.train_limit, "Training images for the probe")
      ->capture_default_str();
  app.add_option("--sources", a.sources, "Test images used as img2img sources")
      ->capture_default_str();
  app.add_option("--per-class", a.per_class, "Samples per class")->capture_default_str();
  app.add_option("--steps", a.steps, "DDIM steps (at strength 1)")->capture_default_str();
  app.add_option("--guidance", a.guidance, "CFG weight for class samples")->capture_default_str();
  app.add_option("--img2img-guidance", a.img2img_guidance, "CFG weight, class-conditioned img2img")
      ->capture_default_str();
  app.add_option("--strengths", a.strengths, "img2img strengths")->delimiter(',');
  app.add_option("--seed", a.seed, "Seed")->capture_default_str();
  app.add_option("--batch", a.batch, "Views per forward")->capture_default_str();
  app.add_option("--threads", a.threads, "Threads (0: all)")->capture_default_str();
  app.add_option("--no-class-guidance", a.no_class_guidance,
                 "CFG weight of the no-class img2img rows (source embedding vs null condition)")
      ->capture_default_str();
  app.add_flag("--skip-class-img2img", a.skip_class_img2img, "Only the no-class curve");
  app.add_option("--out", a.out, "Folder for sample grids (PNG)");
  CLI11_PARSE(app, argc, argv);
  try {
    return synthlens::Run(a);
  } catch (const std::exception& e) {
    std::cerr << "synthlens_diffusion_eval: " << e.what() << std::endl;
    return 1;
  }
}
