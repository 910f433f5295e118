#pragma once

#include <functional>

#include "core/infer/encoder.h"
#include "core/io/image_source.h"
#include "core/store/project.h"
#include "core/util/progress.h"
#include "core/util/result.h"

namespace synthlens {

// Embeddings of a source, possibly from a project's cache.
struct CachedEmbeddingSet {
  EmbeddingSet set;
  EmbeddingSetKey key;
  bool from_cache = false;  // read from the project, the encoder did not run
  bool saved = false;       // computed by this call and stored in the project
  double seconds = 0;       // time the embedding took (of the original run when from_cache)
};

// The cache key of embedding `source` with `encoder`: the source spec (existing paths made
// absolute and canonical), the SHA-256 of its ordered listing (every image's id and label, plus
// size and modification time for files, plus the issues found while opening), the encoder's
// package hash, its PreprocessingJson(), and "cpu"/"cuda" with the precision. Stats files but
// decodes nothing.
EmbeddingSetKey EmbeddingKeyFor(const ImageSource& source, const Encoder& encoder);

// EmbedSource with a project-store cache. With a project, a set stored under the same key is
// returned without running the encoder (its skipped inputs are replayed through on_issue, and
// progress gets 1.0); otherwise the source is embedded in batches and, unless cancelled, saved
// in one transaction. A cancelled run saves nothing. Memory: one batch of decoded images plus the
// N x D matrix; saving streams that matrix into the store without copying it. Cache failures
// (a busy or damaged project) are logged as warnings and the embeddings are still returned.
// Without a project this is EmbedSource.
Result<CachedEmbeddingSet> EmbedSourceCached(
    const ImageSource& source, const Encoder& encoder, Project* project,
    const ProgressFn& progress, const std::function<void(const SourceIssue&)>& on_issue);

}  // namespace synthlens
