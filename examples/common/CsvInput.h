// examples/common/CsvInput.h: reading a headed CSV file (no quoting: the generators' own
// files and files like them) column by column, for the example tools that consume data
// (examples/damcar/walk_sample). Every error names the file, the line and the column.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace recc::gen {

struct CsvError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

class CsvInput {
public:
  /// Opens `path` and reads its header; throws CsvError naming the path.
  explicit CsvInput(std::string path);

  /// The index of column `name`; throws CsvError naming the file and what the header has.
  int column(std::string_view name) const;
  bool has(std::string_view name) const;
  const std::vector<std::string> &header() const { return header_; }

  /// Advances to the next row; false at the end. A row with the wrong number of fields
  /// throws CsvError naming its line.
  bool next();
  std::string_view field(int k) const { return fields_[k]; }
  /// Field k as an integer in [lo, hi] or a number; errors name line and column.
  long long integer(int k, long long lo, long long hi) const;
  double number(int k) const;
  long long line() const { return line_; }
  const std::string &path() const { return path_; }

private:
  [[noreturn]] void fail(int k, const std::string &why) const;
  std::string path_, text_;
  std::vector<std::string> header_;
  std::vector<std::string_view> fields_;
  size_t pos_ = 0;
  long long line_ = 1;
};

} // namespace recc::gen
