// GraphStats: measures of a graph's work, shared by `recc check` (the model
// summary) and `recc bench` (effective GFLOP/s).
#pragma once

#include "compiler/ir/Graph.h"

namespace recc {

/// Dense FLOPs of one forward pass per sample: 2·M·N·K summed over matmuls
/// with M the batch (GEMM-like work only, the measure of DESIGN.md).
double forwardFlopsPerSample(const Graph& forward);

/// The most bytes of node values live at once when `g` runs node by node in
/// order at `batch` rows, each value freed after its last reader (as the
/// reference executor does), with `elementBytes` per element: graph inputs
/// and outputs are live throughout. The estimate of a step's activations
/// that `recc check` and the up-front memory check use before a backend
/// compiles the step. Throws std::overflow_error naming the shape when a
/// size overflows 64 bits.
int64_t peakLiveBytes(const Graph& g, int64_t batch, int64_t elementBytes);

} // namespace recc
