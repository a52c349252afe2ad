// Gradient-flow ops: identities in the forward pass that change only what
// flows back. stop_gradient passes nothing back (a target or teacher value
// that must not be trained through); grad_reverse passes -coeff·dy (the
// gradient reversal layer of domain-adversarial training).
#include "compiler/ops/OpHelpers.h"

namespace recc::ophelpers {

static Shape inferIdentity(const ShapeCtx& c) { return c.in[0]; }

static Shape inferGradReverse(const ShapeCtx& c) {
  if (!c.in[1].isScalar())
    throw ShapeError(fmt::format("'grad_reverse' coefficient must be a scalar, got {}",
                                 c.in[1].str()));
  return c.in[0];
}

static void evalIdentity(const EvalCtx& c) { c.out.data = c.in[0]->data; }

// The coefficient is a hyperparameter (often scheduled): it gets no gradient.
static std::vector<NodeId> gradGradReverse(GradBuilder& g) {
  return {g.neg(g.mul(g.dy(), g.x(1))), kNoNode};
}

std::vector<OpDef> gradientFlowOps() {
  return {
      // Its gradient is zero by definition, not by calculus: finite
      // differences see the identity (tests/ops/grad_test.cpp checks both).
      {.kind = OpKind::StopGradient,
       .infer = inferIdentity,
       .eval = evalIdentity,
       .noGradient = true},
      {OpKind::GradReverse, inferGradReverse, evalIdentity, gradGradReverse},
  };
}

} // namespace recc::ophelpers
