#include "core/jobs/embed_job.h"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/io/image_source.h"
#include "core/util/check.h"
#include "core/util/logging.h"
#include "core/util/sha256.h"

namespace synthlens {
namespace {

// Size and nanosecond mtime: an edited or replaced file changes the key without reading it.
std::string FileStamp(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "missing";
  return std::to_string(static_cast<long long>(st.st_size)) + ":" +
         std::to_string(static_cast<long long>(st.st_mtim.tv_sec)) + "." +
         std::to_string(static_cast<long long>(st.st_mtim.tv_nsec));
}

}  // namespace

EmbeddingSetKey EmbeddingKeyFor(const ImageSource& source, const Encoder& encoder) {
  EmbeddingSetKey key;
  key.source = SourceKey(source.spec());  // one name whatever the spelling or working folder
  // NUL separates fields: ids and reasons may contain tabs or newlines but never NUL.
  Sha256 listing;
  listing.Update(std::string_view("synthlens-listing-1\n", 20));
  for (int64_t i = 0; i < source.size(); ++i) {
    const ImageRecord& r = source.record(i);
    std::string line = r.id;
    line += '\0';
    line += std::to_string(r.label);
    line += '\0';
    if (!r.path.empty()) line += FileStamp(r.path);
    line += '\n';
    listing.Update(line);
  }
  for (const SourceIssue& issue : source.issues()) {
    std::string line = "issue";
    line += '\0';
    line += issue.file;
    line += '\0';
    line += issue.reason;
    line += '\n';
    listing.Update(line);
  }
  key.listing_hash = listing.HexDigest();
  key.encoder_hash = encoder.manifest().hash;
  key.preprocessing = encoder.PreprocessingJson();
  key.compute = std::string(encoder.device().type == Device::Type::kCuda ? "cuda" : "cpu") + " " +
                encoder.options().precision;
  return key;
}

Result<CachedEmbeddingSet> EmbedSourceCached(
    const ImageSource& source, const Encoder& encoder, Project* project,
    const ProgressFn& progress, const std::function<void(const SourceIssue&)>& on_issue) {
  using R = Result<CachedEmbeddingSet>;
  CachedEmbeddingSet result;
  if (project) {
    result.key = EmbeddingKeyFor(source, encoder);
    std::optional<EmbeddingSetRecord> cached;
    try {
      cached = project->FindEmbeddings(result.key);
    } catch (const Error& e) {
      SL_LOG_WARNING("embedding cache: " << e.what() << "; computing the embeddings instead");
    }
    if (cached && cached->dims == encoder.dim()) {
      for (const EmbeddingIssue& issue : cached->issues) {
        if (on_issue) on_issue(SourceIssue{issue.file, issue.reason});
      }
      if (progress) progress(1.0);
      result.set.matrix = cached->rows > 0 ? std::move(cached->matrix)
                                           : cv::Mat(0, encoder.dim(), CV_32F);
      result.set.ids = std::move(cached->ids);
      result.set.labels = std::move(cached->labels);
      result.set.skipped = static_cast<int64_t>(cached->issues.size());
      result.from_cache = true;
      result.seconds = cached->seconds;
      return result;
    }
  }

  // The issues are kept so a later cache hit reports the same skipped inputs.
  std::vector<EmbeddingIssue> issues;
  const auto start = std::chrono::steady_clock::now();
  auto embedded = EmbedSource(source, encoder, progress, [&](const SourceIssue& issue) {
    issues.push_back({issue.file, issue.reason});
    if (on_issue) on_issue(issue);
  });
  if (!embedded.ok()) return R::Failure(embedded.error());
  result.set = std::move(embedded).value();
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!project || result.set.cancelled) return result;

  EmbeddingSetRecord record;
  record.key = result.key;
  record.encoder_name = encoder.manifest().name;
  record.rows = result.set.matrix.rows;
  record.dims = encoder.dim();
  // Shares the matrix buffer (cv::Mat is reference-counted): no copy of N x D.
  record.matrix = result.set.matrix;
  // Lent to the record for the save and moved back: no copy of the ids either.
  record.ids = std::move(result.set.ids);
  record.labels = std::move(result.set.labels);
  record.issues = std::move(issues);
  record.seconds = result.seconds;
  try {
    project->SaveEmbeddings(record);
    result.saved = true;
  } catch (const Error& e) {
    SL_LOG_WARNING("embedding cache: " << e.what() << "; the embeddings are not cached");
  }
  result.set.ids = std::move(record.ids);
  result.set.labels = std::move(record.labels);
  return result;
}

}  // namespace synthlens
