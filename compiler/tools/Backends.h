// Backends: choosing how a compiled model's step functions run — the MLIR
// JIT or the reference executor — behind the runtime's StepFactory.
#pragma once

#include "compiler/passes/CompileModel.h"
#include "runtime/TrainerApp.h"

#include <string>

namespace recc {

enum class BackendKind { Mlir, Reference };

/// Parses "mlir" / "reference"; throws std::runtime_error otherwise.
BackendKind parseBackend(const std::string& name);
const char* backendName(BackendKind kind);
/// Whether this build has the MLIR backend.
bool haveMlirBackend();

/// Step functions of `model` on `kind`; `model` must outlive the factory.
rt::StepFactory makeStepFactory(const CompiledModel& model, BackendKind kind, int threads);

} // namespace recc
