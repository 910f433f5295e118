#include "core/jobs/view_cache.h"

#include "core/imaging/decode.h"
#include "core/imaging/encode.h"
#include "core/io/image_source.h"
#include "core/util/sha256.h"

namespace synthlens {

std::string ViewCacheSetName(const std::string& source_spec, const std::string& model_hash,
                             const std::string& kind, const nlohmann::json& settings) {
  return "studio:" + kind + ":" + model_hash.substr(0, 16) + ":" + Sha256Hex(settings.dump()).substr(0, 16) + ":" +
         SourceKey(source_spec);
}

std::vector<GeneratedView> CachedViews(const Project& project, const std::string& set_name,
                                       const std::string& source_id, size_t expected) {
  std::vector<GeneratedView> views;
  const auto set = project.FindImageSet(set_name);
  if (!set) return views;
  for (const ViewRecord& r : project.Views(set->id, source_id)) {
    auto image = DecodeImage(r.blob, set_name + "/" + source_id, {});
    if (!image.ok()) return {};
    GeneratedView v;
    v.image = std::move(image).value();
    v.params_json = r.params_json;
    v.view_index = r.view_index;
    views.push_back(std::move(v));
  }
  if (views.size() != expected) views.clear();
  return views;
}

void CacheViews(Project& project, const std::string& set_name, const std::string& source_spec,
                const std::string& source_id, const std::string& model_hash,
                const std::vector<GeneratedView>& views, uint64_t seed) {
  const std::string key = SourceKey(source_spec);
  const int64_t source_set = project.GetOrAddImageSet(key, key, SetRole::kReal);
  const int64_t set = project.GetOrAddImageSet(set_name, key, SetRole::kAugmented);
  std::vector<ViewRecord> records;
  for (const GeneratedView& v : views) {
    ViewRecord r;
    r.set_id = set;
    r.source_set_id = source_set;
    r.source_id = source_id;
    r.view_index = v.view_index;
    r.kind = ViewKind::kGenerative;
    r.model = model_hash;
    r.seed = seed;
    r.params_json = v.params_json;
    r.blob = EncodePng(v.image);
    records.push_back(std::move(r));
  }
  project.DeleteViews(set, source_id);
  project.AddViews(records);
}

}  // namespace synthlens
