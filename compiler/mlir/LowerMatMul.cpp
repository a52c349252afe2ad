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

/// A product of degenerate shape as a linalg.generic the elementwise path
/// vectorizes along its long axis, where the GEMM kernel's register tile
/// would be one lane wide (a DAMCAR generator step spent 2% of its samples
/// in three such products, serially, while the other thread waited):
///   K = 1, C[m, n] = A[m, 0] * B[0, n], an outer product (exact: no sum);
///   transposed A and N = 1, C[j, 0] = sum_m A[m, j] * B[m, 0] (a bias-like
///   weight gradient), rows of axpys along j.
/// Returns null for other shapes.
static Value lowerDegenerateMatMul(LowerCtx& c, Value a, Value b, bool ta) {
  std::vector<int64_t> out = c.dims();
  int64_t k = cast<RankedTensorType>(a.getType()).getDimSize(ta ? 0 : 1);
  bool outer = k == 1 && !ta, axpys = ta && out[1] == 1 && out[0] >= 16;
  if (!outer && !axpys) return nullptr;
  MLIRContext* ctx = c.b.getContext();
  AffineExpr d0 = c.b.getAffineDimExpr(0), d1 = c.b.getAffineDimExpr(1),
             zero = c.b.getAffineConstantExpr(0);
  // outer: loops (m, n) into C[m, n]; axpys: loops (m [reduction], j) into
  // a 1-D C[j] (a [J, 1] view of it would be stored lane by lane).
  std::vector<int64_t> shape = outer ? out : std::vector<int64_t>{out[0]};
  SmallVector<AffineMap> maps{
      AffineMap::get(2, 0, {d0, outer ? zero : d1}, ctx),
      AffineMap::get(2, 0, {outer ? zero : d0, outer ? d1 : zero}, ctx),
      outer ? AffineMap::get(2, 0, {d0, d1}, ctx) : AffineMap::get(2, 0, {d1}, ctx)};
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  if (axpys) iters[0] = utils::IteratorType::reduction;
  Value init = outer ? c.b.create<tensor::EmptyOp>(c.loc, shape, c.b.getF32Type()).getResult()
                     : emitFilled(c, shape, 0.0);
  Value r = c.b
                .create<linalg::GenericOp>(c.loc, TypeRange{c.tensorType(shape)}, ValueRange{a, b},
                                           ValueRange{init}, maps, iters,
                                           [outer](OpBuilder& nb, Location l, ValueRange v) {
                                             Value p = nb.create<arith::MulFOp>(l, v[0], v[1]);
                                             if (!outer) p = nb.create<arith::AddFOp>(l, v[2], p);
                                             nb.create<linalg::YieldOp>(l, p);
                                           })
                .getResult(0);
  return outer ? r : emitReshape(c, r, out);
}

/// matmul(one_hot(ids), w), w [V,N] (a parameter `by` an id: SAR-Net's per-
/// scenario scales, [2048,20] x [20,177]) picks row id_b of w for row b: a
/// gather of rows instead of a GEMM with K = V, whose peeled tiles were the
/// largest kernel of SAR-Net's step (4.8k lines of LLVM dialect). Null where
/// the operand is not such a one_hot.
static Value lowerOneHotProduct(LowerCtx& c, bool ta, bool tb) {
  if (ta || tb) return {};
  NodeId a = c.node.inputs[0];
  if (c.graph.node(a).kind == OpKind::Reshape) a = c.graph.node(a).inputs[0];
  const Node& oneHot = c.graph.node(a);
  std::vector<int64_t> wd = c.inDims(1), out = c.dims();
  if (oneHot.kind != OpKind::OneHot || wd.size() != 2 || out.size() != 2) return {};
  Value ids = c.values[oneHot.inputs[0]];
  if (cast<RankedTensorType>(ids.getType()).getNumElements() != out[0]) return {};
  return emitRowsOf(c, c.in(1), ids, oneHot.attrs.getInt("depth"));
}

static Value lowerMatMul(LowerCtx& c) {
  Value a = c.in(0), b = c.in(1);
  bool ta = c.node.attrs.getInt("transpose_a"), tb = c.node.attrs.getInt("transpose_b");
  if (Value rows = lowerOneHotProduct(c, ta, tb)) return rows;
  if (tb) b = emitTransposed(c, b);
  if (Value v = lowerDegenerateMatMul(c, a, b, ta)) return v;
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
