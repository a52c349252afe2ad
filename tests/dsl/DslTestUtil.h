// Helpers shared by the front-end tests: file reading and the full
// parse -> check -> build pipeline, stopping at the first stage with errors.
#pragma once

#include "compiler/passes/BuildGraph.h"
#include "dsl/Parser.h"
#include "dsl/Sema.h"

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>

namespace recc::test {

inline std::string repoPath(const std::string& rel) { return std::string(RECC_REPO_ROOT) + "/" + rel; }

inline std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Runs parse, check and build (in `mode`) on `text`; stages after the first
/// one that reports errors are skipped, as the driver does.
inline std::optional<BuiltModel> compile(const std::string& file, const std::string& text,
                                         DiagnosticEngine& diag,
                                         GraphMode mode = GraphMode::Train) {
  auto prog = parseProgram(file, text, diag);
  if (diag.hasErrors() || !checkProgram(*prog, diag)) return std::nullopt;
  return buildGraph(*prog, "", mode, diag);
}

} // namespace recc::test
