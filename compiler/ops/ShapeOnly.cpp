// Shape-only ops: batched matmul, transpose, max-reduction, one-hot, causal
// mask, stop-gradient, gradient reversal, top-k retrieval and the batch
// group-by sum. Each has a shape
// rule so that models using it can be checked and printed; its reference
// kernel, gradient rule and MLIR lowering are later work, each to be checked
// against finite differences when it lands (OpDef::shapeOnly). They are the
// primitives the attention, expert, pooling and reversal builtins of the
// language compose (see compiler/passes/BuildGraph.cpp).
#include "compiler/ops/OpHelpers.h"

#include <algorithm>

namespace recc::ophelpers {

static void requireStatic(const Shape& s, size_t from, const char* op) {
  for (size_t i = from; i < s.rank(); ++i)
    if (s[i] < 0)
      throw ShapeError(fmt::format("'{}': axis {} of {} must not be a batch axis", op, i, s.str()));
}

// --- batch_matmul --------------------------------------------------------------
// [..., m, k] x [..., k, n] -> [..., m, n]; the leading axes broadcast (numpy
// rules), so [B,L,k] x [k,n] applies one matrix to every position and
// [S,S] x [B,S,h] mixes the S rows of every sample.
static Shape inferBatchMatMul(const ShapeCtx& c) {
  const Shape& a = c.in[0];
  const Shape& b = c.in[1];
  if (a.rank() < 2 || b.rank() < 2 || (a.rank() == 2 && b.rank() == 2))
    throw ShapeError(fmt::format(
        "'batch_matmul' needs operands of rank >= 2, one of them >= 3, got {} and {}", a.str(),
        b.str()));
  requireStatic(a, a.rank() - 2, "batch_matmul");
  requireStatic(b, b.rank() - 2, "batch_matmul");
  bool ta = c.attrs.getInt("transpose_a"), tb = c.attrs.getInt("transpose_b");
  int64_t a0 = a[a.rank() - 2], a1 = a[a.rank() - 1], b0 = b[b.rank() - 2], b1 = b[b.rank() - 1];
  int64_t m = ta ? a1 : a0, ka = ta ? a0 : a1, kb = tb ? b1 : b0, n = tb ? b0 : b1;
  if (ka != kb)
    throw ShapeError(fmt::format("cannot multiply batches of matrices of shape {}{} and {}{}: "
                                 "inner dimensions {} and {} differ",
                                 a.str(), ta ? "ᵀ" : "", b.str(), tb ? "ᵀ" : "", ka, kb));
  Shape pa(std::vector<int64_t>(a.dims.begin(), a.dims.end() - 2));
  Shape pb(std::vector<int64_t>(b.dims.begin(), b.dims.end() - 2));
  Shape out = broadcastShapes(pa, pb, "batch-multiply");
  out.dims.push_back(m);
  out.dims.push_back(n);
  return out;
}

// --- transpose -----------------------------------------------------------------
static Shape inferTranspose(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  std::vector<int64_t> perm = c.attrs.getInts("perm");
  std::vector<int64_t> sorted = perm;
  std::sort(sorted.begin(), sorted.end());
  bool ok = perm.size() == x.rank();
  for (size_t i = 0; ok && i < sorted.size(); ++i) ok = sorted[i] == (int64_t)i;
  if (!ok)
    throw ShapeError(fmt::format("'transpose': the permutation does not fit a value of shape {}",
                                 x.str()));
  Shape out;
  for (int64_t p : perm) out.dims.push_back(x[p]);
  if (x.hasBatch() && (!isBatchDim(x[0]) || perm[0] != 0))
    throw ShapeError(fmt::format("'transpose' must keep the batch axis first, got {} -> {}",
                                 x.str(), out.str()));
  return out;
}

// --- reduce_max ----------------------------------------------------------------
static Shape inferReduceMax(const ShapeCtx& c) {
  auto axes = normalizeAxes(c.attrs.getInts("axes"), c.in[0].rank(), "reduce_max");
  return reduceShape(c.in[0], axes, c.attrs.getInt("keepdims"));
}

// --- one_hot / causal_mask -----------------------------------------------------
static Shape inferOneHot(const ShapeCtx& c) {
  int64_t depth = c.attrs.getInt("depth");
  if (depth < 1) throw ShapeError(fmt::format("'one_hot' depth must be positive, got {}", depth));
  Shape out = c.in[0];
  out.dims.push_back(depth);
  return out;
}

static Shape inferCausalMask(const ShapeCtx& c) {
  int64_t n = c.attrs.getInt("size");
  if (n < 1) throw ShapeError(fmt::format("'causal_mask' size must be positive, got {}", n));
  return Shape{n, n};
}

// --- stop_gradient / grad_reverse ----------------------------------------------
static Shape inferIdentity(const ShapeCtx& c) { return c.in[0]; }

static Shape inferGradReverse(const ShapeCtx& c) {
  if (!c.in[1].isScalar())
    throw ShapeError(fmt::format("'grad_reverse' coefficient must be a scalar, got {}",
                                 c.in[1].str()));
  return c.in[0];
}

// --- top_k ---------------------------------------------------------------------
static Shape inferTopK(const ShapeCtx& c) {
  const Shape& q = c.in[0];
  const Shape& items = c.in[1];
  int64_t k = c.attrs.getInt("k");
  if (q.rank() != 2 || q != items || !isBatchDim(q[0]))
    throw ShapeError(fmt::format("'top_k' needs a query and item vectors of one shape [B,d], "
                                 "got {} and {}", q.str(), items.str()));
  if (k < 1) throw ShapeError(fmt::format("'top_k' k must be positive, got {}", k));
  return Shape{q[0], k};
}

// --- group_sum -----------------------------------------------------------------
// (x [B,...], ids [B] or [B,1]) -> [B,...]: row b gets Σ_{j: ids_j = ids_b} x_j,
// the sum over the batch rows with its id (O(B·|x row|), no one-hot).
static Shape inferGroupSum(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const Shape& ids = c.in[1];
  if (x.rank() < 1 || !isBatchDim(x[0]))
    throw ShapeError(fmt::format("'group_sum' sums over the batch rows of a value of shape "
                                 "[B,...], got {}", x.str()));
  requireStatic(x, 1, "group_sum");
  bool idsOk = (ids.rank() == 1 || (ids.rank() == 2 && ids[1] == 1)) && ids[0] == x[0];
  if (!idsOk)
    throw ShapeError(fmt::format("'group_sum' needs one id per row of {} ([B] or [B,1] of the "
                                 "same batch), got ids of shape {}", x.str(), ids.str()));
  return x;
}

std::vector<OpDef> shapeOnlyOps() {
  auto def = [](OpKind kind, InferFn infer) {
    return OpDef{.kind = kind, .infer = infer, .shapeOnly = true};
  };
  return {
      def(OpKind::BatchMatMul, inferBatchMatMul), def(OpKind::Transpose, inferTranspose),
      def(OpKind::ReduceMax, inferReduceMax),     def(OpKind::OneHot, inferOneHot),
      def(OpKind::CausalMask, inferCausalMask),   def(OpKind::StopGradient, inferIdentity),
      def(OpKind::GradReverse, inferGradReverse), def(OpKind::TopK, inferTopK),
      def(OpKind::GroupSum, inferGroupSum),
  };
}

} // namespace recc::ophelpers
