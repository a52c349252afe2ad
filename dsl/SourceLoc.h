// SourceLoc: a position in a .rec file. Every token, AST node and IR node carries
// one so that any diagnostic, at any stage, can point at the user's source.
#pragma once

#include <string>

namespace recc {

/// A 1-based line/column position in a named file. A default-constructed
/// location is "unknown" (line 0) and prints as the file name alone.
struct SourceLoc {
  std::string file;
  int line = 0;
  int col = 0;

  bool known() const { return line > 0; }
  std::string str() const {
    if (!known()) return file.empty() ? "<unknown>" : file;
    return file + ":" + std::to_string(line) + ":" + std::to_string(col);
  }
};

} // namespace recc
