// Dropout: inverted dropout whose mask is a hash of (seed, salt, index) (see
// Random.h). The gradient applies the same mask to dy by re-hashing, so no mask
// tensor is stored between the forward and backward passes.
//
// A batched x has a third operand, its stream's BatchSlice [first, rows]: the
// index is the element's row-major place in the global batch (extent `rows` on
// attr batch_axis, this process's rows from `first`), so a process under
// mpirun draws exactly its slice of the one-process mask. Alone, [0, B] gives
// the plain flat index.
#include "compiler/ops/OpHelpers.h"
#include "compiler/ops/Random.h"

namespace recc::ophelpers {

static Shape inferDropout(const ShapeCtx& c) {
  if (c.in.size() != 2 && c.in.size() != 3)
    throw ShapeError(fmt::format("'dropout' takes 2 or 3 operands (x, seed[, batch slice]), got {}",
                                 c.in.size()));
  if (!c.in[1].isScalar())
    throw ShapeError(fmt::format("'dropout' seed must be a scalar, got {}", c.in[1].str()));
  double p = c.attrs.getFloat("p");
  if (!(p >= 0 && p < 1))
    throw ShapeError(fmt::format("'dropout' probability {} is not in [0, 1)", p));
  if (c.in.size() > 2) {
    int64_t axis = c.attrs.getInt("batch_axis", -1);
    if (c.in[2].dims != std::vector<int64_t>{2})
      throw ShapeError(fmt::format("'dropout' batch slice must be [2], got {}", c.in[2].str()));
    if (axis < 0 || axis >= (int64_t)c.in[0].rank() || !isBatchDim(c.in[0][axis]))
      throw ShapeError(fmt::format("'dropout' batch_axis {} is not a batch dimension of {}", axis,
                                   c.in[0].str()));
  }
  return c.in[0];
}

/// The flat index, in the global batch, of element `flat` of a tensor of
/// extents `dims` (see the file comment).
static uint64_t globalIndex(uint64_t flat, const std::vector<int64_t>& dims, size_t axis,
                            int64_t first, int64_t rows) {
  uint64_t index = 0, stride = 1;
  for (size_t d = dims.size(); d-- > 0;) {
    uint64_t i = flat % (uint64_t)dims[d];
    flat /= (uint64_t)dims[d];
    index += (d == axis ? i + (uint64_t)first : i) * stride;
    stride *= d == axis ? (uint64_t)rows : (uint64_t)dims[d];
  }
  return index;
}

static void evalDropout(const EvalCtx& c) {
  double p = c.attrs.getFloat("p");
  uint32_t seed = (uint32_t)(int64_t)c.in[1]->data[0];
  uint32_t salt = (uint32_t)c.attrs.getInt("salt");
  uint32_t threshold = dropoutThreshold(p);
  double scale = 1.0 / (1.0 - p);
  const auto& x = c.in[0]->data;
  const bool sliced = c.in.size() > 2;
  const size_t axis = (size_t)c.attrs.getInt("batch_axis", 0);
  const int64_t first = sliced ? (int64_t)c.in[2]->data[0] : 0;
  const int64_t rows = sliced ? (int64_t)c.in[2]->data[1] : 0;
  for (size_t i = 0; i < x.size(); ++i) {
    uint64_t index = sliced ? globalIndex(i, c.in[0]->shape, axis, first, rows) : i;
    c.out.data[i] = dropoutKeep(seed, salt, (uint32_t)index, threshold) ? x[i] * scale : 0.0;
  }
}

static std::vector<NodeId> gradDropout(GradBuilder& g) {
  if (g.numInputs() == 2) return {g.op(OpKind::Dropout, {g.dy(), g.x(1)}, g.attrs()), kNoNode};
  return {g.op(OpKind::Dropout, {g.dy(), g.x(1), g.x(2)}, g.attrs()), kNoNode, kNoNode};
}

std::vector<OpDef> randomOps() { return {{OpKind::Dropout, inferDropout, evalDropout, gradDropout}}; }

} // namespace recc::ophelpers
