// Summary: the human-readable overview `recc check` prints for a model.
#pragma once

#include "compiler/passes/CompileModel.h"

#include <iosfwd>

namespace recc {

void printSummary(const CompiledModel& model, std::ostream& os);

/// Dense FLOPs of one forward pass per sample: 2·M·N·K summed over matmuls
/// with M the batch (GEMM-like work only, the measure of DESIGN.md).
double forwardFlopsPerSample(const Graph& forward);

} // namespace recc
