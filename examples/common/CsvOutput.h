// examples/common/CsvOutput.h: fast CSV formatting and all-or-nothing output files for the
// data generators.
//
// CsvBuffer appends fields with std::to_chars (printf-family formatting would be the
// bottleneck at a million rows) into a 1 MiB buffer the caller flushes. OutputFile writes
// a regular file as FILE.tmp and renames it only when complete, so an interrupted run never
// leaves a truncated FILE. Progress reports rows written when stderr is a terminal.
#pragma once

#include <charconv>
#include <chrono>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

namespace recc::gen {

class CsvBuffer {
public:
  void put(long long v) { end_ = std::to_chars(end_, limit(), v).ptr; }
  void put(int v) { put((long long)v); }
  /// 7 significant digits, shortest form ("0.05", "1.2e-05").
  void put(double v) { end_ = std::to_chars(end_, limit(), v, std::chars_format::general, 7).ptr; }
  void put(std::string_view s) { end_ = std::copy(s.begin(), s.end(), end_); }
  void sep(char c) { *end_++ = c; }
  bool flush(FILE *f) {
    size_t n = end_ - buf_.data();
    end_ = buf_.data();
    return std::fwrite(buf_.data(), 1, n, f) == n;
  }
  /// Past 1 MiB: the caller flushes before the next row.
  bool full() const { return end_ - buf_.data() > (1 << 20); }

private:
  // The caller flushes once past 1 MiB, so a row of up to kSlack bytes never runs out.
  static constexpr size_t kSlack = 64 * 1024;
  char *limit() { return buf_.data() + buf_.size(); }
  std::vector<char> buf_ = std::vector<char>((1 << 20) + kSlack);
  char *end_ = buf_.data();
};

/// A file written in full or not at all. '-' is stdout; a device or pipe is written in
/// place (renaming over a device node would replace it with a plain file).
class OutputFile {
public:
  /// Opens the file; on failure prints a message naming `program` and the path, and
  /// opened() is false (the caller exits, so that other OutputFiles clean up).
  OutputFile(std::string program, std::string path);
  ~OutputFile();  // removes the temporary file unless commit() succeeded
  OutputFile(const OutputFile &) = delete;
  OutputFile &operator=(const OutputFile &) = delete;

  bool opened() const { return f_ != nullptr; }
  FILE *get() const { return f_; }
  /// Closes the file and renames it into place. `ok` is false when the caller's writes
  /// failed; then, or when closing or renaming fails, prints the error, removes the
  /// temporary file and returns false.
  bool commit(bool ok);

private:
  std::string program_, path_, tmp_;
  FILE *f_ = nullptr;
  bool viaTmp_ = false, done_ = false;
};

/// Creates folder `dir` (and its parents) if missing; on failure prints a message naming
/// `program` and the folder and returns false.
bool makeOutputDir(const std::string &program, const std::string &dir);

/// "name: k / n rows" on stderr, redrawn at most twice a second, only on a terminal.
class Progress {
public:
  Progress(std::string name, long long total);
  void tick(long long done) {
    if (enabled_ && (done & 4095) == 0) draw(done);
  }
  void finish();

private:
  void draw(long long done);
  std::string name_;
  long long total_;
  bool enabled_, drawn_ = false;
  std::chrono::steady_clock::time_point last_;
};

} // namespace recc::gen
