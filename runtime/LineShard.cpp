// LineShard: see LineShard.h.
#include "runtime/LineShard.h"

#include "runtime/Error.h"
#include "runtime/TextSource.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace recc::rt {
namespace {

constexpr int64_t kBlock = 64 * 1024;

/// A plain regular file read at offsets (pread), closed on every path out.
class PlainFile {
public:
  explicit PlainFile(const std::string& path) : Path(path) {
    Fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (Fd < 0)
      fail("{}: cannot open data file: {}", path, std::strerror(errno));
    struct stat st{};
    if (::fstat(Fd, &st) != 0 || !S_ISREG(st.st_mode))
      Size = -1;
    else
      Size = static_cast<int64_t>(st.st_size);
  }
  ~PlainFile() { ::close(Fd); }
  PlainFile(const PlainFile&) = delete;
  PlainFile& operator=(const PlainFile&) = delete;

  int64_t size() const { return Size; }

  /// Appends bytes [offset, offset + n) (fewer at the end of the file).
  void append(int64_t offset, int64_t n, std::string& out) const {
    const size_t old = out.size();
    out.resize(old + size_t(n));
    int64_t got = 0;
    while (got < n) {
      ssize_t r = ::pread(Fd, out.data() + old + got, size_t(n - got), offset + got);
      if (r < 0 && errno == EINTR)
        continue;
      if (r < 0)
        fail("{}: cannot read data file: {}", Path, std::strerror(errno));
      if (r == 0)
        break;
      got += r;
    }
    out.resize(old + size_t(got));
  }

private:
  std::string Path;
  int Fd = -1;
  int64_t Size = -1;
};

/// Whether `path` is a plain (uncompressed) regular file.
bool isPlainFile(const std::string& path) {
  TextSource source(path, "data file");
  return source.format() == TextSource::Format::Plain && source.fileSize() >= 0;
}

/// Where the data of `file` starts: after its first non-blank line, unless
/// `firstLine` says that line is data.
int64_t dataStart(const PlainFile& file, int index, const std::string& path,
                  const std::function<bool(const Line&)>& firstLine, bool headerless) {
  std::string head;
  int64_t lineStart = 0, number = 0;
  for (;;) {
    size_t nl = head.find('\n', size_t(lineStart));
    if (nl == std::string::npos && int64_t(head.size()) < file.size()) {
      file.append(int64_t(head.size()), kBlock, head);
      continue;
    }
    if (nl == std::string::npos && lineStart >= int64_t(head.size()))
      fail("{}: empty file ({})", path, headerless ? "no data rows" : "expected a header row");
    const size_t end = nl == std::string::npos ? head.size() : nl;
    std::string_view line = std::string_view(head).substr(size_t(lineStart), end - size_t(lineStart));
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    ++number;
    if (isContentLine(line))
      return firstLine({line, number, index}) ? lineStart : int64_t(end) + 1;
    lineStart = int64_t(end) + 1;
  }
}

/// The text of the lines of `file` that start in [lo, hi), lo >= data, and
/// where it starts in the file.
std::pair<std::string, int64_t> linesStartingIn(const PlainFile& file, int64_t data, int64_t lo,
                                                int64_t hi) {
  // The byte before lo says whether a line starts at lo.
  const int64_t from = lo > data ? lo - 1 : lo;
  std::string text;
  file.append(from, hi - from, text);
  size_t start = 0;
  if (from < lo) {
    const size_t nl = text.find('\n');
    start = nl == std::string::npos ? text.size() : nl + 1;
  }
  if (start >= text.size())
    return {std::string(), hi};
  // The last line may run past hi: read on to its end.
  for (int64_t at = hi; text.back() != '\n' && at < file.size(); at += kBlock) {
    const size_t old = text.size();
    file.append(at, kBlock, text);
    const size_t nl = text.find('\n', old);
    if (nl != std::string::npos) {
      text.resize(nl + 1);
      break;
    }
  }
  return {text.substr(start), from + int64_t(start)};
}

} // namespace

std::optional<LineShard> readLineShard(const std::vector<std::string>& paths, int shard,
                                       int shards, const std::function<bool(const Line&)>& firstLine,
                                       bool headerless) {
  if (!std::all_of(paths.begin(), paths.end(), isPlainFile))
    return std::nullopt;
  // Every file's data bytes, end to end: [dataOffset[i], dataOffset[i+1]).
  std::vector<std::unique_ptr<PlainFile>> files;
  std::vector<int64_t> start, dataOffset{0};
  for (size_t i = 0; i < paths.size(); ++i) {
    files.push_back(std::make_unique<PlainFile>(paths[i]));
    start.push_back(dataStart(*files.back(), int(i), paths[i], firstLine, headerless));
    dataOffset.push_back(dataOffset.back() + std::max<int64_t>(files.back()->size() - start[i], 0));
  }
  const int64_t total = dataOffset.back();
  const int64_t lo = total * shard / shards, hi = total * (shard + 1) / shards;
  LineShard out;
  out.texts.reserve(paths.size());  // never reallocated: the lines point into the texts
  for (size_t i = 0; i < paths.size(); ++i) {
    const int64_t a = std::max(lo, dataOffset[i]), b = std::min(hi, dataOffset[i + 1]);
    if (a >= b) {
      out.texts.emplace_back();
      out.textStart.push_back(0);
      continue;
    }
    auto [text, at] = linesStartingIn(*files[i], start[i], a - dataOffset[i] + start[i],
                                      b - dataOffset[i] + start[i]);
    out.texts.push_back(std::move(text));
    out.textStart.push_back(at);
    std::vector<Line> lines = splitLines(out.texts.back(), int(i));
    out.lines.insert(out.lines.end(), lines.begin(), lines.end());
  }
  return out;
}

int64_t lineNumberAt(const std::string& path, int64_t offset) {
  PlainFile file(path);
  int64_t newlines = 0;
  std::string block;
  for (int64_t at = 0; at < offset; at += kBlock) {
    block.clear();
    file.append(at, std::min(kBlock, offset - at), block);
    if (block.empty())
      break;
    newlines += std::count(block.begin(), block.end(), '\n');
  }
  return newlines + 1;
}

} // namespace recc::rt
