#include "core/jobs/set_pass_internal.h"

#include <algorithm>

#include "core/util/parallel.h"

namespace synthlens::internal {

Result<SetPass> AnalyzeSource(const ImageSource& source, const Encoder* encoder, int batch,
                              const DetectOptions& pixel, const std::string& what,
                              const ProgressFn& progress,
                              const std::function<void(const SourceIssue&)>& on_issue,
                              int64_t* skipped) {
  SetPass pass;
  const int64_t n = source.size();
  std::vector<cv::Mat> embedded_blocks;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min<int64_t>(n, start + batch);
    std::vector<Result<cv::Mat>> loaded(end - start, Result<cv::Mat>::Failure("not loaded"));
    ParallelFor(end - start, [&](int64_t k) { loaded[k] = source.Load(start + k); });
    std::vector<cv::Mat> images;
    std::vector<int64_t> kept;
    for (int64_t k = 0; k < end - start; ++k) {
      if (!loaded[k].ok()) {
        ++*skipped;
        if (on_issue) on_issue(LoadIssue(source.record(start + k), loaded[k].error()));
        continue;
      }
      images.push_back(std::move(loaded[k].value()));
      kept.push_back(start + k);
    }
    std::vector<Result<PixelFeatures>> analysed = AnalyzeImages(images, pixel);
    std::vector<cv::Mat> good_images;
    for (size_t k = 0; k < analysed.size(); ++k) {
      const ImageRecord& record = source.record(kept[k]);
      if (!analysed[k].ok()) {
        ++*skipped;
        if (on_issue) on_issue(LoadIssue(record, analysed[k].error()));
        continue;
      }
      pass.indices.push_back(kept[k]);
      pass.ids.push_back(record.id);
      pass.labels.push_back(record.label);
      pass.features.push_back(std::move(analysed[k].value()));
      good_images.push_back(images[k]);
    }
    if (encoder && !good_images.empty()) {
      auto embedded = encoder->Embed(good_images);
      if (!embedded.ok()) return Result<SetPass>::Failure(what + ": " + embedded.error());
      embedded_blocks.push_back(*embedded);
    }
    if (progress && !progress(static_cast<double>(end) / static_cast<double>(n))) {
      pass.cancelled = true;
      return pass;
    }
  }
  if (encoder && !embedded_blocks.empty()) cv::vconcat(embedded_blocks, pass.embeddings);
  return pass;
}

}  // namespace synthlens::internal
