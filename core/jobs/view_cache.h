#pragma once
// Generated views kept in a project so the studio shows them again without regenerating: one
// image set per (source, model, settings), named "studio:<kind>:<model>:<settings>:<SourceKey>".
// The source is part of the name, so two sources with the same image ids never share views.

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/infer/generator.h"
#include "core/store/project.h"

namespace synthlens {

// `settings`: everything that changes the views (mode, views, steps, guidance, seed, sampler, ...).
std::string ViewCacheSetName(const std::string& source_spec, const std::string& model_hash,
                             const std::string& kind, const nlohmann::json& settings);

// The cached views of one source image, in view order; empty unless exactly `expected` are there
// and all decode.
std::vector<GeneratedView> CachedViews(const Project& project, const std::string& set_name,
                                       const std::string& source_id, size_t expected);

// Replaces the cached views of one source image (one transaction for the views).
void CacheViews(Project& project, const std::string& set_name, const std::string& source_spec,
                const std::string& source_id, const std::string& model_hash,
                const std::vector<GeneratedView>& views, uint64_t seed);

}  // namespace synthlens
