// AtomicFile: writes a file so that readers see either the old contents or
// the complete new ones, never a torn file. Data goes to a temporary file in
// the target's directory (same file system, so rename is atomic), which is
// fsync'ed, renamed over the target, and the directory is fsync'ed. If any
// step fails (disk full, directory unwritable) the previous file is untouched
// and the temporary file is removed.
//
// A writer killed midway (SIGKILL, power loss) cannot remove its temporary
// file, "<target>.tmp-<pid>-<n>". So each writer of a target first removes the
// temporaries of that target left by processes that no longer exist (kill(pid,
// 0) fails with ESRCH); those of live processes, which may still be writing,
// are kept. (Writers in another PID namespace sharing the directory, e.g. two
// containers, cannot be told apart from dead ones; do not share one target.)
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

class AtomicFileWriter {
public:
  /// Creates the temporary file next to `path`; throws a RuntimeError if it
  /// cannot (e.g. the directory is missing or not writable).
  explicit AtomicFileWriter(std::string path);
  /// Removes the temporary file unless commit() succeeded.
  ~AtomicFileWriter();
  AtomicFileWriter(const AtomicFileWriter&) = delete;
  AtomicFileWriter& operator=(const AtomicFileWriter&) = delete;

  /// Appends bytes (buffered); throws a RuntimeError on a write error.
  void write(const void* data, size_t size);
  void write(std::string_view text) { write(text.data(), text.size()); }
  /// Flushes, fsyncs and renames over the target; throws on failure.
  void commit();

  const std::string& path() const { return Path; }

private:
  void flush();
  void writeAll(const char* data, size_t size);
  [[noreturn]] void failWith(const char* action, int err);

  std::string Path, TempPath;
  int Fd = -1;
  bool Committed = false;
  std::vector<char> Buffer;
};

/// Checks, before any work starts, that a file can be written at `path`
/// (given by command-line flag `flag`): its directory exists and is writable
/// and `path` is not a directory. Throws a RuntimeError naming the flag and
/// the path otherwise; an empty path (no output asked for) passes.
void checkCanWrite(const std::string& flag, const std::string& path);

/// Removes "<path>.tmp-<pid>-<n>" files whose process is gone; returns how
/// many were removed. Called by AtomicFileWriter; exposed for tests.
int removeStaleTemporaries(const std::string& path);

/// Writes `contents` to `path` atomically.
void writeFileAtomically(const std::string& path, std::string_view contents);

} // namespace recc::rt
