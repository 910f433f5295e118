#include "core/jobs/augment_job.h"

#include <filesystem>
#include <memory>
#include <sstream>

#include "core/augment/augment.h"
#include "core/augment/recipe.h"
#include "core/imaging/encode.h"
#include "core/jobs/view_job_output.h"
#include "core/util/file_util.h"
#include "core/util/parallel.h"

namespace synthlens {
namespace fs = std::filesystem;
namespace {

struct PendingView {
  std::string file;  // relative to out_dir
  std::string params_json;
  int width = 0;
  int height = 0;
};

struct PendingImage {
  bool ok = false;
  std::string error;
  std::vector<PendingView> views;
};

}  // namespace

std::string ViewFileName(const std::string& source_id, int64_t view_index) {
  std::string name;
  name.reserve(source_id.size() + 12);
  const size_t last_slash = source_id.rfind('/');
  const size_t stem_start = last_slash == std::string::npos ? 0 : last_slash + 1;
  for (size_t i = 0; i < source_id.size(); ++i) {
    const char c = source_id[i];
    if (c == ':' || c == '\\' || (c == '.' && i >= stem_start)) {
      name += '_';
    } else {
      name += c;
    }
  }
  // Defuse "..": ids come from paths inside SRC, but a CSV could name "../x.png".
  std::string safe;
  std::stringstream parts(name);
  std::string part;
  while (std::getline(parts, part, '/')) {
    if (part.empty() || part == "." || part == "..") part = "_";
    if (!safe.empty()) safe += '/';
    safe += part;
  }
  return safe + "_v" + std::to_string(view_index) + ".png";
}

std::string AugmentJobOptions::Validate() const {
  if (input.empty()) return "--input is required";
  if (out_dir.empty()) return "--out is required";
  if (views < 1 || views > 10000) return "--views must be between 1 and 10000";
  if (size < 0 || size > 8192) return "--size must be between 1 and 8192";
  if (limit < -1 || limit == 0) return "--limit must be a positive number";
  if (batch_size < 1) return "batch size must be positive";
  return {};
}

Result<JobSummary> RunAugmentJob(const AugmentJobOptions& options, const ProgressFn& progress,
                                        const IssueFn& on_issue) {
  using R = Result<JobSummary>;
  if (const std::string problem = options.Validate(); !problem.empty()) return R::Failure(problem);

  auto recipe = LoadRecipe(options.recipe);
  if (!recipe.ok()) return R::Failure(recipe.error());

  auto output = ViewJobOutput::Open(options.input, options.source, options.limit, options.out_dir,
                                    options.project_path,
                                    "augment:" + recipe->name + ":" + SourceKey(options.input));
  if (!output.ok()) return R::Failure(output.error());
  const ImageSource* source = &(*output)->source();
  JobSummary summary;
  (*output)->ReportSourceIssues(summary, on_issue);

  const int64_t total = source->size();
  const std::string recipe_name = JsonEscape(recipe->name);
  for (int64_t begin = 0; begin < total; begin += options.batch_size) {
    const int64_t end = std::min(total, begin + options.batch_size);
    std::vector<PendingImage> batch(static_cast<size_t>(end - begin));
    ParallelFor(end - begin, [&](int64_t j) {
      const int64_t i = begin + j;
      PendingImage& pending = batch[static_cast<size_t>(j)];
      const ImageRecord& record = source->record(i);
      auto image = source->Load(i);
      if (!image.ok()) {
        pending.error = image.error();
        return;
      }
      for (int k = 0; k < options.views; ++k) {
        AugmentedView view = MakeView(*recipe, *image, record.id, k, options.seed, options.size);
        PendingView out;
        out.file = ViewFileName(record.id, k);
        out.params_json = std::move(view.params_json);
        out.width = view.image.cols;
        out.height = view.image.rows;
        const std::string error =
            WritePng((fs::path(options.out_dir) / out.file).string(), view.image);
        if (!error.empty()) {
          pending.error = error;
          return;
        }
        pending.views.push_back(std::move(out));
      }
      pending.ok = true;
    });

    // Manifest lines and store records in source order, one transaction per batch.
    std::string lines;
    std::vector<ViewRecord> records;
    for (size_t j = 0; j < batch.size(); ++j) {
      const ImageRecord& record = source->record(begin + static_cast<int64_t>(j));
      PendingImage& pending = batch[j];
      if (!pending.ok) {
        ++summary.skipped;
        if (on_issue) on_issue(LoadIssue(record, pending.error));
        continue;
      }
      ++summary.images;
      for (size_t k = 0; k < pending.views.size(); ++k) {
        const PendingView& view = pending.views[k];
        std::ostringstream line;
        line << "{\"file\":\"" << JsonEscape(view.file) << "\",\"source\":\""
             << JsonEscape(record.id) << "\",\"view\":" << k
             << ",\"kind\":\"classic\",\"recipe\":\"" << recipe_name << "\",\"seed\":"
             << options.seed << ",\"label\":" << record.label
             << ClassNameField(source->class_names(), record.label) << ",\"width\":" << view.width
             << ",\"height\":" << view.height << ",\"params\":" << view.params_json << "}\n";
        lines += line.str();
        if ((*output)->has_project()) {
          ViewRecord r;
          r.source_id = record.id;
          r.view_index = static_cast<int64_t>(k);
          r.kind = ViewKind::kClassic;
          r.recipe = recipe->name;
          r.seed = options.seed;
          r.params_json = view.params_json;
          r.output_path = (fs::path(options.out_dir) / view.file).string();
          records.push_back(std::move(r));
        }
      }
      summary.views_written += static_cast<int64_t>(pending.views.size());
    }
    if (std::string error = (*output)->Commit(lines, std::move(records)); !error.empty()) {
      return R::Failure(error);
    }
    if (progress && !progress(static_cast<double>(end) / static_cast<double>(total))) {
      summary.cancelled = true;
      break;
    }
  }
  return summary;
}

}  // namespace synthlens
