#include "core/util/params_text.h"

#include <nlohmann/json.hpp>

namespace synthlens {
namespace {

void Lines(const nlohmann::ordered_json& value, const std::string& prefix, std::string& out) {
  if (value.is_object() && !value.empty()) {
    for (const auto& [key, child] : value.items()) Lines(child, prefix.empty() ? key : prefix + "." + key, out);
    return;
  }
  out += (out.empty() ? "" : "\n") + prefix + ": ";
  // Integers (signed or unsigned 64-bit) exact; doubles as the shortest text that reads back the
  // same; bools, null and arrays as JSON.
  out += value.is_string() ? value.get<std::string>() : value.dump();
}

}  // namespace

std::string ParamsText(const std::string& params_json) {
  const nlohmann::ordered_json parsed = nlohmann::ordered_json::parse(params_json, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded() || !parsed.is_object()) return params_json;
  std::string out;
  Lines(parsed, "", out);
  return out;
}

}  // namespace synthlens
