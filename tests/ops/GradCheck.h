// GradCheck: builds `loss = sum(op(args) * R)` for a fixed random R, runs
// Autodiff, and compares each differentiable argument's gradient, evaluated by
// the reference executor, with central finite differences in double precision.
#pragma once

#include "compiler/ir/Graph.h"

#include <vector>

namespace recc::testing {

/// One operand: its shape, whether it is differentiated, and the range its
/// random values are drawn from (lo == hi gives a constant, e.g. a seed).
struct Arg {
  Shape shape;
  bool diff = true;
  double lo = -1.0, hi = 1.0;
};

/// Largest |analytic - numeric| / max(1, |numeric|) over all gradient entries.
double gradCheckError(OpKind kind, const std::vector<Arg>& args, const Attrs& attrs = {},
                      int64_t batch = 3, unsigned seed = 1);

} // namespace recc::testing
