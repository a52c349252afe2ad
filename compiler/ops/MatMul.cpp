// MatMul: 2-D matrix product with optional transposed operands. The transpose
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

std::vector<OpDef> matmulOps() { return {{OpKind::MatMul, inferMatMul, evalMatMul, gradMatMul}}; }

} // namespace recc::ophelpers
