// AtomicFile: see AtomicFile.h. Writes are buffered in 1 MiB blocks; tensors
// larger than the buffer go straight to the file descriptor.
#include "runtime/AtomicFile.h"

#include "runtime/Error.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>

namespace recc::rt {
namespace {

constexpr size_t kBufferSize = 1 << 20;

std::string directoryOf(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string baseName(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

std::string tempPathFor(const std::string& path) {
  static std::atomic<unsigned> counter{0};
  return fmt::format("{}.tmp-{}-{}", path, ::getpid(), counter++);
}

/// The writer's pid if `name` is "<base>.tmp-<pid>-<n>", else 0.
pid_t temporaryOwner(std::string_view name, const std::string& base) {
  std::string prefix = base + ".tmp-";
  if (!name.starts_with(prefix))
    return 0;
  name.remove_prefix(prefix.size());
  size_t dash = name.find('-');
  if (dash == std::string_view::npos || dash == 0 || dash + 1 == name.size() ||
      name.substr(dash + 1).find_first_not_of("0123456789") != std::string_view::npos)
    return 0;
  pid_t pid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + dash, pid);
  return ec == std::errc() && end == name.data() + dash && pid > 0 ? pid : 0;
}

bool processIsGone(pid_t pid) { return ::kill(pid, 0) == -1 && errno == ESRCH; }

} // namespace

int removeStaleTemporaries(const std::string& path) {
  const std::string dir = directoryOf(path), base = baseName(path);
  DIR* d = ::opendir(dir.c_str());
  if (!d)
    return 0;
  int removed = 0;
  while (const dirent* e = ::readdir(d)) {
    pid_t owner = temporaryOwner(e->d_name, base);
    if (owner != 0 && processIsGone(owner) &&
        ::unlink((dir + "/" + e->d_name).c_str()) == 0)
      ++removed;
  }
  ::closedir(d);
  return removed;
}

void checkCanWrite(const std::string& flag, const std::string& path) {
  if (path.empty())
    return;
  struct stat st{};
  if (::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode))
    fail("{}: cannot write '{}': it is a directory", flag, path);
  const std::string dir = directoryOf(path);
  if (::stat(dir.c_str(), &st) != 0)
    fail("{}: cannot write '{}': directory '{}': {}", flag, path, dir, std::strerror(errno));
  if (!S_ISDIR(st.st_mode))
    fail("{}: cannot write '{}': '{}' is not a directory", flag, path, dir);
  if (::access(dir.c_str(), W_OK | X_OK) != 0)
    fail("{}: cannot write '{}': directory '{}': {}", flag, path, dir, std::strerror(errno));
}

AtomicFileWriter::AtomicFileWriter(std::string path)
    : Path(std::move(path)), TempPath(tempPathFor(Path)) {
  removeStaleTemporaries(Path);
  Fd = ::open(TempPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (Fd < 0)
    fail("{}: cannot create temporary file '{}': {}; nothing was written", Path,
         TempPath, std::strerror(errno));
  Buffer.reserve(kBufferSize);
}

AtomicFileWriter::~AtomicFileWriter() {
  if (Fd >= 0)
    ::close(Fd);
  if (!Committed)
    ::unlink(TempPath.c_str());
}

void AtomicFileWriter::failWith(const char* action, int err) {
  if (Fd >= 0)
    ::close(Fd);
  Fd = -1;
  ::unlink(TempPath.c_str());
  fail("{}: cannot {}: {}; the previous file is left unchanged", Path, action,
       std::strerror(err));
}

void AtomicFileWriter::writeAll(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(Fd, data, size);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      failWith("write", n < 0 ? errno : EIO);
    data += n;
    size -= static_cast<size_t>(n);
  }
}

void AtomicFileWriter::flush() {
  writeAll(Buffer.data(), Buffer.size());
  Buffer.clear();
}

void AtomicFileWriter::write(const void* data, size_t size) {
  if (Fd < 0)
    fail("{}: write after a failed or committed write", Path);
  const char* bytes = static_cast<const char*>(data);
  if (Buffer.size() + size > kBufferSize) {
    flush();
    if (size > kBufferSize)
      return writeAll(bytes, size);
  }
  Buffer.insert(Buffer.end(), bytes, bytes + size);
}

void AtomicFileWriter::commit() {
  flush();
  if (::fsync(Fd) != 0)
    failWith("sync", errno);
  if (::close(Fd) != 0) {
    Fd = -1;
    failWith("close", errno);
  }
  Fd = -1;
  if (::rename(TempPath.c_str(), Path.c_str()) != 0)
    failWith("rename the temporary file", errno);
  Committed = true;
  int dir = ::open(directoryOf(Path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {  // best effort: makes the rename itself durable
    ::fsync(dir);
    ::close(dir);
  }
}

void writeFileAtomically(const std::string& path, std::string_view contents) {
  AtomicFileWriter out(path);
  out.write(contents);
  out.commit();
}

} // namespace recc::rt
