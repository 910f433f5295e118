#include "core/jobs/domain_check.h"

#include <algorithm>
#include <cmath>

#include <nlohmann/json.hpp>

#include "core/io/image_source.h"

namespace synthlens {
namespace {

// Mean absolute spread between the colour channels: 0 for grey images stored as RGB.
double Chroma(const cv::Mat& image) {
  if (image.channels() < 3) return 0.0;
  cv::Mat f;
  image.convertTo(f, CV_32F);
  std::vector<cv::Mat> ch;
  cv::split(f, ch);
  cv::Mat spread = cv::abs(ch[0] - ch[1]) + cv::abs(ch[1] - ch[2]) + cv::abs(ch[0] - ch[2]);
  const double scale = image.depth() == CV_8U ? 1.0 : 255.0;
  return cv::mean(spread)[0] * scale / 3.0;
}

std::string Join(const std::vector<std::string>& names, size_t most) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < most; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > most) out += ", ...";
  return out;
}

}  // namespace

std::vector<std::string> ModelClassNames(const ModelManifest& model) {
  const auto training = nlohmann::json::parse(model.training, nullptr, false);
  if (!training.is_object() || !training.contains("dataset") || !training["dataset"].is_string()) return {};
  SourceOptions options;
  options.limit = 0;  // names only
  auto source = OpenImageSource(training["dataset"].get<std::string>(), options);
  return source.ok() ? (*source)->class_names() : std::vector<std::string>{};
}

DomainCheck CheckDomain(const ModelManifest& model, const std::vector<std::string>& source_class_names,
                        const std::vector<cv::Mat>& samples, bool uses_labels,
                        const std::vector<std::string>& model_class_names) {
  DomainCheck check;
  const int res = model.input.resolution;
  const std::string who = "model '" + model.name + "'";
  int colour = 0, large = 0, small = 0, oblong = 0;
  cv::Size example;
  for (const cv::Mat& m : samples) {
    if (m.empty()) continue;
    if (model.input.channels == 1 && Chroma(m) > 6.0) ++colour;
    const int lo = std::min(m.cols, m.rows), hi = std::max(m.cols, m.rows);
    if (res > 0 && hi > 4 * res) ++large, example = m.size();
    if (res > 0 && hi * 2 < res) ++small, example = m.size();
    if (hi > 1.25 * lo) ++oblong, example = m.size();
  }
  const std::string size = std::to_string(res) + "x" + std::to_string(res);
  if (colour > 0) {
    check.warnings.push_back("colour images: " + who + " works in grey (1 channel), so its views are grey and "
                             "it has never seen images like these");
  }
  if (large > 0) {
    check.warnings.push_back(std::to_string(example.width) + "x" + std::to_string(example.height) +
                             " images are shrunk to " + size + " for " + who + ": fine detail is lost");
  }
  if (small > 0) {
    check.warnings.push_back(std::to_string(example.width) + "x" + std::to_string(example.height) +
                             " images are enlarged to " + size + " for " + who);
  }
  if (oblong > 0) {
    check.warnings.push_back("non-square images are squashed to " + size + " for " + who);
  }
  if (!uses_labels) return check;
  const int classes = model.diffusion.conditioning.num_classes;
  if (source_class_names.empty() || model_class_names.empty()) {
    // Names missing on one side: nothing to match by, so labels are taken as class numbers, said.
    check.warnings.push_back(source_class_names.empty()
                                 ? "the source's labels have no names: they are used as " + who + "'s class numbers"
                                 : who + " does not name its classes (model.json training.dataset): the source's "
                                   "classes (" + Join(source_class_names, 4) + ") are used as its class numbers "
                                   "0, 1, ...");
    for (int c = 0; c < classes; ++c) check.class_of_label.push_back(c);
    return check;
  }
  std::vector<std::string> unmatched;
  for (const std::string& name : source_class_names) {
    const auto at = std::find(model_class_names.begin(), model_class_names.end(), name);
    const int c = at == model_class_names.end() ? -1 : static_cast<int>(at - model_class_names.begin());
    check.class_of_label.push_back(c < classes ? c : -1);
    if (check.class_of_label.back() < 0) unmatched.push_back(name);
  }
  if (unmatched.size() == source_class_names.size()) {
    check.error = "none of the source's classes (" + Join(source_class_names, 4) + ") is a class of " + who +
                  " (" + Join(model_class_names, 4) + "): its class conditioning would make the model's "
                  "classes, not yours; choose a class, or img2img without one";
  } else if (!unmatched.empty()) {
    check.warnings.push_back("classes not known to " + who + " (" + Join(unmatched, 4) +
                             "): their images cannot be conditioned on their class");
  }
  return check;
}

std::vector<int> MapLabels(const DomainCheck& check, const std::vector<int>& labels) {
  std::vector<int> out;
  out.reserve(labels.size());
  for (int l : labels) {
    out.push_back(l >= 0 && l < static_cast<int>(check.class_of_label.size()) ? check.class_of_label[l] : -1);
  }
  return out;
}

}  // namespace synthlens
