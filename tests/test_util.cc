#include "tests/test_util.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/util/check.h"

namespace synthlens::testing {
namespace fs = std::filesystem;

std::string WriteIdxPair(const std::string& images_path, const std::string& labels_path, int n,
                         const std::function<uint8_t(int i, int y, int x)>& pixel,
                         const std::function<int(int i)>& label) {
  auto be32 = [](std::string& s, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) s.push_back(static_cast<char>((v >> shift) & 0xff));
  };
  std::string images, labels;
  be32(images, 0x00000803);
  be32(images, static_cast<uint32_t>(n));
  be32(images, 28);
  be32(images, 28);
  be32(labels, 0x00000801);
  be32(labels, static_cast<uint32_t>(n));
  for (int i = 0; i < n; ++i) {
    for (int y = 0; y < 28; ++y) {
      for (int x = 0; x < 28; ++x) images.push_back(static_cast<char>(pixel(i, y, x)));
    }
    labels.push_back(static_cast<char>(label(i)));
  }
  WriteFile(images_path, images);
  WriteFile(labels_path, labels);
  return "idx:" + images_path + "," + labels_path;
}

TempDir::TempDir() {
  std::string templ = (fs::temp_directory_path() / "synthlens-test-XXXXXX").string();
  SL_CHECK(::mkdtemp(templ.data()) != nullptr, "mkdtemp failed");
  path_ = templ;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Restore permissions that tests may have removed so the folder can be deleted.
  for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
  }
  fs::remove_all(path_, ec);
}

void WriteFile(const std::string& path, const std::string& bytes) {
  fs::path p(path);
  if (p.has_parent_path()) fs::create_directories(p.parent_path());
  std::ofstream out(path, std::ios::binary);
  SL_CHECK(out, "cannot write " << path);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

int RunCommand(const std::string& command, std::string* out, std::string* err) {
  char out_name[] = "/tmp/synthlens-cmd-out-XXXXXX";
  char err_name[] = "/tmp/synthlens-cmd-err-XXXXXX";
  const int out_fd = ::mkstemp(out_name);
  const int err_fd = ::mkstemp(err_name);
  ::close(out_fd);
  ::close(err_fd);
  const std::string full =
      command + " >" + std::string(out_name) + " 2>" + std::string(err_name) + " </dev/null";
  const int status = std::system(full.c_str());
  auto slurp = [](const char* name) {
    std::ifstream in(name, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  };
  if (out) *out = slurp(out_name);
  if (err) *err = slurp(err_name);
  ::unlink(out_name);
  ::unlink(err_name);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string BinaryPath(const std::string& name) {
  const char* dir = std::getenv("SYNTHLENS_BIN_DIR");
  SL_CHECK(dir != nullptr, "SYNTHLENS_BIN_DIR is not set (run the test through ctest)");
  return std::string(dir) + "/" + name;
}

namespace {

bool ReadCount(int fd, int64_t* count) {
  ssize_t n;
  do {
    n = ::read(fd, count, sizeof(*count));
  } while (n < 0 && errno == EINTR);
  return n == static_cast<ssize_t>(sizeof(*count));
}

}  // namespace

bool KilledChild::killed() const { return WIFSIGNALED(status); }

KilledChild RunAndKill(const std::function<void(int write_fd)>& child, int64_t target,
                       int delay_us) {
  int fds[2];
  SL_CHECK(::pipe(fds) == 0, "pipe failed");
  const pid_t pid = ::fork();
  SL_CHECK(pid >= 0, "fork failed");
  if (pid == 0) {
    ::close(fds[0]);
    child(fds[1]);
    ::_exit(3);  // the child must not return
  }
  ::close(fds[1]);
  KilledChild result;
  int64_t count = 0;
  while (result.reported < target && ReadCount(fds[0], &count)) result.reported = count;
  if (delay_us > 0) ::usleep(delay_us);
  ::kill(pid, SIGKILL);
  SL_CHECK(::waitpid(pid, &result.status, 0) == pid, "waitpid failed");
  // Commits reported between the last read and the kill.
  while (ReadCount(fds[0], &count)) result.reported = count;
  ::close(fds[0]);
  return result;
}

}  // namespace synthlens::testing
