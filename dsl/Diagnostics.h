// Diagnostics: one engine that prints every error clang-style
//   file:line:col: error: message
//     <the source line>
//         ^
// and counts errors so that a stage can keep going (the parser resumes at the
// next statement) and the driver can exit non-zero at the end. What an error
// echoes is capped: a long line is shown as a window of at most 160 bytes
// around the caret, marked "..." where cut (never inside a UTF-8 character),
// and a message is cut after 4096 bytes, so output stays proportional to the
// number of errors, not to the size of the input.
#pragma once

#include "dsl/SourceLoc.h"

#include <iosfwd>
#include <map>
#include <string>
#include <vector>

namespace recc {

enum class Severity { Error, Warning, Note };

struct Diagnostic {
  Severity severity;
  SourceLoc loc;
  std::string message;
};

/// Collects and prints diagnostics. Source text is registered per file so the
/// engine can print the offending line with a caret under the column.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(std::ostream* out = nullptr);

  /// Makes `text` the contents of `file` for caret printing.
  void addSource(const std::string& file, std::string text);

  void error(const SourceLoc& loc, const std::string& message);
  void warning(const SourceLoc& loc, const std::string& message);
  void note(const SourceLoc& loc, const std::string& message);

  int errorCount() const { return errors_; }
  bool hasErrors() const { return errors_ > 0; }
  const std::vector<Diagnostic>& diagnostics() const { return diags_; }

  /// The text of the diagnostics so far, as printed (used by tests).
  std::string render() const;

private:
  void report(Severity severity, const SourceLoc& loc, const std::string& message);
  std::string format(const Diagnostic& d) const;

  std::ostream* out_;
  std::map<std::string, std::vector<std::string>> lines_;
  std::vector<Diagnostic> diags_;
  int errors_ = 0;
};

/// Thrown by stages that cannot continue after reporting (the error is
/// already in the engine); the driver catches it and exits with code 1.
struct CompileError {
  std::string message;
};

} // namespace recc
