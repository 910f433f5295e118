#pragma once

#include <string>

namespace synthlens::ui::testing {

// Writes a small diffusion package (an analytic Gaussian denoiser, 8x8 grey, class- and
// embedding-conditioned) and its encoder under `root`; returns the diffusion package folder.
// Lives in its own translation unit because it needs torch headers, which Qt ones break.
std::string MakeTestDiffusionPackage(const std::string& root);

}  // namespace synthlens::ui::testing
