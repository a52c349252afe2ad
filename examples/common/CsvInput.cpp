// examples/common/CsvInput.cpp: the whole file in memory, fields as views into it.
#include "examples/common/CsvInput.h"

#include <charconv>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace recc::gen {

namespace {
void splitInto(std::string_view line, std::vector<std::string_view> &out) {
  out.clear();
  size_t start = 0;
  for (;;) {
    size_t comma = line.find(',', start);
    out.push_back(line.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
}
} // namespace

CsvInput::CsvInput(std::string path) : path_(std::move(path)) {
  std::ifstream in(path_, std::ios::binary);
  if (!in) throw CsvError(path_ + ": cannot open");
  std::ostringstream all;
  all << in.rdbuf();
  text_ = all.str();
  size_t end = text_.find('\n');
  std::string_view head(text_.data(), end == std::string::npos ? text_.size() : end);
  if (!head.empty() && head.back() == '\r') head.remove_suffix(1);
  if (head.empty()) throw CsvError(path_ + ": empty file, expected a header row");
  std::vector<std::string_view> names;
  splitInto(head, names);
  for (auto n : names) header_.emplace_back(n);
  pos_ = end == std::string::npos ? text_.size() : end + 1;
}

bool CsvInput::has(std::string_view name) const {
  for (const auto &h : header_)
    if (h == name) return true;
  return false;
}

int CsvInput::column(std::string_view name) const {
  for (size_t k = 0; k < header_.size(); ++k)
    if (header_[k] == name) return int(k);
  std::string have;
  for (const auto &h : header_) have += (have.empty() ? "" : ", ") + h;
  throw CsvError(path_ + ": no column '" + std::string(name) + "' (the header has: " + have + ")");
}

bool CsvInput::next() {
  while (pos_ < text_.size()) {
    size_t end = text_.find('\n', pos_);
    if (end == std::string::npos) end = text_.size();
    std::string_view row(text_.data() + pos_, end - pos_);
    pos_ = end + 1;
    ++line_;
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.empty()) continue;
    splitInto(row, fields_);
    if (fields_.size() != header_.size())
      throw CsvError(path_ + ":" + std::to_string(line_) + ": " + std::to_string(fields_.size()) +
                     " fields, but the header has " + std::to_string(header_.size()));
    return true;
  }
  return false;
}

void CsvInput::fail(int k, const std::string &why) const {
  throw CsvError(path_ + ":" + std::to_string(line_) + ": column '" + header_[k] + "': " + why);
}

long long CsvInput::integer(int k, long long lo, long long hi) const {
  std::string_view s = fields_[k];
  long long v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || s.empty())
    fail(k, "'" + std::string(s) + "' is not an integer");
  if (v < lo || v > hi)
    fail(k, std::to_string(v) + " is outside [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
  return v;
}

double CsvInput::number(int k) const {
  std::string s(fields_[k]);
  char *end = nullptr;
  double v = std::strtod(s.c_str(), &end);
  if (s.empty() || *end != 0) fail(k, "'" + s + "' is not a number");
  return v;
}

} // namespace recc::gen
