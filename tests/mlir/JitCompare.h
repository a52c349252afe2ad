// JitCompare: runs a graph through the reference executor (double precision)
// and through the MLIR JIT (f32) on the same random inputs and reports the
// worst mismatch. Tolerance per element: |jit - ref| <= atol + rtol * |ref|.
#pragma once

#include "compiler/ir/Graph.h"
#include "compiler/mlir/Backend.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace recc::mlirtest {

/// Range of the uniform random values fed to one operand; `integer` draws
/// whole numbers in [lo, hi] (ids, or values with many ties).
struct Range {
  double lo = -1.0, hi = 1.0;
  bool integer = false;
};

struct Tolerance {
  double atol = 1e-5, rtol = 1e-4;
};

struct Mismatch {
  bool ok = true;
  double worst = 0;    ///< worst |jit - ref| / (atol + rtol |ref|); ok when <= 1
  std::string where;   ///< "output 'name' [i]: jit X vs ref Y" of the worst element
};


/// Feeds the same random inputs to the reference executor and to `run` (which
/// gets the StepSpec-ordered buffer table) and compares all outputs.
/// `ranges` is keyed by input name (default [-1, 1]). Needs no MLIR.
Mismatch compareRun(const Graph& g, int64_t batch,
                    const std::function<void(float* const*)>& run,
                    const std::map<std::string, Range>& ranges = {}, Tolerance tol = {},
                    unsigned seed = 1);

/// compareRun on the JIT-compiled graph.
Mismatch compareWithReference(const Graph& g, int64_t batch,
                              const std::map<std::string, Range>& ranges = {},
                              const JitOptions& options = {}, Tolerance tol = {},
                              unsigned seed = 1);

/// Runs the JIT-compiled graph on `inputs` (StepSpec input order, row-major)
/// and returns its outputs.
std::vector<std::vector<float>> runJit(const Graph& g, int64_t batch,
                                       const std::vector<std::vector<float>>& inputs,
                                       const JitOptions& options = {});

/// One op applied to fresh inputs x0, x1, ... of the given shapes; output "y".
/// With `withGrad`, the graph also gets loss = sum(y * r) for a random r,
/// is differentiated, and its gradients become outputs. Inputs whose Range has
/// lo == hi stay constants (e.g. dropout seeds) and are not differentiated.
Graph opGraph(OpKind kind, const std::vector<Shape>& shapes, const Attrs& attrs, bool withGrad,
              const std::vector<bool>& differentiable = {});

}  // namespace recc::mlirtest
