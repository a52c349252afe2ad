// ShapeInference: fills Node::shape for every node from its op's shape rule.
//
// Algorithm:
//   1. Walk nodes in order (the graph is topologically ordered by construction).
//   2. Apply the op's rule to the input shapes.
//   3. On a rule failure, report "<loc>: error: <message>" and mark the node's
//      shape unknown; nodes depending on it are skipped silently, so one user
//      error yields one diagnostic.
#pragma once

#include "compiler/ir/Graph.h"
#include "dsl/Diagnostics.h"

namespace recc {

/// Returns false if any shape rule failed (errors are in `diag`).
bool inferShapes(Graph& graph, DiagnosticEngine& diag);

} // namespace recc
