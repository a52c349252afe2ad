// Diagnostics engine: formats file:line:col: severity: message plus the source
// line and a caret, the way clang and MLIR's SourceMgrDiagnosticHandler do.
#include "dsl/Diagnostics.h"

#include <algorithm>
#include <ostream>
#include <string_view>
#include <sstream>

namespace recc {

DiagnosticEngine::DiagnosticEngine(std::ostream* out) : out_(out) {}

void DiagnosticEngine::addSource(const std::string& file, std::string text) {
  std::vector<std::string> lines;
  std::string line;
  std::istringstream in(text);
  while (std::getline(in, line)) lines.push_back(line);
  lines_[file] = std::move(lines);
}

void DiagnosticEngine::error(const SourceLoc& loc, const std::string& message) {
  report(Severity::Error, loc, message);
}
void DiagnosticEngine::warning(const SourceLoc& loc, const std::string& message) {
  report(Severity::Warning, loc, message);
}
void DiagnosticEngine::note(const SourceLoc& loc, const std::string& message) {
  report(Severity::Note, loc, message);
}

void DiagnosticEngine::report(Severity severity, const SourceLoc& loc,
                              const std::string& message) {
  diags_.push_back({severity, loc, message});
  if (severity == Severity::Error) ++errors_;
  if (out_) *out_ << format(diags_.back()) << std::flush;
}

namespace {

/// Most bytes of a source line echoed under a diagnostic, and of a message:
/// an error on a 50 MB line must not print the 50 MB (and 20 such errors
/// must not print a gigabyte).
constexpr size_t kEchoWidth = 160;
constexpr size_t kMaxMessage = 4096;
constexpr const char* kEllipsis = "...";

bool isContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

/// `pos` moved back to the start of the UTF-8 character it falls in.
size_t charStart(std::string_view text, size_t pos) {
  while (pos > 0 && pos < text.size() && isContinuation(text[pos])) --pos;
  return pos;
}

/// `text` cut to at most `max` bytes on a character boundary, marked "...".
std::string clip(std::string_view text, size_t max) {
  if (text.size() <= max) return std::string(text);
  return std::string(text.substr(0, charStart(text, max))) + kEllipsis;
}

/// The source line, clipped to a window around the caret, and the caret line
/// under it. Tabs are kept and a multi-byte character takes one column, so
/// the caret stays under its character.
void echoLine(std::ostream& os, std::string_view text, size_t caret) {
  size_t begin = 0, end = text.size();
  if (text.size() > kEchoWidth) {
    begin = caret > kEchoWidth / 2 ? std::min(caret - kEchoWidth / 2, text.size() - kEchoWidth) : 0;
    begin = charStart(text, begin);
    end = charStart(text, std::min(text.size(), begin + kEchoWidth));
  }
  std::string lead = begin > 0 ? kEllipsis : "";
  os << "  " << lead << text.substr(begin, end - begin) << (end < text.size() ? kEllipsis : "")
     << "\n  " << std::string(lead.size(), ' ');
  for (size_t i = begin; i < caret && i < end; ++i)
    if (!isContinuation(text[i])) os << (text[i] == '\t' ? '\t' : ' ');
  os << "^\n";
}

} // namespace

std::string DiagnosticEngine::format(const Diagnostic& d) const {
  static const char* kNames[] = {"error", "warning", "note"};
  std::ostringstream os;
  os << d.loc.str() << ": " << kNames[static_cast<int>(d.severity)] << ": "
     << clip(d.message, kMaxMessage) << "\n";
  auto it = lines_.find(d.loc.file);
  if (d.loc.known() && it != lines_.end() && d.loc.line <= (int)it->second.size())
    echoLine(os, it->second[d.loc.line - 1], static_cast<size_t>(std::max(d.loc.col, 1) - 1));
  return os.str();
}

std::string DiagnosticEngine::render() const {
  std::string all;
  for (const auto& d : diags_) all += format(d);
  return all;
}

} // namespace recc
