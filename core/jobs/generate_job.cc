#include "core/jobs/generate_job.h"

#include <algorithm>
#include <filesystem>
#include <memory>
#include <sstream>

#include "core/augment/augment.h"
#include "core/augment/recipe.h"
#include "core/imaging/encode.h"
#include "core/infer/device.h"
#include "core/jobs/augment_job.h"
#include "core/jobs/domain_check.h"
#include "core/jobs/view_job_output.h"
#include "core/util/file_util.h"
#include "core/util/logging.h"
#include "core/util/parallel.h"
#include "core/util/random.h"

namespace synthlens {
namespace fs = std::filesystem;
namespace {

// Stream of the coin that decides, in mixed mode, whether view k is generative.
constexpr uint64_t kMixStream = 0x6d6978;  // "mix"

struct OutView {
  int64_t view_index = 0;
  bool generative = false;
  cv::Mat image;
  std::string params_json;
  std::string error;
};

Recipe WithoutCrops(Recipe recipe) {
  for (Pipeline& pipeline : recipe.pipelines) {
    pipeline.erase(std::remove_if(pipeline.begin(), pipeline.end(),
                                  [](const OpSpec& op) {
                                    return op.kind == OpKind::kRandomResizedCrop;
                                  }),
                   pipeline.end());
  }
  recipe.name += "-nocrop";
  return recipe;
}

}  // namespace

std::string GenerateJobOptions::Validate() const {
  if (input.empty()) return "--input is required";
  if (out_dir.empty()) return "--out is required";
  if (limit < -1 || limit == 0) return "--limit must be a positive number";
  const std::string& mode = generate.mode;
  if (mode != "img2img" && mode != "instance" && mode != "multipositive" && mode != "mixed") {
    return "--mode must be img2img, instance, multipositive or mixed";
  }
  if (mode == "mixed") {
    if (!(mix_probability >= 0.0 && mix_probability <= 1.0)) return "--mix-p must be in [0, 1]";
    if (mixed_mode == "mixed") return "the generative mode inside mixed cannot be mixed";
  }
  GenerateOptions check = generate;
  if (mode == "mixed") check.mode = mixed_mode;
  if (std::string problem = check.Validate(); !problem.empty()) return problem;
  if (auto d = Device::Parse(device); !d.ok()) return "--device: " + d.error();
  return {};
}

Result<JobSummary> RunGenerateJob(const GenerateJobOptions& options, const ProgressFn& progress,
                                  const IssueFn& on_issue) {
  using R = Result<JobSummary>;
  if (const std::string problem = options.Validate(); !problem.empty()) return R::Failure(problem);
  const Device device = Device::Parse(options.device).value();
  if (std::string error = ValidateDevice(device); !error.empty()) return R::Failure(error);

  const bool mixed = options.generate.mode == "mixed";
  GenerateOptions gen = options.generate;
  if (mixed) gen.mode = options.mixed_mode;
  Recipe recipe, recipe_nocrop;
  if (mixed) {
    auto loaded = LoadRecipe(options.recipe);
    if (!loaded.ok()) return R::Failure(loaded.error());
    recipe = std::move(loaded).value();
    recipe_nocrop = WithoutCrops(recipe);
  }

  auto generator = Generator::Open(options.model, device, options.encoder);
  if (!generator.ok()) return R::Failure(generator.error());

  // Does the source fit the model? Checked on its first images before anything is written; source
  // classes reach the model by name, never by number (domain_check.h).
  const bool uses_labels = gen.class_id == kClassOfSourceLabel || (gen.mode == "multipositive" && gen.class_id == -1);
  DomainCheck domain;
  {
    SourceOptions first = options.source;
    first.limit = options.limit >= 0 ? std::min<int64_t>(options.limit, 8) : 8;
    auto peek = OpenImageSource(options.input, first);
    if (peek.ok()) {
      std::vector<cv::Mat> samples;
      for (int64_t i = 0; i < (*peek)->size(); ++i) {
        auto image = (*peek)->Load(i);
        if (image.ok()) samples.push_back(*image);
      }
      domain = CheckDomain((*generator)->manifest(), (*peek)->class_names(), samples, uses_labels,
                           uses_labels ? ModelClassNames((*generator)->manifest()) : std::vector<std::string>{});
      if (!domain.ok()) return R::Failure(options.input + ": " + domain.error);
      for (const std::string& w : domain.warnings) SL_LOG_WARNING(options.input << ": " << w);
    }  // else ViewJobOutput::Open below reports the source's problem
  }

  const std::string model_hash = (*generator)->model_hash();
  const std::string model_name = (*generator)->manifest().name;
  auto output = ViewJobOutput::Open(
      options.input, options.source, options.limit, options.out_dir, options.project_path,
      "generate:" + options.generate.mode + ":" + model_name + ":" + SourceKey(options.input));
  if (!output.ok()) return R::Failure(output.error());
  const ImageSource* source = &(*output)->source();
  JobSummary summary;
  (*output)->ReportSourceIssues(summary, on_issue);

  const int views = gen.views;
  const int64_t total = source->size();
  const int64_t per_batch = std::max<int64_t>(1, gen.batch / std::max(1, views));
  for (int64_t begin = 0; begin < total && !summary.cancelled; begin += per_batch) {
    const int64_t end = std::min(total, begin + per_batch);
    const int64_t count = end - begin;
    std::vector<Result<cv::Mat>> loaded(static_cast<size_t>(count),
                                        Result<cv::Mat>::Failure("not loaded"));
    ParallelFor(count, [&](int64_t j) { loaded[static_cast<size_t>(j)] = source->Load(begin + j); });

    std::vector<cv::Mat> images;
    std::vector<std::string> ids;
    std::vector<int> labels;
    std::vector<int64_t> rows;
    for (int64_t j = 0; j < count; ++j) {
      const ImageRecord& record = source->record(begin + j);
      if (!loaded[static_cast<size_t>(j)].ok()) {
        ++summary.skipped;
        if (on_issue) {
          on_issue(LoadIssue(record, loaded[static_cast<size_t>(j)].error()));
        }
        continue;
      }
      images.push_back(loaded[static_cast<size_t>(j)].value());
      ids.push_back(record.id);
      labels.push_back(record.label);
      rows.push_back(begin + j);
    }
    if (images.empty()) continue;

    // Which views are generative: all of them, or (mixed) each with probability p.
    std::vector<std::vector<int64_t>> generative(images.size());
    std::vector<std::vector<int64_t>> classic(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
      for (int k = 0; k < views; ++k) {
        bool is_generative = true;
        if (mixed) {
          Rng coin(ViewSeed(gen.seed, ids[i], k, kMixStream));
          is_generative = coin.Bernoulli(options.mix_probability);
        }
        (is_generative ? generative : classic)[i].push_back(k);
      }
    }
    const double done_before = static_cast<double>(begin) / static_cast<double>(total);
    const double share = static_cast<double>(count) / static_cast<double>(total);
    bool cancelled = false;
    auto generated = (*generator)->GenerateViews(
        images, ids, uses_labels ? MapLabels(domain, labels) : labels, generative, gen, [&](double f) {
          if (progress && !progress(done_before + f * share * 0.95)) {
            cancelled = true;
            return false;
          }
          return true;
        });
    if (!generated.ok()) return R::Failure(generated.error());

    // Assemble each source's views in view order; mixed views get the crop-less recipe.
    std::vector<std::vector<OutView>> out(images.size());
    for (size_t i = 0; i < images.size(); ++i) {
      for (GeneratedView& g : (*generated)[i]) {
        OutView v;
        v.view_index = g.view_index;
        v.generative = true;
        v.image = std::move(g.image);
        v.params_json = std::move(g.params_json);
        out[i].push_back(std::move(v));
      }
      if (!cancelled) {
        for (int64_t k : classic[i]) {
          OutView v;
          v.view_index = k;
          out[i].push_back(std::move(v));
        }
      }
      std::sort(out[i].begin(), out[i].end(),
                [](const OutView& a, const OutView& b) { return a.view_index < b.view_index; });
    }
    // Classic parts and PNG writes in parallel over sources.
    ParallelFor(static_cast<int64_t>(images.size()), [&](int64_t i) {
      for (OutView& v : out[static_cast<size_t>(i)]) {
        if (mixed && v.generative) {
          AugmentedView a = MakeView(recipe_nocrop, v.image, ids[i], v.view_index, gen.seed, 0);
          v.image = std::move(a.image);
          v.params_json = "{\"generative\":" + v.params_json + ",\"classic\":" + a.params_json + "}";
        } else if (!v.generative) {
          AugmentedView a = MakeView(recipe, images[i], ids[i], v.view_index, gen.seed,
                                     (*generator)->manifest().input.resolution);
          v.image = std::move(a.image);
          v.params_json = std::move(a.params_json);
        }
        v.error = WritePng((fs::path(options.out_dir) / ViewFileName(ids[i], v.view_index)).string(),
                           v.image);
      }
    });

    std::string lines;
    std::vector<ViewRecord> records;
    for (size_t i = 0; i < images.size(); ++i) {
      bool ok = true;
      for (const OutView& v : out[i]) {
        if (!v.error.empty()) {
          ok = false;
          if (on_issue) on_issue(SourceIssue{options.out_dir, v.error});
        }
      }
      if (!ok) {
        ++summary.skipped;
        continue;
      }
      if (out[i].empty()) continue;
      ++summary.images;
      for (const OutView& v : out[i]) {
        const std::string file = ViewFileName(ids[i], v.view_index);
        std::ostringstream line;
        line << "{\"file\":\"" << JsonEscape(file) << "\",\"source\":\"" << JsonEscape(ids[i])
             << "\",\"view\":" << v.view_index << ",\"kind\":\""
             << (v.generative ? "generative" : "classic") << "\",\"model\":\""
             << (v.generative ? model_hash : "") << "\",\"model_name\":\""
             << JsonEscape(v.generative ? model_name : "") << "\",\"mode\":\""
             << options.generate.mode << "\",\"recipe\":\""
             << JsonEscape(mixed ? recipe.name : "") << "\",\"seed\":" << gen.seed
             << ",\"label\":" << labels[i] << ClassNameField(source->class_names(), labels[i])
             << ",\"width\":" << v.image.cols
             << ",\"height\":" << v.image.rows << ",\"params\":" << v.params_json << "}\n";
        lines += line.str();
        ++summary.views_written;
        if ((*output)->has_project()) {
          ViewRecord r;
          r.source_id = ids[i];
          r.view_index = v.view_index;
          r.kind = v.generative ? ViewKind::kGenerative : ViewKind::kClassic;
          r.model = v.generative ? model_hash : "";
          r.recipe = mixed ? recipe.name : "";
          r.seed = gen.seed;
          r.params_json = v.params_json;
          r.output_path = (fs::path(options.out_dir) / file).string();
          records.push_back(std::move(r));
        }
      }
    }
    if (std::string error = (*output)->Commit(lines, std::move(records)); !error.empty()) {
      return R::Failure(error);
    }
    if (cancelled || (progress && !progress(static_cast<double>(end) / total))) {
      summary.cancelled = true;
    }
  }
  return summary;
}

}  // namespace synthlens
