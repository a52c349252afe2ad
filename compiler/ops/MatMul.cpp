// MatMul: 2-D matrix product with optional transposed operands, and
// batch_matmul, its batched form with broadcast leading axes. The transpose
// flags let the gradient rules express dA = dC·Bᵀ and dB = Aᵀ·dC without a
// separate transpose op; backends choose how to materialize them.
#include "compiler/ops/OpHelpers.h"

#include <Eigen/Core>

namespace recc::ophelpers {

using RowMat = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat>;

static Shape inferMatMul(const ShapeCtx& c) {
  const Shape& a = c.in[0];
  const Shape& b = c.in[1];
  if (a.rank() != 2 || b.rank() != 2)
    throw ShapeError(fmt::format("'matmul' needs 2-D operands, got {} and {}", a.str(), b.str()));
  bool ta = c.attrs.getInt("transpose_a"), tb = c.attrs.getInt("transpose_b");
  int64_t m = ta ? a[1] : a[0], ka = ta ? a[0] : a[1];
  int64_t kb = tb ? b[1] : b[0], n = tb ? b[0] : b[1];
  if (ka != kb)
    throw ShapeError(fmt::format("cannot multiply matrices of shape {}{} and {}{}: inner "
                                 "dimensions {} and {} differ",
                                 a.str(), ta ? "ᵀ" : "", b.str(), tb ? "ᵀ" : "",
                                 Shape::dimStr(ka), Shape::dimStr(kb)));
  if (isBatchDim(m) && isBatchDim(n))
    throw ShapeError(fmt::format("'matmul' of {} and {} would pair the batch with itself",
                                 a.str(), b.str()));
  return Shape{m, n};
}

static void evalMatMul(const EvalCtx& c) {
  const RefTensor& a = *c.in[0];
  const RefTensor& b = *c.in[1];
  ConstMap am(a.data.data(), a.dim(0), a.dim(1));
  ConstMap bm(b.data.data(), b.dim(0), b.dim(1));
  Eigen::Map<RowMat> y(c.out.data.data(), c.out.dim(0), c.out.dim(1));
  bool ta = c.attrs.getInt("transpose_a"), tb = c.attrs.getInt("transpose_b");
  if (!ta && !tb) y.noalias() = am * bm;
  else if (!ta && tb) y.noalias() = am * bm.transpose();
  else if (ta && !tb) y.noalias() = am.transpose() * bm;
  else y.noalias() = am.transpose() * bm.transpose();
}

static NodeId mm(GradBuilder& g, NodeId a, NodeId b, bool ta, bool tb) {
  return g.op(OpKind::MatMul, {a, b},
              {{"transpose_a", (int64_t)ta}, {"transpose_b", (int64_t)tb}});
}

// C = op(A)·op(B). Each case writes dA and dB with transposes folded into the
// flags, so no explicit transpose node is ever built.
static std::vector<NodeId> gradMatMul(GradBuilder& g) {
  bool ta = g.attrs().getInt("transpose_a"), tb = g.attrs().getInt("transpose_b");
  NodeId a = g.x(0), b = g.x(1), dc = g.dy();
  if (!ta && !tb) return {mm(g, dc, b, false, true), mm(g, a, dc, true, false)};
  if (!ta && tb) return {mm(g, dc, b, false, false), mm(g, dc, a, true, false)};
  if (ta && !tb) return {mm(g, b, dc, false, true), mm(g, a, dc, false, false)};
  return {mm(g, b, dc, true, true), mm(g, dc, a, true, true)};
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

/// For every matrix of the output (its leading axes, row-major), the index of
/// the matrix of `in` it reads (`in`'s leading axes broadcast to `outLead`).
static std::vector<int64_t> matrixIndices(const std::vector<int64_t>& in,
                                          const std::vector<int64_t>& outLead) {
  std::vector<int64_t> inLead(in.begin(), in.end() - 2);
  std::vector<int64_t> idx(RefTensor::numElements(outLead));
  forEachBroadcast(outLead, broadcastStrides(inLead, outLead),
                   [&](int64_t i, int64_t off) { idx[i] = off; });
  return idx;
}

static void evalBatchMatMul(const EvalCtx& c) {
  const RefTensor& a = *c.in[0];
  const RefTensor& b = *c.in[1];
  bool ta = c.attrs.getInt("transpose_a"), tb = c.attrs.getInt("transpose_b");
  const auto& out = c.out.shape;
  int64_t m = out[out.size() - 2], n = out[out.size() - 1];
  int64_t ar = a.dim(a.rank() - 2), ac = a.dim(a.rank() - 1);
  int64_t br = b.dim(b.rank() - 2), bc = b.dim(b.rank() - 1);
  std::vector<int64_t> lead(out.begin(), out.end() - 2);
  auto ia = matrixIndices(a.shape, lead), ib = matrixIndices(b.shape, lead);
  for (size_t p = 0; p < ia.size(); ++p) {
    ConstMap am(a.data.data() + ia[p] * ar * ac, ar, ac);
    ConstMap bm(b.data.data() + ib[p] * br * bc, br, bc);
    Eigen::Map<RowMat> y(c.out.data.data() + p * m * n, m, n);
    if (!ta && !tb) y.noalias() = am * bm;
    else if (!ta && tb) y.noalias() = am * bm.transpose();
    else if (ta && !tb) y.noalias() = am.transpose() * bm;
    else y.noalias() = am.transpose() * bm.transpose();
  }
}

static NodeId bmm(GradBuilder& g, NodeId a, NodeId b, bool ta, bool tb) {
  return g.op(OpKind::BatchMatMul, {a, b},
              {{"transpose_a", (int64_t)ta}, {"transpose_b", (int64_t)tb}});
}

static NodeId reshaped(GradBuilder& g, NodeId x, std::vector<int64_t> dims) {
  return g.op(OpKind::Reshape, {x}, {{"shape", std::move(dims)}});
}

/// The weight gradient of [..., m, k] x [k, n] (a shared 2-D right operand,
/// A not transposed) as one 2-D matmul over the flattened rows, which the
/// backend runs as a tiled GEMM: dB = A'ᵀ·dC' with A' = [rows, k] and
/// dC' = [rows, n]. Only when A's leading axes are static: reshape keeps the
/// batch axis leading and whole, so [B, L, k] cannot become [B·L, k]; then
/// the rule stays a batch_matmul summed over the batch, which the MLIR
/// lowering of sum_to recognizes and runs as that same GEMM (LowerReduce.cpp).
static NodeId flatWeightGrad(GradBuilder& g, NodeId a, NodeId dc, bool tb) {
  const Shape& as = g.shapeOf(a);
  int64_t k = as[as.rank() - 1], n = g.shapeOf(dc)[g.shapeOf(dc).rank() - 1];
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < as.rank(); ++i) rows *= as[i];
  NodeId af = reshaped(g, a, {rows, k}), dcf = reshaped(g, dc, {rows, n});
  return tb ? mm(g, dcf, af, true, false) : mm(g, af, dcf, true, false);
}

// The MatMul case table on batches of matrices, then each gradient summed
// over the leading axes its operand was broadcast along.
static std::vector<NodeId> gradBatchMatMul(GradBuilder& g) {
  bool ta = g.attrs().getInt("transpose_a"), tb = g.attrs().getInt("transpose_b");
  NodeId a = g.x(0), b = g.x(1), dc = g.dy();
  NodeId da = !ta ? bmm(g, dc, b, false, !tb) : bmm(g, b, dc, tb, true);
  if (g.shapeOf(b).rank() == 2 && !ta && !g.shapeOf(a).hasBatch())
    return {da, flatWeightGrad(g, a, dc, tb)};
  NodeId db = !tb ? bmm(g, a, dc, !ta, false) : bmm(g, dc, a, true, ta);
  return {g.sumTo(da, a), g.sumTo(db, b)};
}

std::vector<OpDef> matmulOps() {
  return {
      {OpKind::MatMul, inferMatMul, evalMatMul, gradMatMul},
      {OpKind::BatchMatMul, inferBatchMatMul, evalBatchMatMul, gradBatchMatMul},
  };
}

} // namespace recc::ophelpers
