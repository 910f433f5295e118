#include "core/jobs/manifest_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/util/file_util.h"

namespace synthlens {

std::string ClassNameField(const std::vector<std::string>& class_names, int label) {
  if (label < 0 || label >= static_cast<int>(class_names.size()) || class_names[label].empty()) return "";
  return ",\"class_name\":\"" + JsonEscape(class_names[label]) + "\"";
}

ManifestWriter::~ManifestWriter() {
  if (fd_ >= 0) ::close(fd_);
}

std::string ManifestWriter::Open(const std::string& path) {
  path_ = path;
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd_ < 0) return path + ": cannot open for appending (" + std::strerror(errno) + ")";
  return {};
}

std::string ManifestWriter::Append(const std::string& lines) {
  if (fd_ < 0) return path_ + ": not open";
  size_t done = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return path_ + ": write failed (" + std::strerror(errno) + ")";
    }
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return path_ + ": sync failed (" + std::strerror(errno) + ")";
  return {};
}

}  // namespace synthlens
