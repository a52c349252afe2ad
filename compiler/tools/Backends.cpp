// Backends: see the header. The MLIR backend is optional at build time.
#include "compiler/tools/Backends.h"

#include "compiler/exec/ReferenceExecutor.h"
#include "runtime/Cluster.h"
#ifdef RECC_HAVE_MLIR
#include "compiler/mlir/Backend.h"
#endif

#include <stdexcept>

namespace recc {

/// One step function of `graph` on `kind`.
static std::unique_ptr<rt::StepFunction> makeStep(const Graph& graph, BackendKind kind,
                                                  int threads, const rt::BatchSizes& batch) {
  if (kind == BackendKind::Reference) return makeReferenceStep(graph, batch);
#ifdef RECC_HAVE_MLIR
  CodegenOptions options;
  options.threads = threads <= 0 ? 2 : threads;
  options.notifyGradients = rt::Cluster::distributed();  // see Backend.h
  return compileJit(graph, batch, options);
#else
  (void)threads;
  throw std::runtime_error("this recc was built without the MLIR backend; use "
                           "--backend reference");
#endif
}

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
    // The train step draws a batch of each stream (its own size); the eval
    // step one batch that every stream reads.
    if (train) return makeStep(model.trainGraph, kind, threads, rt::trainBatches(plan));
    return makeStep(model.evalGraph, kind, threads, plan.batchSize);
  };
}

rt::TowerFactory makeTowerFactory(const Towers& towers, BackendKind kind, int threads,
                                  int64_t batch) {
  return [&towers, kind, threads, batch](bool user) {
    return makeStep(user ? towers.user : towers.item, kind, threads, batch);
  };
}

} // namespace recc
