#pragma once
// Shared by the figure builders (figure_data.cc: views, embeddings, metrics, sweep;
// figure_data_review.cc: detectors, bias, labels). Not a public header.

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/jobs/figure_data.h"

namespace synthlens::figure_internal {

// Colour indices of FigureData (see ui/figures PaletteColour): 0..99 point kinds (Okabe-Ito: real,
// synthetic, classic, generative, ...), 100.. classes, 200.. views.
inline constexpr int kRealColour = 0, kSyntheticColour = 1;
inline int ClassColour(int label) { return 100 + (label < 0 ? 0 : label); }

std::string ClassName(const std::vector<std::string>& names, int label);
std::string Num(double v, int precision = 3);

Result<FigureData> BuildDetectors(const nlohmann::json& params, const ProgressFn& progress);
Result<FigureData> BuildBias(const nlohmann::json& params, const ProgressFn& progress);
Result<FigureData> BuildLabels(const nlohmann::json& params, const ProgressFn& progress);

}  // namespace synthlens::figure_internal
