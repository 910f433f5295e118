#pragma once
// Human-readable text of a view's params JSON (tooltips, logs): one "key: value" line per leaf in
// the JSON's order,
// nested keys joined with dots, numbers exactly as written (a 64-bit view_seed stays exact, so a
// copied seed reproduces the view), strings unquoted. Text that is not a JSON object is returned
// as is.

#include <string>

namespace synthlens {

std::string ParamsText(const std::string& params_json);

}  // namespace synthlens
