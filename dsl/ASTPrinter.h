// ASTPrinter: an indented dump of the AST with line:col on every node, used by
// `recc ... -emit=ast` and by the golden tests in tests/dsl/.
#pragma once

#include "dsl/AST.h"

#include <iosfwd>

namespace recc {

/// Prints `prog` one node per line, children indented by two spaces, each
/// node followed by `@line:col` (the file name is left out so golden files do
/// not depend on where the test runs).
void printAst(const ast::Program& prog, std::ostream& os);

} // namespace recc
