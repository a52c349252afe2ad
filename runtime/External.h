// External: runs a packaged program recc needs (gnuplot and Graphviz's dot,
// which draw a picture from a script on their standard input; binutils' ld
// and objcopy, which merge compiled objects; the C++ compiler, which links a
// trainer for `recc compile`). A program that is not installed
// is a clear error naming it and its Debian package, not a shell's "command
// not found".
#pragma once

#include <string>
#include <vector>

namespace recc::rt {

/// A program recc runs and the Debian package that installs it.
struct ExternalTool {
  std::string program;  ///< looked up on PATH, e.g. "dot"
  std::string package;  ///< e.g. "graphviz"
  std::string purpose;  ///< what needs it, e.g. "recc graph --svg"
};

/// Runs `tool.program args...` with `input` on its standard input (its
/// output and errors go to ours). Throws a RuntimeError when it is not
/// installed, or when it fails (naming its exit status).
void runExternal(const ExternalTool& tool, const std::vector<std::string>& args,
                 const std::string& input);

/// Throws a RuntimeError unless `path` exists and is not empty; `what` names
/// the program that should have written it.
void checkWritten(const std::string& path, const std::string& what);

} // namespace recc::rt
