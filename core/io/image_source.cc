#include "core/io/image_source.h"

#include <sys/stat.h>
#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <opencv2/imgproc.hpp>
#include <set>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "core/util/check.h"
#include "core/util/file_util.h"
#include "core/util/logging.h"

namespace synthlens {
namespace fs = std::filesystem;
namespace {

template <typename T>
Result<T> Fail(std::string message) {
  return Result<T>::Failure(std::move(message));
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

bool StartsWith(const std::string& text, const std::string& prefix) {
  return text.compare(0, prefix.size(), prefix) == 0;
}

std::string Trim(const std::string& text) {
  const size_t begin = text.find_first_not_of(" \t");
  if (begin == std::string::npos) return {};
  return text.substr(begin, text.find_last_not_of(" \t") - begin + 1);
}

// ---- File-backed sources (folder, CSV) ----

// The bookkeeping every source shares: its spec, records and class names. Subclasses decode.
class ListedSource : public ImageSource {
 public:
  ListedSource(std::string spec, std::vector<ImageRecord> records,
               std::vector<std::string> class_names, std::vector<SourceIssue> issues)
      : spec_(std::move(spec)),
        records_(std::move(records)),
        class_names_(std::move(class_names)) {
    issues_ = std::move(issues);
  }
  const std::string& spec() const override { return spec_; }
  int64_t size() const override { return static_cast<int64_t>(records_.size()); }
  const ImageRecord& record(int64_t i) const override {
    SL_CHECK(i >= 0 && i < size(), "image index " << i << " out of range [0, " << size() << ")");
    return records_[static_cast<size_t>(i)];
  }
  const std::vector<std::string>& class_names() const override { return class_names_; }

 private:
  std::string spec_;
  std::vector<ImageRecord> records_;
  std::vector<std::string> class_names_;
};

class FileListSource : public ListedSource {
 public:
  FileListSource(std::string spec, std::vector<ImageRecord> records,
                 std::vector<std::string> class_names, std::vector<SourceIssue> issues,
                 DecodeOptions decode)
      : ListedSource(std::move(spec), std::move(records), std::move(class_names),
                     std::move(issues)),
        decode_(decode) {}
  Result<cv::Mat> Load(int64_t i) const override {
    return DecodeImageFile(record(i).path, decode_);
  }

 private:
  DecodeOptions decode_;
};

bool HasImageExtension(const fs::path& path) {
  static const std::set<std::string> kExtensions = {".png", ".jpg", ".jpeg", ".webp",
                                                    ".bmp", ".tif", ".tiff"};
  return kExtensions.count(Lower(path.extension().string())) > 0;
}

struct FolderWalk {
  std::vector<std::vector<std::string>> files;  // path components relative to the root
  std::vector<SourceIssue> issues;
  std::vector<std::pair<dev_t, ino_t>> ancestors;  // folders on the current path (loop check)
};

void Walk(const fs::path& dir, std::vector<std::string>& rel, FolderWalk& walk) {
  std::error_code ec;
  fs::directory_iterator it(dir, ec);
  if (ec) {
    walk.issues.push_back({dir.string(), "cannot read folder (" + ec.message() + ")"});
    return;
  }
  for (; it != fs::directory_iterator(); it.increment(ec)) {
    if (ec) {
      walk.issues.push_back({dir.string(), "cannot list folder (" + ec.message() + ")"});
      break;
    }
    const fs::path& path = it->path();
    const std::string name = path.filename().string();
    if (name.empty() || name[0] == '.') continue;  // hidden files, .ipynb_checkpoints, ...
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) {
      walk.issues.push_back({path.string(), std::string("cannot read (") + std::strerror(errno) +
                                                (it->is_symlink() ? ", broken link)" : ")")});
      continue;
    }
    rel.push_back(name);
    if (S_ISDIR(st.st_mode)) {
      const std::pair<dev_t, ino_t> key(st.st_dev, st.st_ino);
      if (std::find(walk.ancestors.begin(), walk.ancestors.end(), key) != walk.ancestors.end()) {
        walk.issues.push_back(
            {path.string(), "symbolic link loop (links back to a parent folder)"});
      } else {
        walk.ancestors.push_back(key);
        Walk(path, rel, walk);
        walk.ancestors.pop_back();
      }
    } else if (S_ISREG(st.st_mode) && HasImageExtension(path)) {
      walk.files.push_back(rel);
    }
    rel.pop_back();
  }
}

std::string JoinIssues(const std::vector<SourceIssue>& issues) {
  if (issues.empty()) return "";
  return " (" + std::to_string(issues.size()) + " entries skipped, first: " + issues[0].file +
         ": " + issues[0].reason + ")";
}

// A folder of views written by `synthlens generate`/`augment` lists every file in manifest.jsonl
// with the label of its source image (and its class name when the source had names): those labels
// become the records' labels, so a synthetic set is compared and coloured by class like the real
// one. A line that is not JSON is logged (its file keeps no label; no image is skipped); a missing
// manifest is no problem.
void ApplyViewManifest(const std::string& root, std::vector<ImageRecord>& records,
                       std::vector<std::string>& class_names) {
  const std::string path = root + "/manifest.jsonl";
  std::ifstream in(path);
  if (!in) return;
  std::unordered_map<std::string, size_t> index;
  for (size_t i = 0; i < records.size(); ++i) index.emplace(records[i].id, i);
  std::map<int, std::string> names;
  std::string line;
  int64_t number = 0, bad = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line == "\r") continue;
    const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      if (bad++ == 0) SL_LOG_WARNING(path << ": line " << number << " is not JSON (its label is not used)");
      continue;
    }
    const auto file = j.find("file");
    const auto label = j.find("label");
    if (file == j.end() || !file->is_string() || label == j.end() || !label->is_number_integer()) continue;
    const int value = label->get<int>();
    const auto at = index.find(file->get<std::string>());
    if (at == index.end() || value < 0) continue;
    records[at->second].label = value;
    const auto name = j.find("class_name");
    if (name != j.end() && name->is_string()) names[value] = name->get<std::string>();
  }
  if (bad > 1) SL_LOG_WARNING(path << ": " << bad - 1 << " more lines are not JSON");
  if (names.empty()) return;
  class_names.clear();
  for (int label = 0; label <= names.rbegin()->first; ++label) {
    const auto name = names.find(label);
    class_names.push_back(name != names.end() ? name->second : std::to_string(label));
  }
}

Result<std::unique_ptr<ImageSource>> OpenFolder(const std::string& spec,
                                                const SourceOptions& options) {
  using R = Result<std::unique_ptr<ImageSource>>;
  FolderWalk walk;
  struct stat st;
  if (::stat(spec.c_str(), &st) == 0) walk.ancestors.push_back({st.st_dev, st.st_ino});
  std::vector<std::string> rel;
  Walk(fs::path(spec), rel, walk);
  if (walk.files.empty()) {
    return Fail<std::unique_ptr<ImageSource>>(
        spec + ": no images found (png, jpg, jpeg, webp, bmp, tif, tiff)" +
        JoinIssues(walk.issues));
  }
  // Component-wise order matches torchvision's ImageFolder (sorted classes, then sorted files).
  std::sort(walk.files.begin(), walk.files.end());
  std::set<std::string> classes;
  for (const auto& parts : walk.files) {
    if (parts.size() > 1) classes.insert(parts[0]);
  }
  std::vector<std::string> class_names(classes.begin(), classes.end());
  const std::string root =
      spec.size() > 1 && spec.back() == '/' ? spec.substr(0, spec.size() - 1) : spec;
  size_t count = walk.files.size();
  if (options.limit >= 0) count = std::min(count, static_cast<size_t>(options.limit));
  std::vector<ImageRecord> records(count);
  for (size_t i = 0; i < count; ++i) {
    const auto& parts = walk.files[i];
    ImageRecord& r = records[i];
    for (size_t k = 0; k < parts.size(); ++k) r.id += (k ? "/" : "") + parts[k];
    r.path = root + "/" + r.id;
    if (parts.size() > 1) {
      r.label = static_cast<int>(
          std::lower_bound(class_names.begin(), class_names.end(), parts[0]) - class_names.begin());
    }
  }
  if (class_names.empty()) ApplyViewManifest(root, records, class_names);
  return R(std::make_unique<FileListSource>(spec, std::move(records), std::move(class_names),
                                            std::move(walk.issues), options.decode));
}

// RFC 4180 fields: quotes protect commas and newlines, "" is a literal quote.
struct CsvRow {
  int line = 0;
  std::vector<std::string> fields;
};

Result<std::vector<CsvRow>> ParseCsv(std::string_view text, const std::string& path) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);  // UTF-8 BOM
  std::vector<CsvRow> rows;
  CsvRow row;
  std::string field;
  bool quoted = false;
  int line = 1, quote_line = 0;
  row.line = 1;
  auto end_row = [&] {
    row.fields.push_back(std::move(field));
    field.clear();
    const bool blank = row.fields.size() == 1 && Trim(row.fields[0]).empty();
    if (!blank) rows.push_back(std::move(row));
    row = CsvRow();
    row.line = line;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"') {
      quoted = true;
      quote_line = line;
    } else if (c == ',') {
      row.fields.push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      ++line;
      end_row();
    } else {
      field += c;
    }
  }
  if (quoted) {
    return Fail<std::vector<CsvRow>>(path + ":" + std::to_string(quote_line) +
                                     ": unterminated quoted field");
  }
  if (!field.empty() || !row.fields.empty()) end_row();
  return rows;
}

bool ParseLabelInt(const std::string& text, int* value) {
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end && *value >= 0;
}

Result<std::unique_ptr<ImageSource>> OpenCsv(const std::string& spec,
                                             const SourceOptions& options) {
  using R = Result<std::unique_ptr<ImageSource>>;
  auto text = ReadFileBytes(spec);
  if (!text.ok()) return Fail<std::unique_ptr<ImageSource>>(text.error());
  auto rows = ParseCsv(*text, spec);
  if (!rows.ok()) return Fail<std::unique_ptr<ImageSource>>(rows.error());
  if (rows->empty()) return Fail<std::unique_ptr<ImageSource>>(spec + ": empty CSV manifest");
  const auto& header = rows->front().fields;
  int path_column = -1, label_column = -1;
  for (size_t c = 0; c < header.size(); ++c) {
    const std::string name = Lower(Trim(header[c]));
    if (name == "path") path_column = static_cast<int>(c);
    if (name == "label") label_column = static_cast<int>(c);
  }
  if (path_column < 0) {
    return Fail<std::unique_ptr<ImageSource>>(
        spec + ":" + std::to_string(rows->front().line) +
        ": the header must name a 'path' column (columns: path[,label])");
  }
  const fs::path folder = fs::path(spec).parent_path();
  std::vector<SourceIssue> issues;
  std::vector<ImageRecord> records;
  std::vector<std::string> labels;
  for (size_t r = 1; r < rows->size(); ++r) {
    const CsvRow& row = (*rows)[r];
    const std::string where = spec + ":" + std::to_string(row.line);
    auto field = [&](int c) {
      return c >= 0 && c < static_cast<int>(row.fields.size()) ? Trim(row.fields[c]) : "";
    };
    const std::string rel = field(path_column);
    if (rel.empty()) {
      issues.push_back({where, "missing or empty path"});
      continue;
    }
    const fs::path full =
        fs::path(rel).is_absolute() || folder.empty() ? fs::path(rel) : folder / rel;
    std::error_code ec;
    const auto status = fs::status(full, ec);
    if (!fs::exists(status)) {
      issues.push_back({where, full.string() + ": no such file or directory"});
      continue;
    }
    if (!fs::is_regular_file(status)) {
      issues.push_back({where, full.string() + ": not a regular file"});
      continue;
    }
    ImageRecord record;
    record.id = rel;
    record.path = full.string();
    records.push_back(std::move(record));
    labels.push_back(field(label_column));
  }
  if (records.empty()) {
    return Fail<std::unique_ptr<ImageSource>>(spec + ": no usable rows" + JoinIssues(issues));
  }
  // Integer labels are used as they are; otherwise labels are class names, indexed in sorted order.
  bool all_integers = true;
  std::set<std::string> names;
  for (const auto& label : labels) {
    if (label.empty()) continue;
    int value;
    if (!ParseLabelInt(label, &value)) all_integers = false;
    names.insert(label);
  }
  std::vector<std::string> class_names;
  if (!all_integers) class_names.assign(names.begin(), names.end());
  for (size_t i = 0; i < records.size(); ++i) {
    if (labels[i].empty()) continue;
    if (all_integers) {
      ParseLabelInt(labels[i], &records[i].label);
    } else {
      records[i].label =
          static_cast<int>(std::lower_bound(class_names.begin(), class_names.end(), labels[i]) -
                           class_names.begin());
    }
  }
  if (options.limit >= 0 && static_cast<size_t>(options.limit) < records.size()) {
    records.resize(static_cast<size_t>(options.limit));
  }
  return R(std::make_unique<FileListSource>(spec, std::move(records), std::move(class_names),
                                            std::move(issues), options.decode));
}

// ---- IDX (MNIST-style) sources ----

Result<std::string> Gunzip(const std::string& bytes, const std::string& path) {
  z_stream stream;
  std::memset(&stream, 0, sizeof(stream));
  if (inflateInit2(&stream, 15 + 16) != Z_OK) return Fail<std::string>(path + ": zlib init failed");
  // The gzip trailer holds the uncompressed size mod 2^32: a good first guess for the buffer.
  size_t guess = bytes.size() >= 4
                     ? (uint8_t(bytes[bytes.size() - 4]) | uint8_t(bytes[bytes.size() - 3]) << 8 |
                        uint8_t(bytes[bytes.size() - 2]) << 16 |
                        size_t(uint8_t(bytes[bytes.size() - 1])) << 24)
                     : 0;
  // A truncated file ends in arbitrary bytes, so distrust a guess far beyond typical ratios.
  if (guess > 16 * bytes.size() + 65536) guess = 4 * bytes.size();
  guess = std::max<size_t>(guess, 1024);
  std::string out(guess, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data()));
  stream.avail_in = static_cast<uInt>(bytes.size());
  int status = Z_OK;
  while (status != Z_STREAM_END) {
    if (stream.total_out == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + stream.total_out);
    stream.avail_out = static_cast<uInt>(
        std::min<size_t>(out.size() - stream.total_out, std::numeric_limits<uInt>::max()));
    status = inflate(&stream, Z_NO_FLUSH);
    if (status == Z_BUF_ERROR && stream.avail_in == 0) break;  // input ended early
    if (status != Z_OK && status != Z_STREAM_END && status != Z_BUF_ERROR) break;
  }
  const std::string reason = stream.msg ? stream.msg : "unexpected end of data";
  out.resize(stream.total_out);
  inflateEnd(&stream);
  if (status != Z_STREAM_END) {
    return Fail<std::string>(path + ": truncated or corrupt gzip data (" + reason + ")");
  }
  return out;
}

struct IdxArray {
  std::vector<int64_t> dims;
  std::string bytes;  // the whole (decompressed) file
  size_t offset = 0;  // where the data starts
};

Result<IdxArray> ReadIdx(const std::string& path) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return Fail<IdxArray>(bytes.error());
  IdxArray array;
  if (bytes->size() >= 2 && uint8_t((*bytes)[0]) == 0x1F && uint8_t((*bytes)[1]) == 0x8B) {
    auto inflated = Gunzip(*bytes, path);
    if (!inflated.ok()) return Fail<IdxArray>(inflated.error());
    array.bytes = std::move(inflated).value();
  } else {
    array.bytes = std::move(bytes).value();
  }
  const std::string& b = array.bytes;
  if (b.size() < 4 || b[0] != 0 || b[1] != 0) {
    return Fail<IdxArray>(path + ": not an IDX file (bad magic number)");
  }
  if (uint8_t(b[2]) != 0x08) {
    char hex[8];
    std::snprintf(hex, sizeof(hex), "0x%02x", uint8_t(b[2]));
    return Fail<IdxArray>(path + ": unsupported IDX element type " + hex +
                          " (only unsigned bytes, 0x08)");
  }
  const int ndims = uint8_t(b[3]);
  if (ndims < 1 || ndims > 4) {
    return Fail<IdxArray>(path + ": unsupported IDX rank " + std::to_string(ndims));
  }
  array.offset = 4 + 4 * static_cast<size_t>(ndims);
  if (b.size() < array.offset) return Fail<IdxArray>(path + ": truncated IDX header");
  int64_t expected = 1;
  std::string shape;
  for (int d = 0; d < ndims; ++d) {
    const size_t p = 4 + 4 * d;
    const int64_t dim = (int64_t(uint8_t(b[p])) << 24) | (uint8_t(b[p + 1]) << 16) |
                        (uint8_t(b[p + 2]) << 8) | uint8_t(b[p + 3]);
    array.dims.push_back(dim);
    // Saturate instead of overflowing on a crafted header; the size check below then fails.
    expected =
        dim != 0 && expected > (int64_t(1) << 40) / dim ? (int64_t(1) << 40) : expected * dim;
    shape += (d ? "x" : "") + std::to_string(dim);
  }
  const size_t available = b.size() - array.offset;
  if (static_cast<uint64_t>(expected) > available) {
    return Fail<IdxArray>(path + ": truncated IDX data (shape " + shape + " needs " +
                          std::to_string(expected) + " bytes, the file has " +
                          std::to_string(available) + ")");
  }
  return array;
}

class IdxSource : public ListedSource {
 public:
  IdxSource(std::string spec, IdxArray images, std::vector<ImageRecord> records,
            std::vector<std::string> class_names, std::vector<SourceIssue> issues)
      : ListedSource(std::move(spec), std::move(records), std::move(class_names),
                     std::move(issues)),
        images_(std::move(images)) {
    rows_ = static_cast<int>(images_.dims[1]);
    cols_ = static_cast<int>(images_.dims[2]);
    channels_ = images_.dims.size() == 4 ? static_cast<int>(images_.dims[3]) : 1;
  }
  Result<cv::Mat> Load(int64_t i) const override {
    record(i);  // range check
    const size_t stride = size_t(rows_) * cols_ * channels_;
    const cv::Mat view(rows_, cols_, CV_8UC(channels_),
                       const_cast<char*>(images_.bytes.data() + images_.offset + i * stride));
    cv::Mat rgb;
    if (channels_ == 1) {
      cv::cvtColor(view, rgb, cv::COLOR_GRAY2RGB);
    } else {
      rgb = view.clone();  // IDX colour data is stored in RGB order
    }
    return rgb;
  }

 private:
  IdxArray images_;
  int rows_ = 0, cols_ = 0, channels_ = 1;
};

Result<std::unique_ptr<ImageSource>> OpenIdx(const std::string& spec, const std::string& split,
                                             const std::string& images_path,
                                             const std::string& labels_path,
                                             std::vector<std::string> class_names,
                                             const SourceOptions& options) {
  using R = Result<std::unique_ptr<ImageSource>>;
  auto images = ReadIdx(images_path);
  if (!images.ok()) return Fail<std::unique_ptr<ImageSource>>(images.error());
  const auto& dims = images->dims;
  if (!(dims.size() == 3 || (dims.size() == 4 && (dims[3] == 1 || dims[3] == 3))) || dims[1] <= 0 ||
      dims[2] <= 0 || dims[1] > 65535 || dims[2] > 65535) {
    return Fail<std::unique_ptr<ImageSource>>(
        images_path + ": an IDX image file must have shape NxHxW or NxHxWx{1,3}");
  }
  int64_t count = dims[0];
  std::vector<SourceIssue> issues;
  IdxArray labels;
  if (!labels_path.empty()) {
    auto read = ReadIdx(labels_path);
    if (!read.ok()) return Fail<std::unique_ptr<ImageSource>>(read.error());
    labels = std::move(read).value();
    if (labels.dims.size() != 1) {
      return Fail<std::unique_ptr<ImageSource>>(labels_path +
                                                ": an IDX label file must be one-dimensional");
    }
    if (labels.dims[0] != count) {
      const int64_t common = std::min(count, labels.dims[0]);
      issues.push_back({labels_path, "has " + std::to_string(labels.dims[0]) + " labels but " +
                                         images_path + " has " + std::to_string(count) +
                                         " images; using the first " + std::to_string(common)});
      count = common;
    }
  }
  if (options.limit >= 0) count = std::min(count, options.limit);
  std::vector<ImageRecord> records(static_cast<size_t>(count));
  const std::string prefix = split + ":";
  for (int64_t i = 0; i < count; ++i) {
    ImageRecord& r = records[static_cast<size_t>(i)];
    r.id = prefix + std::to_string(i);
    if (!labels_path.empty()) r.label = uint8_t(labels.bytes[labels.offset + size_t(i)]);
  }
  return R(std::make_unique<IdxSource>(spec, std::move(images).value(), std::move(records),
                                       std::move(class_names), std::move(issues)));
}

// Finds NAME.gz or NAME in `dir`.
std::string FindIdxFile(const std::string& dir, const std::string& name) {
  std::error_code ec;
  const std::string gz = dir + "/" + name + ".gz";
  if (fs::exists(gz, ec)) return gz;
  if (fs::exists(dir + "/" + name, ec)) return dir + "/" + name;
  return {};
}

Result<std::unique_ptr<ImageSource>> OpenNamedIdx(const std::string& spec, bool fashion,
                                                  const SourceOptions& options) {
  const std::string split = spec.substr(spec.find(':') + 1);
  if (split != "train" && split != "test") {
    return Fail<std::unique_ptr<ImageSource>>(spec + ": unknown split '" + split +
                                              "' (expected train or test)");
  }
  const std::string dir = fashion ? (options.fashion_mnist_dir.empty() ? DefaultFashionMnistDir()
                                                                       : options.fashion_mnist_dir)
                                  : DefaultMnistDir();
  const std::string stem = split == "train" ? "train" : "t10k";
  const std::string hint = fashion
                               ? " (Debian's dataset-fashion-mnist package provides it; or set "
                                 "SYNTHLENS_FASHION_MNIST to the folder holding the IDX files)"
                               : " (set SYNTHLENS_MNIST to the folder holding the MNIST IDX files)";
  std::string paths[2];
  const std::string names[2] = {stem + "-images-idx3-ubyte", stem + "-labels-idx1-ubyte"};
  for (int k = 0; k < 2; ++k) {
    paths[k] = FindIdxFile(dir, names[k]);
    if (paths[k].empty()) {
      return Fail<std::unique_ptr<ImageSource>>(dir + "/" + names[k] +
                                                ".gz: no such file or directory" + hint);
    }
  }
  std::vector<std::string> class_names;
  if (fashion) {
    class_names = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  } else {
    for (int d = 0; d < 10; ++d) class_names.push_back(std::to_string(d));
  }
  return OpenIdx(spec, split, paths[0], paths[1], std::move(class_names), options);
}

}  // namespace

ImageSource::~ImageSource() = default;

bool SourceOptions::Check() const { return limit >= -1 && decode.Check(); }

std::string DefaultFashionMnistDir() {
  const char* env = std::getenv("SYNTHLENS_FASHION_MNIST");
  return env && *env ? env : "/usr/share/datasets/fashion-mnist";
}

std::string DefaultMnistDir() {
  const char* env = std::getenv("SYNTHLENS_MNIST");
  return env && *env ? env : "/usr/share/datasets/mnist";
}

SourceIssue LoadIssue(const ImageRecord& record, const std::string& error) {
  const std::string file = record.path.empty() ? record.id : record.path;
  const std::string prefix = file + ": ";
  return {file, error.compare(0, prefix.size(), prefix) == 0 ? error.substr(prefix.size()) : error};
}

namespace {

std::string CanonicalPath(const std::string& path) {
  std::error_code ec;
  if (path.empty() || !fs::exists(path, ec)) return path;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  if (ec) return path;
  std::string out = canonical.string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}

}  // namespace

std::string SourceKey(const std::string& spec) {
  if (spec.rfind("idx:", 0) == 0) {
    const std::string files = spec.substr(4);
    const size_t comma = files.find(',');
    if (comma == std::string::npos) return "idx:" + CanonicalPath(files);
    return "idx:" + CanonicalPath(files.substr(0, comma)) + "," + CanonicalPath(files.substr(comma + 1));
  }
  return CanonicalPath(spec);
}

Result<std::unique_ptr<ImageSource>> OpenImageSource(const std::string& spec,
                                                     const SourceOptions& options) {
  SL_CHECK(options.Check(),
           "SourceOptions: limit must be >= -1 (got " << options.limit << ") and max_pixels > 0");
  if (StartsWith(spec, "fashion-mnist:")) return OpenNamedIdx(spec, true, options);
  if (StartsWith(spec, "mnist:")) return OpenNamedIdx(spec, false, options);
  if (StartsWith(spec, "idx:")) {
    const std::string files = spec.substr(4);
    const size_t comma = files.find(',');
    const std::string images = files.substr(0, comma);
    const std::string labels = comma == std::string::npos ? "" : files.substr(comma + 1);
    std::error_code ec;
    if (images.empty() || !fs::exists(images, ec)) {
      return Fail<std::unique_ptr<ImageSource>>(images + ": no such file or directory");
    }
    if (!labels.empty() && !fs::exists(labels, ec)) {
      return Fail<std::unique_ptr<ImageSource>>(labels + ": no such file or directory");
    }
    return OpenIdx(spec, "idx", images, labels, {}, options);
  }
  std::error_code ec;
  const auto status = fs::status(spec, ec);
  if (!fs::exists(status)) {
    return Fail<std::unique_ptr<ImageSource>>(spec + ": no such file or directory");
  }
  if (fs::is_directory(status)) return OpenFolder(spec, options);
  if (Lower(fs::path(spec).extension().string()) == ".csv") return OpenCsv(spec, options);
  return Fail<std::unique_ptr<ImageSource>>(
      spec +
      ": not a folder, a .csv manifest or an IDX source (fashion-mnist:train|test, "
      "mnist:train|test, idx:IMAGES[,LABELS])");
}

}  // namespace synthlens
