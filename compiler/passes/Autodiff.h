// Autodiff: reverse-mode differentiation as a graph-to-graph transformation.
// The backward graph is built from ordinary ops and appended to the same Graph,
// so shape inference, printers and both executors serve it unchanged.
//
// Algorithm:
//   1. Find the scalar Loss output; the differentiable leaves are the Param and
//      EmbeddingRows inputs that are not frozen (attr frozen=1).
//   2. Keep the nodes that both depend on a leaf and feed the loss.
//   3. Seed d(loss) = 1 and walk those nodes in reverse order, calling each
//      op's gradient rule on its accumulated output gradient; gradients of a
//      value used several times are summed with `add`. Shape-only ops
//      (OpDef::shapeOnly) pass no gradient: such graphs cannot train anyway.
//   4. Bind each leaf's gradient as a Gradient output named after the leaf
//      (zeros when the loss does not depend on it).
#pragma once

#include "compiler/ir/Graph.h"

namespace recc {

/// Appends the backward pass. Requires inferred shapes and one Loss output.
void differentiate(Graph& graph);

} // namespace recc
