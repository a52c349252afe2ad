// Diagnostics engine: formats file:line:col: severity: message plus the source
// line and a caret, the way clang and MLIR's SourceMgrDiagnosticHandler do.
#include "dsl/Diagnostics.h"

#include <ostream>
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

std::string DiagnosticEngine::format(const Diagnostic& d) const {
  static const char* kNames[] = {"error", "warning", "note"};
  std::ostringstream os;
  os << d.loc.str() << ": " << kNames[static_cast<int>(d.severity)] << ": " << d.message
     << "\n";
  auto it = lines_.find(d.loc.file);
  if (d.loc.known() && it != lines_.end() && d.loc.line <= (int)it->second.size()) {
    const std::string& text = it->second[d.loc.line - 1];
    os << "  " << text << "\n  ";
    // Keep tabs so the caret lines up under tab-indented source.
    for (int i = 1; i < d.loc.col && i - 1 < (int)text.size(); ++i)
      os << (text[i - 1] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  return os.str();
}

std::string DiagnosticEngine::render() const {
  std::string all;
  for (const auto& d : diags_) all += format(d);
  return all;
}

} // namespace recc
