// GraphStats: measures of a graph's work, shared by `recc check` (the model
// summary) and `recc bench` (effective GFLOP/s).
#pragma once

#include "compiler/ir/Graph.h"

namespace recc {

/// Dense FLOPs of one forward pass per sample: 2·M·N·K summed over matmuls
/// with M the batch (GEMM-like work only, the measure of DESIGN.md).
double forwardFlopsPerSample(const Graph& forward);

} // namespace recc
