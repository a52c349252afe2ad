// GradCheck: builds `loss = sum(op(args) * R)` for a fixed random R, runs
// Autodiff, and compares each differentiable argument's gradient, evaluated by
// the reference executor, with central finite differences in double precision.
#pragma once

#include "compiler/ir/Graph.h"

#include <vector>

namespace recc::testing {

/// One operand: its shape, whether it is differentiated, and the range its
/// random values are drawn from (lo == hi gives a constant, e.g. a seed;
/// `integer` draws whole numbers in [lo, hi], e.g. ids that must repeat).
struct Arg {
  Shape shape;
  bool diff = true;
  double lo = -1.0, hi = 1.0;
  bool integer = false;
};

/// Largest |analytic - scale·numeric| / max(1, |numeric|) over all gradient
/// entries. `scale` is 1 but for ops whose gradient is by definition not the
/// derivative of their forward pass (stop_gradient: 0, grad_reverse: -coeff).
double gradCheckError(OpKind kind, const std::vector<Arg>& args, const Attrs& attrs = {},
                      int64_t batch = 3, unsigned seed = 1, double scale = 1.0);

} // namespace recc::testing
