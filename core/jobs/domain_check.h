#pragma once
// Does a source fit a model package? Checked before generating or embedding, so a colour photo
// given to a 28x28 grey model, or a dataset class given to a model by its number, is said out
// loud instead of turning into grey noise or T-shirts (docs/models.md, "Domain check").

#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/infer/model_package.h"

namespace synthlens {

struct DomainCheck {
  std::vector<std::string> warnings;  // the run goes on; say them in the panel and the log
  std::string error;                  // the run cannot be meaningful (e.g. classes that do not match)
  // Source label -> model class id, by class name (uses_labels only); -1: no such model class.
  std::vector<int> class_of_label;
  bool ok() const { return error.empty(); }
};

// The model's class names: those of its training dataset (model.json training.dataset, opened as
// an image source), or empty when unknown.
std::vector<std::string> ModelClassNames(const ModelManifest& model);

// `samples`: a few decoded images of the source (RGB or grey, any size). `uses_labels`: the run
// turns source labels into model classes (multi-positive without a class, or "source label").
// Checks channels (colour images into a grey model), size (much larger or smaller than the
// model's resolution, non-square), and, with uses_labels, maps each source class to the model's
// class of the same name: never by number when names differ (an error when no name matches).
// When either side has no names, labels are class numbers, with a warning.
DomainCheck CheckDomain(const ModelManifest& model, const std::vector<std::string>& source_class_names,
                        const std::vector<cv::Mat>& samples, bool uses_labels,
                        const std::vector<std::string>& model_class_names);

// Applies DomainCheck::class_of_label to labels (-1 stays -1; a label without a model class -1).
std::vector<int> MapLabels(const DomainCheck& check, const std::vector<int>& labels);

}  // namespace synthlens
