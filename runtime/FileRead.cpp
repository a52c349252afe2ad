// FileRead: see FileRead.h.
#include "runtime/FileRead.h"

#include "runtime/Error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace recc::rt {
namespace {

/// Closes a file descriptor on every path out.
struct Fd {
  int fd;
  ~Fd() { ::close(fd); }
};

} // namespace

std::string readWholeFile(const std::string& path, const char* what) {
  Fd file{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
  if (file.fd < 0)
    fail("{}: cannot open {}: {}", path, what, std::strerror(errno));
  struct stat st{};
  if (::fstat(file.fd, &st) == 0 && S_ISDIR(st.st_mode))
    fail("{}: is a directory, not a {}", path, what);
  // The size is a hint only: the file may change size while it is read.
  std::string text;
  if (S_ISREG(st.st_mode) && st.st_size > 0)
    text.reserve(static_cast<size_t>(st.st_size));
  // On the stack: a heap buffer of 1 MiB cost a zero-fill and its page
  // faults on every file, most of the time of reading a small one.
  char buffer[64 * 1024];
  for (;;) {
    ssize_t n = ::read(file.fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      fail("{}: cannot read {}: {}", path, what, std::strerror(errno));
    if (n == 0)
      return text;
    text.append(buffer, static_cast<size_t>(n));
  }
}

} // namespace recc::rt
