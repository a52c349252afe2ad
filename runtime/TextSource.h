// TextSource: the text of one data file, read in blocks with read(2) and
// decompressed on the fly when it is gzip or zstd. The format is decided by
// the file's first bytes (gzip 1f 8b, zstd 28 b5 2f fd), not by its name, so
// `data.csv.gz`, `data.gz` and a pipe of compressed bytes all work, and a
// plain file named `.gz` is read as it is. Concatenated gzip members and zstd
// frames are read one after the other, as `zcat` and `zstdcat` do. A stream
// that ends early is an error naming the file (a cut-off download is not
// silently a shorter data set). Like FileRead.h, never mmap: pipes work.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

namespace recc::rt {

class TextSource {
public:
  enum class Format { Plain, Gzip, Zstd };

  /// Opens `path`, described as `what` in errors ("data file"). Throws a
  /// RuntimeError if it cannot be opened or is a directory.
  TextSource(const std::string& path, const char* what = "data file");
  ~TextSource();
  TextSource(const TextSource&) = delete;
  TextSource& operator=(const TextSource&) = delete;

  /// Reads up to `n` bytes of (decompressed) text into `out`; 0 at the end.
  /// Throws a RuntimeError naming the file on a read or decompression error.
  size_t read(char* out, size_t n);

  Format format() const;
  const std::string& path() const;
  /// The file's size in bytes when it is a regular file, else -1 (a hint).
  long long fileSize() const;

private:
  struct Impl;
  std::unique_ptr<Impl> P;
};

/// The whole decompressed text of `path` (see FileRead.h's readWholeFile,
/// which this matches on plain files).
std::string readWholeText(const std::string& path, const char* what = "data file");

/// "plain", "gzip" or "zstd", for messages and benchmarks.
const char* formatName(TextSource::Format format);

} // namespace recc::rt
