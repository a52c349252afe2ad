// LineSource: the lines of a data file, whole or a few at a time.
//
// splitLines cuts a file's text (already in memory) into its non-blank lines;
// LineSource reads one or more files (plain, gzip or zstd: TextSource.h) block
// by block and hands out their data lines a chunk at a time, which is how
// DataChunks (CsvReader.h) streams files larger than memory. Both drop the
// '\r' of CRLF endings and skip blank lines; line numbers count every line.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

class TextSource;

/// One non-blank line of a data file.
struct Line {
  std::string_view text;
  int64_t number;  // 1-based line number in the file
  int file = 0;    // index of the file among those read together
};

/// Whether `line` has more than blanks (blank lines are skipped).
bool isContentLine(std::string_view line);

/// Splits `text` (of file `file`) into its non-blank lines.
std::vector<Line> splitLines(std::string_view text, int file = 0);

class LineSource {
public:
  /// `firstLine` gets each file's first non-blank line and says whether it is
  /// data (true) or a header to drop (false); `headerless` only words the
  /// error for an empty file.
  LineSource(std::vector<std::string> files, std::function<bool(const Line&)> firstLine,
             bool headerless);
  ~LineSource();

  /// Copies up to `rows` data lines into `text` and returns them (pointing
  /// into `text`); empty when every file is read.
  std::vector<Line> take(int64_t rows, std::string& text);

  const std::vector<std::string>& files() const { return Files; }

private:
  bool rawLine(std::string_view& line);
  bool openNext();

  static constexpr size_t kBlock = 1 << 20;
  std::vector<std::string> Files;
  std::function<bool(const Line&)> FirstLine;
  bool Headerless;
  int File = -1;                     // index in Files of the file being read
  std::unique_ptr<TextSource> Source;
  std::string Buffer;                // decompressed text; Buffer[Pos, end) unread
  size_t Pos = 0;
  bool SourceDone = false;
  int64_t LineNumber = 0;            // of the last line taken from the file
  bool HeaderSeen = false;
};

}  // namespace recc::rt
