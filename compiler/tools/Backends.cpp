// Backends: see the header. The MLIR backend is optional at build time.
#include "compiler/tools/Backends.h"

#include "compiler/exec/ReferenceExecutor.h"
#ifdef RECC_HAVE_MLIR
#include "compiler/mlir/Backend.h"
#endif

#include <stdexcept>

namespace recc {

BackendKind parseBackend(const std::string& name) {
  if (name == "mlir") return BackendKind::Mlir;
  if (name == "reference") return BackendKind::Reference;
  throw std::runtime_error("unknown backend '" + name + "' (expected 'mlir' or 'reference')");
}

const char* backendName(BackendKind kind) {
  return kind == BackendKind::Mlir ? "mlir" : "reference";
}

bool haveMlirBackend() {
#ifdef RECC_HAVE_MLIR
  return true;
#else
  return false;
#endif
}

rt::StepFactory makeStepFactory(const CompiledModel& model, BackendKind kind, int threads) {
  return [&model, kind, threads](const rt::ModelPlan& plan,
                                 bool train) -> std::unique_ptr<rt::StepFunction> {
    const Graph& graph = train ? model.trainGraph : model.evalGraph;
    if (kind == BackendKind::Reference) return makeReferenceStep(graph, plan.batchSize);
#ifdef RECC_HAVE_MLIR
    CodegenOptions options;
    options.threads = threads <= 0 ? 2 : threads;
    return compileJit(graph, plan.batchSize, options);
#else
    (void)plan;
    (void)threads;
    throw std::runtime_error("this recc was built without the MLIR backend; use "
                             "--backend reference");
#endif
  };
}

} // namespace recc
