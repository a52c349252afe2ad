// Aot: `recc compile` — a standalone trainer executable from a model. The
// object code of both step functions, the plan as an embedded JSON string,
// the runtime library and runtime/TrainerMain.cpp are linked by the system C++
// compiler; the result needs no recc files to run.
#pragma once

#include "compiler/passes/CompileModel.h"

#include <string>

namespace recc {

/// Writes the trainer to `output`; returns the exit code (errors printed).
/// With `ranks` > 1 its train step runs each rank's slice of the batch under
/// `mpirun -np ranks` (docs/distributed.md).
int compileTrainer(const CompiledModel& model, const std::string& output, int threads,
                   int ranks = 1);

} // namespace recc
