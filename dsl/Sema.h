// Sema: name resolution and the semantic checks that need no shapes. Shape
// checks need the op registry and happen in compiler/passes/BuildGraph.
//
// Algorithm:
//   1. Declare the top-level tables and blocks; check their declarations.
//   2. Check each top-level block body (it sees its parameters, its own
//      assignments, and top-level tables and blocks).
//   3. For each model: declare its inputs, labels, tables and blocks (these are
//      visible throughout the model, whatever their position), check each
//      model-level block, then walk the statements in order — a value must be
//      assigned before it is used — checking every expression against the
//      builtin signatures (dsl/Builtins.h) and the kinds of the names it uses
//      (tensor, number, table, id input, block).
//   4. Check outputs, metrics and train settings, and that there is a loss.
#pragma once

#include "dsl/AST.h"
#include "dsl/Diagnostics.h"

namespace recc {

/// Largest width the language accepts for a layer or an embedding.
inline constexpr int64_t kMaxWidth = int64_t(1) << 24;
/// Largest id vocabulary or table size (ids travel as doubles in constants).
inline constexpr int64_t kMaxRows = int64_t(1) << 53;

/// Checks `prog`, reporting every problem to `diag`; true if there were none.
bool checkProgram(const ast::Program& prog, DiagnosticEngine& diag);

} // namespace recc
