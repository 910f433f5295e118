#pragma once

#include <vector>

namespace synthlens {

// The recipes of resources/recipes/*.json, compiled in by CMake (builtin_recipes.cc.in) so the
// binaries work without the resources folder.
struct BuiltinRecipeText {
  const char* name;
  const char* json;
};
const std::vector<BuiltinRecipeText>& BuiltinRecipeTexts();

}  // namespace synthlens
