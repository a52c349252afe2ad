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
//      value used several times are summed with `add`. Ops marked
//      noGradient pass nothing back; a gradient reaching an op marked
//      notDifferentiable (top_k) is an error: AutodiffError at its location.
//   4. Bind each leaf's gradient as a Gradient output named after the leaf
//      (zeros when the loss does not depend on it).
#pragma once

#include "compiler/ir/Graph.h"

#include <stdexcept>

namespace recc {

/// The loss depends, through a differentiable path, on an op that has no
/// gradient (OpDef::notDifferentiable); `loc` is that op's node.
struct AutodiffError : std::runtime_error {
  AutodiffError(SourceLoc l, const std::string& message)
      : std::runtime_error(message), loc(std::move(l)) {}
  SourceLoc loc;
};

/// Appends the backward pass. Requires inferred shapes and one Loss output.
/// Throws AutodiffError (leaving the graph half-built) when the loss cannot
/// be differentiated.
void differentiate(Graph& graph);

} // namespace recc
