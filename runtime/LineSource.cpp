// LineSource: see LineSource.h.
#include "runtime/LineSource.h"

#include "runtime/Error.h"
#include "runtime/TextSource.h"

namespace recc::rt {

bool isContentLine(std::string_view line) {
  return line.find_first_not_of(" \t") != std::string_view::npos;
}

std::vector<Line> splitLines(std::string_view text, int file) {
  std::vector<Line> lines;
  int64_t number = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos)
      end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    ++number;
    if (isContentLine(line))
      lines.push_back({line, number, file});
    pos = end + 1;
  }
  return lines;
}

LineSource::LineSource(std::vector<std::string> files, std::function<bool(const Line&)> firstLine,
                       bool headerless)
    : Files(std::move(files)), FirstLine(std::move(firstLine)), Headerless(headerless) {}

LineSource::~LineSource() = default;

/// The next line of the current file (without its '\n'), valid until the next
/// call; false at the end of the file.
bool LineSource::rawLine(std::string_view& line) {
  for (;;) {
    const size_t nl = Buffer.find('\n', Pos);
    if (nl != std::string::npos || (SourceDone && Pos < Buffer.size())) {
      const size_t end = nl == std::string::npos ? Buffer.size() : nl;
      line = std::string_view(Buffer).substr(Pos, end - Pos);
      Pos = end + (nl == std::string::npos ? 0 : 1);
      return true;
    }
    if (SourceDone)
      return false;
    Buffer.erase(0, Pos);
    Pos = 0;
    const size_t old = Buffer.size();
    Buffer.resize(old + kBlock);
    const size_t n = Source->read(Buffer.data() + old, kBlock);
    Buffer.resize(old + n);
    SourceDone = n == 0;
  }
}

/// Opens the next file; false when there is none.
bool LineSource::openNext() {
  if (++File >= static_cast<int>(Files.size()))
    return false;
  Source = std::make_unique<TextSource>(Files[File], "data file");
  Buffer.clear();
  Pos = 0;
  SourceDone = false;
  LineNumber = 0;
  HeaderSeen = false;
  return true;
}

std::vector<Line> LineSource::take(int64_t rows, std::string& text) {
  struct Span { size_t at, size; int64_t number; int file; };
  std::vector<Span> spans;
  while (static_cast<int64_t>(spans.size()) < rows) {
    if (!Source && !openNext())
      break;
    std::string_view line;
    if (!rawLine(line)) {
      if (!HeaderSeen)
        fail("{}: empty file ({})", Files[File],
             Headerless ? "no data rows" : "expected a header row");
      Source.reset();
      continue;
    }
    ++LineNumber;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (!isContentLine(line))
      continue;
    if (!HeaderSeen) {
      HeaderSeen = true;
      if (!FirstLine({line, LineNumber, File}))
        continue;
    }
    spans.push_back({text.size(), line.size(), LineNumber, File});
    text.append(line);
  }
  std::vector<Line> lines;
  lines.reserve(spans.size());
  for (const Span& s : spans)
    lines.push_back({std::string_view(text).substr(s.at, s.size), s.number, s.file});
  return lines;
}

}  // namespace recc::rt
