#include "core/io/npy.h"

#include <cctype>
#include <cstring>

#include "core/util/file_util.h"

namespace synthlens {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;

bool LittleEndianHost() {
  const uint16_t probe = 1;
  uint8_t first = 0;
  std::memcpy(&first, &probe, 1);
  return first == 1;
}

// Finds `'key':` in the header dict and returns the position just after the colon, or npos.
size_t FindKey(const std::string& header, const std::string& key) {
  for (const char quote : {'\'', '"'}) {
    const std::string needle = std::string(1, quote) + key + std::string(1, quote);
    size_t pos = header.find(needle);
    if (pos == std::string::npos) continue;
    pos += needle.size();
    while (pos < header.size() && std::isspace(static_cast<unsigned char>(header[pos]))) ++pos;
    if (pos < header.size() && header[pos] == ':') return pos + 1;
  }
  return std::string::npos;
}

void SkipSpace(const std::string& s, size_t* pos) {
  while (*pos < s.size() && std::isspace(static_cast<unsigned char>(s[*pos]))) ++(*pos);
}

}  // namespace

std::string WriteNpy(const std::string& path, const cv::Mat& matrix) {
  SL_CHECK(matrix.dims == 2 && matrix.channels() == 1 &&
               (matrix.depth() == CV_32F || matrix.depth() == CV_64F),
           "WriteNpy needs a 2-D single-channel CV_32F or CV_64F matrix, got type "
               << matrix.type() << " with " << matrix.dims << " dims");
  SL_CHECK(LittleEndianHost(), "WriteNpy: big-endian hosts are not supported");
  const bool f32 = matrix.depth() == CV_32F;
  std::string header = std::string("{'descr': '") + (f32 ? "<f4" : "<f8") +
                       "', 'fortran_order': False, 'shape': (" + std::to_string(matrix.rows) +
                       ", " + std::to_string(matrix.cols) + "), }";
  // Pad with spaces so magic + version + length + header + '\n' is a multiple of 64 (as numpy).
  const size_t prefix = kMagicSize + 2 + 2;
  const size_t total = ((prefix + header.size() + 1 + 63) / 64) * 64;
  header.append(total - prefix - header.size() - 1, ' ');
  header.push_back('\n');
  std::string bytes(kMagic, kMagicSize);
  bytes.push_back('\x01');
  bytes.push_back('\x00');
  bytes.push_back(static_cast<char>(header.size() & 0xff));
  bytes.push_back(static_cast<char>((header.size() >> 8) & 0xff));
  bytes += header;
  const size_t row_bytes = static_cast<size_t>(matrix.cols) * matrix.elemSize();
  bytes.reserve(bytes.size() + row_bytes * static_cast<size_t>(matrix.rows));
  for (int r = 0; r < matrix.rows; ++r) {
    bytes.append(reinterpret_cast<const char*>(matrix.ptr(r)), row_bytes);
  }
  return WriteFileAtomic(path, bytes);
}

Result<cv::Mat> ParseNpy(const std::string& bytes, const std::string& name,
                         std::vector<int64_t>* shape_out) {
  using R = Result<cv::Mat>;
  if (bytes.size() < kMagicSize + 2 || bytes.compare(0, kMagicSize, kMagic, kMagicSize) != 0) {
    return R::Failure(name + ": not an .npy file (no \\x93NUMPY magic)");
  }
  const int major = static_cast<uint8_t>(bytes[6]);
  size_t header_len = 0;
  size_t offset = 0;
  if (major == 1) {
    if (bytes.size() < 10) return R::Failure(name + ": truncated header");
    header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<size_t>(static_cast<uint8_t>(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12) return R::Failure(name + ": truncated header");
    for (int i = 0; i < 4; ++i) {
      header_len |= static_cast<size_t>(static_cast<uint8_t>(bytes[8 + i])) << (8 * i);
    }
    offset = 12;
  } else {
    return R::Failure(name + ": unsupported .npy format version " + std::to_string(major));
  }
  if (bytes.size() < offset + header_len) return R::Failure(name + ": truncated header");
  const std::string header = bytes.substr(offset, header_len);
  offset += header_len;

  // descr
  size_t pos = FindKey(header, "descr");
  if (pos == std::string::npos) return R::Failure(name + ": header has no 'descr'");
  SkipSpace(header, &pos);
  if (pos >= header.size() || (header[pos] != '\'' && header[pos] != '"')) {
    return R::Failure(name + ": header 'descr' is not a simple dtype string (structured arrays "
                             "are not supported)");
  }
  const char quote = header[pos];
  const size_t end = header.find(quote, pos + 1);
  if (end == std::string::npos) return R::Failure(name + ": malformed header");
  const std::string descr = header.substr(pos + 1, end - pos - 1);
  int depth = -1;
  if (descr == "<f4" || (descr == "=f4" && LittleEndianHost())) depth = CV_32F;
  if (descr == "<f8" || (descr == "=f8" && LittleEndianHost())) depth = CV_64F;
  if (depth < 0) {
    return R::Failure(name + ": dtype '" + descr +
                      "' not supported (expected little-endian float32 '<f4' or float64 '<f8')");
  }
  // fortran_order
  pos = FindKey(header, "fortran_order");
  if (pos == std::string::npos) return R::Failure(name + ": header has no 'fortran_order'");
  SkipSpace(header, &pos);
  if (header.compare(pos, 4, "True") == 0) {
    return R::Failure(name + ": fortran order not supported (save a C-order array)");
  }
  if (header.compare(pos, 5, "False") != 0) return R::Failure(name + ": malformed 'fortran_order'");
  // shape
  pos = FindKey(header, "shape");
  if (pos == std::string::npos) return R::Failure(name + ": header has no 'shape'");
  SkipSpace(header, &pos);
  if (pos >= header.size() || header[pos] != '(') return R::Failure(name + ": malformed 'shape'");
  const size_t close = header.find(')', pos);
  if (close == std::string::npos) return R::Failure(name + ": malformed 'shape'");
  std::vector<int64_t> shape;
  {
    const std::string inner = header.substr(pos + 1, close - pos - 1);
    size_t i = 0;
    while (true) {
      SkipSpace(inner, &i);
      if (i >= inner.size()) break;
      if (!std::isdigit(static_cast<unsigned char>(inner[i]))) {
        return R::Failure(name + ": malformed 'shape' (" + inner + ")");
      }
      int64_t value = 0;
      while (i < inner.size() && std::isdigit(static_cast<unsigned char>(inner[i]))) {
        value = value * 10 + (inner[i] - '0');
        if (value > (int64_t{1} << 40)) return R::Failure(name + ": shape too large");
        ++i;
      }
      shape.push_back(value);
      SkipSpace(inner, &i);
      if (i < inner.size() && inner[i] == ',') ++i;
    }
  }
  if (shape.empty() || shape.size() > 2) {
    return R::Failure(name + ": " + std::to_string(shape.size()) +
                      "-D arrays not supported (expected 1-D or 2-D)");
  }
  const int64_t rows = shape[0];
  const int64_t cols = shape.size() == 2 ? shape[1] : 1;
  if (rows > INT32_MAX || cols > INT32_MAX) return R::Failure(name + ": shape too large");
  const size_t elem = depth == CV_32F ? 4 : 8;
  const size_t need = static_cast<size_t>(rows) * static_cast<size_t>(cols) * elem;
  if (bytes.size() - offset < need) {
    return R::Failure(name + ": truncated (header declares " + std::to_string(need) +
                      " data bytes, file has " + std::to_string(bytes.size() - offset) + ")");
  }
  SL_CHECK(LittleEndianHost(), "ReadNpy: big-endian hosts are not supported");
  cv::Mat matrix(static_cast<int>(rows), static_cast<int>(cols), depth);
  if (need > 0) std::memcpy(matrix.data, bytes.data() + offset, need);
  if (shape_out) *shape_out = shape;
  return matrix;
}

Result<cv::Mat> ReadNpy(const std::string& path, std::vector<int64_t>* shape) {
  auto bytes = ReadFileBytes(path);
  if (!bytes.ok()) return Result<cv::Mat>::Failure(bytes.error());
  return ParseNpy(*bytes, path, shape);
}

}  // namespace synthlens
