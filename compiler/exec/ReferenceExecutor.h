// ReferenceExecutor: runs a Graph node by node with each op's double-precision
// kernel. It is the oracle: the MLIR backend and every gradient rule are
// checked against it. RefStepFunction adapts it to the runtime's StepFunction
// (float buffers in, float buffers out), so `recc train --backend reference`
// drives the same trainer as the compiled backends.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/ops/RefTensor.h"
#include "runtime/StepFunction.h"

#include <memory>
#include <vector>

namespace recc {

class ReferenceExecutor {
public:
  explicit ReferenceExecutor(const Graph& graph);

  /// Evaluates the graph with each batch dimension bound to its stream's
  /// size in `batch` (an int binds them all). `inputs`
  /// follow Graph::inputs() order; the result follows Graph::outputs() order.
  /// Throws std::runtime_error if an input has the wrong shape.
  std::vector<RefTensor> run(const rt::BatchSizes& batch,
                             const std::vector<RefTensor>& inputs) const;

private:
  const Graph& graph_;
  std::vector<bool> live_;          ///< nodes some output depends on
  std::vector<int> lastUse_;        ///< last node reading each value (to free early)
};

/// A StepFunction over the reference executor. Keeps its own copy of the graph.
/// `batch` (when > 0) is the batch it will run at, for workingBytes(): the
/// peak of live double values (peakLiveBytes, at the largest stream batch).
std::unique_ptr<rt::StepFunction> makeReferenceStep(const Graph& graph,
                                                   const rt::BatchSizes& batch = 0);

} // namespace recc
