#include "core/util/file_util.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/util/random.h"

namespace synthlens {
namespace fs = std::filesystem;

Result<std::string> ReadFileBytes(const std::string& path) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) return Result<std::string>::Failure(path + ": no such file");
  if (fs::is_directory(status)) return Result<std::string>::Failure(path + ": is a directory");
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Result<std::string>::Failure(path + ": cannot open (" + std::strerror(errno) + ")");
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  if (in.bad()) return Result<std::string>::Failure(path + ": read error");
  return buffer.str();
}

std::string WriteFileAtomic(const std::string& path, std::string_view bytes) {
  const fs::path target(path);
  std::error_code ec;
  if (target.has_parent_path()) {
    fs::create_directories(target.parent_path(), ec);
    if (ec) return target.parent_path().string() + ": cannot create folder (" + ec.message() + ")";
  }
  static std::atomic<uint64_t> counter{0};
  const std::string tmp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(counter.fetch_add(1));
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return tmp + ": cannot create (" + std::strerror(errno) + ")";
  size_t written = 0;
  while (written < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + written, bytes.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string err = path + ": write failed (" + std::strerror(errno) + ")";
      ::close(fd);
      ::unlink(tmp.c_str());
      return err;
    }
    written += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return path + ": flush failed (" + std::strerror(errno) + ")";
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const std::string err = path + ": rename failed (" + std::strerror(errno) + ")";
    ::unlink(tmp.c_str());
    return err;
  }
  return {};
}

std::string JsonEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (unsigned char c : text) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

}  // namespace synthlens
