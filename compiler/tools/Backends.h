// Backends: choosing how a compiled model's step functions run — the MLIR
// JIT or the reference executor — behind the runtime's StepFactory.
#pragma once

#include "compiler/passes/CompileModel.h"
#include "compiler/passes/Towers.h"
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

/// The tower step functions of retrieval on `kind`, compiled for `batch`
/// rows; `towers` must outlive the factory.
rt::TowerFactory makeTowerFactory(const Towers& towers, BackendKind kind, int threads,
                                  int64_t batch);

} // namespace recc
