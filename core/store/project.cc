#include "core/store/project.h"

namespace synthlens {

const char* SetRoleName(SetRole role) {
  switch (role) {
    case SetRole::kReal:
      return "real";
    case SetRole::kSynthetic:
      return "synthetic";
    case SetRole::kAugmented:
      return "augmented";
  }
  return "unknown";
}

std::optional<SetRole> ParseSetRole(std::string_view name) {
  for (SetRole role : {SetRole::kReal, SetRole::kSynthetic, SetRole::kAugmented}) {
    if (name == SetRoleName(role)) return role;
  }
  return std::nullopt;
}

const char* ViewKindName(ViewKind kind) {
  switch (kind) {
    case ViewKind::kClassic:
      return "classic";
    case ViewKind::kGenerative:
      return "generative";
  }
  return "unknown";
}

std::optional<ViewKind> ParseViewKind(std::string_view name) {
  for (ViewKind kind : {ViewKind::kClassic, ViewKind::kGenerative}) {
    if (name == ViewKindName(kind)) return kind;
  }
  return std::nullopt;
}

bool EmbeddingSetKey::operator==(const EmbeddingSetKey& other) const {
  return source == other.source && listing_hash == other.listing_hash &&
         encoder_hash == other.encoder_hash && preprocessing == other.preprocessing &&
         compute == other.compute;
}

bool ProjectOpenOptions::Check() const { return busy_timeout_ms >= 0; }

Project::~Project() = default;

}  // namespace synthlens
