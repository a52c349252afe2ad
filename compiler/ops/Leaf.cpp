// Leaf ops: graph inputs fed by the runtime, dense parameters, and constants.
// Inputs and params carry their shape as an attribute; the executor binds
// their values, so their kernels only fill constants.
#include "compiler/ops/OpHelpers.h"

namespace recc::ophelpers {

static Shape shapeAttr(const ShapeCtx& c) { return Shape(c.attrs.getInts("shape")); }

static void evalBound(const EvalCtx&) {
  // Input and Param values are bound by the executor before evaluation.
}

static void evalConstant(const EvalCtx& c) {
  double v = c.attrs.getFloat("value");
  for (auto& x : c.out.data) x = v;
}

std::vector<OpDef> leafOps() {
  return {
      {.kind = OpKind::Input, .infer = shapeAttr, .eval = evalBound, .noGradient = true},
      {.kind = OpKind::Param, .infer = shapeAttr, .eval = evalBound, .noGradient = true},
      {.kind = OpKind::Constant, .infer = shapeAttr, .eval = evalConstant, .noGradient = true},
  };
}

} // namespace recc::ophelpers
