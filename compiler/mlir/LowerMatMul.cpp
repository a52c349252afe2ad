// LowerMatMul: C = op(A)·op(B) as linalg.matmul into a zero-filled tensor, and
// batch_matmul. A transposed B is materialized once with linalg.transpose
// (O(NK) copies against O(MNK) flops): read in place it would become
// in-register shuffles and halve the kernel's speed. A transposed A alone
// needs no copy: linalg.matmul_transpose_a reads A[k, i..i+mr] contiguously,
// which is just what the outer-product kernel broadcasts from.
#include "compiler/mlir/Lowering.h"

namespace recc::lower {

using namespace mlir;

Value emitTransposed(LowerCtx& c, Value v) {
  // Reused only within one block: a transpose made inside a loop's region
  // does not dominate the code after it.
  if (c.transposed)
    if (auto it = c.transposed->find(v);
        it != c.transposed->end() && it->second.getParentBlock() == c.b.getInsertionBlock())
      return it->second;
  auto t = cast<RankedTensorType>(v.getType());
  int64_t rank = t.getRank();
  SmallVector<int64_t> perm;
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < rank; ++i)
    perm.push_back(i < rank - 2 ? i : (i == rank - 2 ? rank - 1 : rank - 2));
  for (int64_t p : perm) dims.push_back(t.getDimSize(p));
  Value init = c.b.create<tensor::EmptyOp>(c.loc, dims, c.b.getF32Type());
  Value result = c.b.create<linalg::TransposeOp>(c.loc, v, init, perm).getResult()[0];
  if (c.transposed)
    (*c.transposed)[v] = result;
  return result;
}

static Value lowerMatMul(LowerCtx& c) {
  Value a = c.in(0), b = c.in(1);
  bool ta = c.node.attrs.getInt("transpose_a"), tb = c.node.attrs.getInt("transpose_b");
  if (tb) b = emitTransposed(c, b);
  Value init = emitFilled(c, c.dims(), 0.0);
  Type type = c.tensorType(c.dims());  // (a TypeRange of a temporary would dangle)
  if (ta && !tb)
    return c.b.create<linalg::MatmulTransposeAOp>(c.loc, TypeRange{type}, ValueRange{a, b},
                                                  ValueRange{init})
        .getResult(0);
  if (ta) a = emitTransposed(c, a);
  return c.b.create<linalg::MatmulOp>(c.loc, TypeRange{type}, ValueRange{a, b}, ValueRange{init})
      .getResult(0);
}

/// Indexing expressions of a batch_matmul operand: its leading axes right-
/// aligned with the output's (broadcast unit axes dropped from `v`), then its
/// two matrix axes as loops (r0, r1).
static SmallVector<AffineExpr> operandExprs(LowerCtx& c, Value& v, const std::vector<int64_t>& out,
                                            int64_t r0, int64_t r1) {
  auto t = cast<RankedTensorType>(v.getType());
  int64_t lead = t.getRank() - 2, outLead = (int64_t)out.size() - 2, off = outLead - lead;
  SmallVector<int64_t> kept;
  SmallVector<AffineExpr> exprs;
  for (int64_t i = 0; i < lead; ++i) {
    if (t.getDimSize(i) == 1 && out[i + off] != 1) continue;
    kept.push_back(i);
    exprs.push_back(c.b.getAffineDimExpr(i + off));
  }
  kept.push_back(lead);
  kept.push_back(lead + 1);
  if ((int64_t)kept.size() != t.getRank()) v = emitDropUnitAxes(c, v, kept);
  exprs.push_back(c.b.getAffineDimExpr(r0));
  exprs.push_back(c.b.getAffineDimExpr(r1));
  return exprs;
}

/// batch_matmul: [..., m, k] x [..., k, n] (either transposed in its last two
/// axes), leading axes broadcast. A 2-D right operand ([B,L,k] x [k,n], a
/// shared weight) makes it one matmul on the flattened rows, which gets the
/// tiled GEMM kernel. Otherwise it is a linalg.generic contraction over loops
/// (lead..., m, k, n): n innermost, so it vectorizes as rows of axpys.
static Value lowerBatchMatMul(LowerCtx& c) {
  Value a = c.in(0), b = c.in(1);
  bool ta = c.node.attrs.getInt("transpose_a"), tb = c.node.attrs.getInt("transpose_b");
  std::vector<int64_t> out = c.dims();
  int64_t rank = (int64_t)out.size(), n = out[rank - 1];
  auto at = cast<RankedTensorType>(a.getType());
  if (cast<RankedTensorType>(b.getType()).getRank() == 2 && !ta) {
    int64_t k = at.getDimSize(at.getRank() - 1), rows = at.getNumElements() / k;
    if (tb) b = emitTransposed(c, b);
    Value init = emitFilled(c, {rows, n}, 0.0);
    Value flat = c.b.create<linalg::MatmulOp>(c.loc, TypeRange{c.tensorType({rows, n})},
                                              ValueRange{emitReshape(c, a, {rows, k}), b},
                                              ValueRange{init})
                     .getResult(0);
    return emitReshape(c, flat, out);
  }
  // n is the innermost loop: a transposed B would be read across rows (a
  // gather per lane), so it is materialized in [.., k, n] order first — O(nk)
  // copies per matrix against O(mnk) flops.
  if (tb && n >= 8) {
    b = emitTransposed(c, b);
    tb = false;
  }
  int64_t m = rank - 2, k = rank - 1, nn = rank;  // loop positions
  SmallVector<AffineExpr> ea = ta ? operandExprs(c, a, out, k, m) : operandExprs(c, a, out, m, k);
  SmallVector<AffineExpr> eb = tb ? operandExprs(c, b, out, nn, k) : operandExprs(c, b, out, k, nn);
  SmallVector<AffineExpr> eo;
  for (int64_t i = 0; i < rank - 2; ++i) eo.push_back(c.b.getAffineDimExpr(i));
  eo.push_back(c.b.getAffineDimExpr(m));
  eo.push_back(c.b.getAffineDimExpr(nn));
  MLIRContext* ctx = c.b.getContext();
  SmallVector<AffineMap> maps{AffineMap::get(rank + 1, 0, ea, ctx),
                              AffineMap::get(rank + 1, 0, eb, ctx),
                              AffineMap::get(rank + 1, 0, eo, ctx)};
  SmallVector<utils::IteratorType> iters(rank + 1, utils::IteratorType::parallel);
  iters[k] = utils::IteratorType::reduction;
  Value init = emitFilled(c, out, 0.0);
  return c.b
      .create<linalg::GenericOp>(c.loc, TypeRange{c.tensorType(out)}, ValueRange{a, b},
                                 ValueRange{init}, maps, iters,
                                 [](OpBuilder& nb, Location l, ValueRange v) {
                                   Value p = nb.create<arith::MulFOp>(l, v[0], v[1]);
                                   nb.create<linalg::YieldOp>(
                                       l, nb.create<arith::AddFOp>(l, v[2], p).getResult());
                                 })
      .getResult(0);
}

std::vector<OpLowering> matmulLowerings() {
  return {{OpKind::MatMul, lowerMatMul}, {OpKind::BatchMatMul, lowerBatchMatMul}};
}

}  // namespace recc::lower
