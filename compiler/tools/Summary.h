// Summary: the human-readable overview `recc check` prints for a model.
#pragma once

#include "compiler/passes/CompileModel.h"

#include "runtime/MemoryCheck.h"

#include <iosfwd>
#include <vector>

namespace recc {

/// Prints the summary, ending with the memory training would need at the
/// model's batch size (estimateMemory).
void printSummary(const CompiledModel& model, std::ostream& os);

/// The steps' memory at the model's batch size as the up-front check counts
/// it, with each step's activations estimated from its graph (f32 values,
/// peakLiveBytes) since nothing is compiled yet.
std::vector<rt::StepMemory> estimateStepMemory(const CompiledModel& model);

} // namespace recc
