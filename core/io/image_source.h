#pragma once

#include <cstdint>
#include <memory>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

#include "core/imaging/decode.h"
#include "core/util/result.h"

namespace synthlens {

struct ImageRecord {
  std::string id;    // path relative to SRC ('/' separators), or "split:index" for IDX images
  int label = -1;    // index into class_names() (or the raw IDX/CSV integer label); -1: unknown
  std::string path;  // file to decode; empty for IDX images
};

// Something skipped while opening a source (an unreadable folder, a bad CSV row, ...).
struct SourceIssue {
  std::string file;
  std::string reason;
};

// The issue of an image that failed to load: its file (or id for IDX images) and the error,
// without the "FILE: " prefix the decoders already put in front, so a report names it once.
SourceIssue LoadIssue(const ImageRecord& record, const std::string& error);

struct SourceOptions {
  int64_t limit = -1;  // keep the first N images in stable order; -1: all
  DecodeOptions decode;
  // Folder with the Fashion-MNIST IDX files; empty: DefaultFashionMnistDir().
  std::string fashion_mnist_dir;
  bool Check() const;
};

// A read-only, indexable set of images (a folder, an IDX pair, a CSV manifest). Opening lists the
// images without decoding them; Load(i) decodes one and may fail for that image alone.
class ImageSource {
 public:
  virtual ~ImageSource();
  virtual const std::string& spec() const = 0;
  virtual int64_t size() const = 0;
  virtual const ImageRecord& record(int64_t i) const = 0;
  // label -> name; may be empty (unlabelled sources, integer labels).
  virtual const std::vector<std::string>& class_names() const = 0;
  // Decodes image i to CV_8UC3 RGB. Thread-safe. Failures name the file and the reason.
  virtual Result<cv::Mat> Load(int64_t i) const = 0;
  // Entries skipped while opening.
  const std::vector<SourceIssue>& issues() const { return issues_; }

 protected:
  std::vector<SourceIssue> issues_;
};

// Opens SRC (see docs CLI.md): a folder (ImageFolder layout), "fashion-mnist:train|test",
// "mnist:train|test", "idx:IMAGES_FILE[,LABELS_FILE]", or a .csv manifest with columns
// path[,label]. Fails for a missing SRC, unreadable/invalid IDX data or a source with no images.
Result<std::unique_ptr<ImageSource>> OpenImageSource(const std::string& spec,
                                                     const SourceOptions& options = {});

// The one name of a source in a project (image sets, the embedding cache, hand labels): the
// same images give the same key whatever the working folder or spelling. A folder or .csv file is
// its absolute path without "." / ".." / symlinks ("data/imgs/" and "./data/imgs" agree); an IDX
// pair "idx:IMAGES[,LABELS]" has both paths so; named datasets ("fashion-mnist:test") and specs
// that name nothing on disk are kept as written.
std::string SourceKey(const std::string& spec);

// $SYNTHLENS_FASHION_MNIST if set, else /usr/share/datasets/fashion-mnist (Debian's
// dataset-fashion-mnist package).
std::string DefaultFashionMnistDir();

// $SYNTHLENS_MNIST if set, else /usr/share/datasets/mnist.
std::string DefaultMnistDir();

}  // namespace synthlens
