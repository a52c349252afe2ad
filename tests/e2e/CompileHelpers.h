// tests/e2e/CompileHelpers.h: what the end-to-end tests that compile a model from source
// share: the model compiled, and its step on either backend.
#pragma once

#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/mlir/Backend.h"
#include "compiler/passes/CompileModel.h"

#include <iostream>
#include <memory>
#include <stdexcept>
#include <string>

namespace recc::e2etest {

enum class Backend { Reference, Mlir };

/// The step of `g` on backend `b`; the MLIR one compiled for `batch` (one
/// size, or one per input stream).
inline std::unique_ptr<rt::StepFunction> stepFor(const Graph& g, const rt::BatchSizes& batch,
                                                 Backend b) {
  if (b == Backend::Reference) return makeReferenceStep(g);
  return compileJit(g, batch, {});
}

/// The model of `src` (file name "t.rec"), compiled; throws with the
/// rendered diagnostics otherwise.
inline CompiledModel compile(const std::string& src) {
  DiagnosticEngine diag(&std::cerr);
  auto m = compileModelSource("t.rec", src, "", diag);
  if (!m) throw std::runtime_error(diag.render());
  return std::move(*m);
}

} // namespace recc::e2etest
