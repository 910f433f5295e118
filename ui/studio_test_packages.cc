// No Qt header may be included here: this file includes torch headers.
#include "ui/studio_test_packages.h"

#include "core/infer/generator_test_util.h"

namespace synthlens::ui::testing {

std::string MakeTestDiffusionPackage(const std::string& root) {
  return generator_test::MakePackages(root, generator_test::FullConditioning());
}

}  // namespace synthlens::ui::testing
