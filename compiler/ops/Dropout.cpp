// Dropout: inverted dropout whose mask is a hash of (seed, salt, index) (see
// Random.h). The gradient applies the same mask to dy by re-hashing, so no mask
// tensor is stored between the forward and backward passes.
#include "compiler/ops/OpHelpers.h"
#include "compiler/ops/Random.h"

namespace recc::ophelpers {

static Shape inferDropout(const ShapeCtx& c) {
  if (!c.in[1].isScalar())
    throw ShapeError(fmt::format("'dropout' seed must be a scalar, got {}", c.in[1].str()));
  double p = c.attrs.getFloat("p");
  if (!(p >= 0 && p < 1))
    throw ShapeError(fmt::format("'dropout' probability {} is not in [0, 1)", p));
  return c.in[0];
}

static void evalDropout(const EvalCtx& c) {
  double p = c.attrs.getFloat("p");
  uint32_t seed = (uint32_t)(int64_t)c.in[1]->data[0];
  uint32_t salt = (uint32_t)c.attrs.getInt("salt");
  uint32_t threshold = dropoutThreshold(p);
  double scale = 1.0 / (1.0 - p);
  const auto& x = c.in[0]->data;
  for (size_t i = 0; i < x.size(); ++i)
    c.out.data[i] = dropoutKeep(seed, salt, (uint32_t)i, threshold) ? x[i] * scale : 0.0;
}

static std::vector<NodeId> gradDropout(GradBuilder& g) {
  return {g.op(OpKind::Dropout, {g.dy(), g.x(1)}, g.attrs()), kNoNode};
}

std::vector<OpDef> randomOps() { return {{OpKind::Dropout, inferDropout, evalDropout, gradDropout}}; }

} // namespace recc::ophelpers
