// Executable: what in a graph cannot run yet. A model that uses program-level
// features the runtime does not feed yet (model state, schedules, second
// input streams) can be checked and printed, but every command that would run
// it must refuse it up front with a message naming what is missing: see
// checkExecutable in CompileModel.h, which is how the driver asks. (Every op
// runs: each has a reference kernel and an MLIR lowering.)
#pragma once

#include "compiler/ir/Graph.h"

#include <vector>

namespace recc {

/// The input bindings of `graph` that the runtime cannot feed yet: inputs of
/// a second input stream (batch dimension B1, B2, ...), in binding order.
/// (State and Progress inputs are fed: runtime/StateStore.h, StepRunner.h.)
std::vector<Binding> unfedInputs(const Graph& graph);

} // namespace recc
