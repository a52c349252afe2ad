// Routed matmuls: a weight matrix chosen per batch row by an id (SAR-Net's
// scenario-specific experts and gates, `dense(..., by = scenario)`).
//   gather_matmul(x [B,n], w [V,n,u], ids)         y[b] = x[b] · w[ids[b]]
//   scatter_matmul(x [B,n], dy [B,u], ids){depth}  g[v] = Σ_{b: ids[b] = v} x[b]ᵀ · dy[b]
// scatter_matmul is gather_matmul's weight gradient. Without them, per-row
// weights are gathered by a one-hot GEMM into [B,n,u] (V·n·u flops and n·u
// floats per row) and applied by a batch of matrix-vector products; these two
// touch only the rows' own matrices. Ids outside [0, V) (e.g. -1, a missing
// id) select nothing: a zero output row, no gradient, as with one_hot.
#include "compiler/ops/OpHelpers.h"

namespace recc::ophelpers {

/// Throws unless `ids` holds one id per row of a [B,...] value: [B] or [B,1].
static void requireRowIds(const Shape& ids, const Shape& x, const char* op) {
  bool ok = (ids.rank() == 1 || (ids.rank() == 2 && ids[1] == 1)) && ids[0] == x[0];
  if (!ok)
    throw ShapeError(fmt::format("'{}' needs one id per row of {} ([B] or [B,1] of the same "
                                 "batch), got ids of shape {}", op, x.str(), ids.str()));
}

static void requireRows(const Shape& x, const char* op, const char* what) {
  if (x.rank() != 2 || !isBatchDim(x[0]))
    throw ShapeError(fmt::format("'{}' needs {} of shape [B,n], got {}", op, what, x.str()));
  requireStatic(x, 1, op);
}

/// The row's id as an index into [0, depth), or -1 when it selects nothing.
static int64_t routeOf(double id, int64_t depth) {
  int64_t v = (int64_t)id;
  return v >= 0 && v < depth ? v : -1;
}

// --- gather_matmul -------------------------------------------------------------
static Shape inferGatherMatMul(const ShapeCtx& c) {
  const Shape &x = c.in[0], &w = c.in[1];
  requireRows(x, "gather_matmul", "rows");
  if (w.rank() != 3 || isBatchDim(w[0]))
    throw ShapeError(fmt::format("'gather_matmul' needs one matrix per id, [V,n,u], got {}",
                                 w.str()));
  requireStatic(w, 0, "gather_matmul");
  if (w[1] != x[1])
    throw ShapeError(fmt::format("'gather_matmul' cannot multiply rows {} by matrices {}: inner "
                                 "dimensions {} and {} differ", x.str(), w.str(), x[1], w[1]));
  requireRowIds(c.in[2], x, "gather_matmul");
  return Shape{x[0], w[2]};
}

static void evalGatherMatMul(const EvalCtx& c) {
  const RefTensor &x = *c.in[0], &w = *c.in[1];
  const auto& ids = c.in[2]->data;
  int64_t rows = x.dim(0), n = x.dim(1), depth = w.dim(0), u = w.dim(2);
  for (int64_t b = 0; b < rows; ++b) {
    int64_t v = routeOf(ids[b], depth);
    if (v < 0) continue;
    const double* m = w.data.data() + v * n * u;
    double* y = c.out.data.data() + b * u;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < u; ++j) y[j] += x.data[b * n + k] * m[k * u + j];
  }
}

/// w's matrices transposed: [V,n,u] -> [V,u,n].
static NodeId transposedMatrices(GradBuilder& g, NodeId w) {
  return g.op(OpKind::Transpose, {w}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
}

// dx[b] = dy[b] · w[id]ᵀ (gather_matmul of the transposed matrices, a small
// copy of V·n·u floats); dw = scatter_matmul(x, dy).
static std::vector<NodeId> gradGatherMatMul(GradBuilder& g) {
  NodeId x = g.x(0), w = g.x(1), ids = g.x(2), dy = g.dy();
  int64_t depth = g.shapeOf(w)[0];
  return {g.op(OpKind::GatherMatMul, {dy, transposedMatrices(g, w), ids}),
          g.op(OpKind::ScatterMatMul, {x, dy, ids}, {{"depth", depth}}), kNoNode};
}

// --- scatter_matmul ------------------------------------------------------------
static Shape inferScatterMatMul(const ShapeCtx& c) {
  const Shape &x = c.in[0], &dy = c.in[1];
  requireRows(x, "scatter_matmul", "rows");
  requireRows(dy, "scatter_matmul", "row gradients");
  if (x[0] != dy[0])
    throw ShapeError(fmt::format("'scatter_matmul' needs rows of one batch, got {} and {}",
                                 x.str(), dy.str()));
  requireRowIds(c.in[2], x, "scatter_matmul");
  int64_t depth = c.attrs.getInt("depth");
  if (depth < 1)
    throw ShapeError(fmt::format("'scatter_matmul' depth must be positive, got {}", depth));
  return Shape{depth, x[1], dy[1]};
}

static void evalScatterMatMul(const EvalCtx& c) {
  const RefTensor &x = *c.in[0], &dy = *c.in[1];
  const auto& ids = c.in[2]->data;
  int64_t rows = x.dim(0), n = x.dim(1), u = dy.dim(1), depth = c.out.dim(0);
  for (int64_t b = 0; b < rows; ++b) {
    int64_t v = routeOf(ids[b], depth);
    if (v < 0) continue;
    double* g = c.out.data.data() + v * n * u;
    for (int64_t k = 0; k < n; ++k)
      for (int64_t j = 0; j < u; ++j) g[k * u + j] += x.data[b * n + k] * dy.data[b * u + j];
  }
}

// d/dx[b] Σ G[id]·(x[b]ᵀ dy[b]) = G[id] · dy[b]ᵀ = gather_matmul(dy, Gᵀ);
// d/ddy[b] = x[b] · G[id] = gather_matmul(x, G).
static std::vector<NodeId> gradScatterMatMul(GradBuilder& g) {
  NodeId x = g.x(0), dy = g.x(1), ids = g.x(2), gw = g.dy();
  return {g.op(OpKind::GatherMatMul, {dy, transposedMatrices(g, gw), ids}),
          g.op(OpKind::GatherMatMul, {x, gw, ids}), kNoNode};
}

std::vector<OpDef> routedMatmulOps() {
  return {
      {OpKind::GatherMatMul, inferGatherMatMul, evalGatherMatMul, gradGatherMatMul},
      {OpKind::ScatterMatMul, inferScatterMatMul, evalScatterMatMul, gradScatterMatMul},
  };
}

} // namespace recc::ophelpers
