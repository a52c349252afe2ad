// LowerReduce: sums, means and maxima over axes, argmax_mask (the max's
// gradient mask), `expand` (their inverse broadcast) and `sum_to` (autodiff's
// un-broadcast) as linalg.generic reductions and maps.
// Reductions always produce the shape without the reduced axes; keepdims and
// sum_to then reinsert unit axes with a reshape, so every indexing map stays a
// projected permutation (which the vectorizer accepts).
#include "compiler/mlir/Lowering.h"

#include <limits>

namespace recc::lower {

using namespace mlir;

/// Reduces `x` over `axes` (sorted) with CombineOp, starting from `init`, to a
/// tensor without those axes.
template <typename CombineOp>
static Value emitReduction(LowerCtx& c, Value x, const std::vector<int64_t>& axes, double init) {
  OpBuilder& b = c.b;
  auto t = cast<RankedTensorType>(x.getType());
  int64_t rank = t.getRank();
  std::vector<int64_t> outDims;
  SmallVector<AffineExpr> outExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (reduced) continue;
    outDims.push_back(t.getDimSize(i));
    outExprs.push_back(b.getAffineDimExpr(i));
  }
  Value acc = emitFilled(c, outDims, init);
  SmallVector<AffineMap> maps{b.getMultiDimIdentityMap(rank),
                              AffineMap::get(rank, 0, outExprs, b.getContext())};
  auto op = b.create<linalg::GenericOp>(
      c.loc, TypeRange{c.tensorType(outDims)}, ValueRange{x}, ValueRange{acc}, maps, iters,
      [](OpBuilder& nb, Location l, ValueRange a) {
        nb.create<linalg::YieldOp>(l, nb.create<CombineOp>(l, a[0], a[1]).getResult());
      });
  return op.getResult(0);
}

Value emitSum(LowerCtx& c, Value x, const std::vector<int64_t>& axes) {
  return emitReduction<arith::AddFOp>(c, x, axes, 0.0);
}

/// Multiplies every element of `x` by `s` (no-op for s == 1).
static Value scaled(LowerCtx& c, Value x, double s) {
  if (s == 1) return x;
  auto t = cast<RankedTensorType>(x.getType());
  return emitMap(c, {t.getShape().begin(), t.getShape().end()}, {x},
                 [s](OpBuilder& b, Location l, ValueRange a) {
                   Value k = b.create<arith::ConstantOp>(l, b.getF32FloatAttr((float)s));
                   return b.create<arith::MulFOp>(l, a[0], k).getResult();
                 });
}

static Value lowerReduceMax(LowerCtx& c) {
  std::vector<int64_t> in = c.inDims(0);
  auto axes = normalizedAxes(c.node.attrs.getInts("axes"), (int64_t)in.size());
  Value m = emitReduction<arith::MaximumFOp>(c, c.in(0), axes,
                                             -std::numeric_limits<double>::infinity());
  return emitReshape(c, m, c.dims());
}

/// Row-major flat index, over the reduced `axes` only, of the current element
/// of a generic over the input's loops, as f32 (exact below 2^24 elements).
static Value indexInGroup(OpBuilder& b, Location l, const std::vector<int64_t>& axes,
                          const std::vector<int64_t>& dims) {
  Value flat = b.create<arith::ConstantIndexOp>(l, 0);
  for (int64_t a : axes) {
    Value ext = b.create<arith::ConstantIndexOp>(l, dims[a]);
    flat = b.create<arith::AddIOp>(l, b.create<arith::MulIOp>(l, flat, ext),
                                   b.create<linalg::IndexOp>(l, a));
  }
  Value i64 = b.create<arith::IndexCastOp>(l, b.getI64Type(), flat);
  return b.create<arith::SIToFPOp>(l, b.getF32Type(), i64);
}

/// 1 at the first maximum of each group, else 0 (the reference's tie rule:
/// first in row-major order over the reduced axes). Three order-independent
/// steps, so tiling and vectorizing cannot change the winner: the max m, the
/// smallest group index among the elements equal to m, and the mask.
static Value lowerArgMaxMask(LowerCtx& c) {
  OpBuilder& b = c.b;
  std::vector<int64_t> in = c.inDims(0);
  int64_t rank = (int64_t)in.size();
  auto axes = normalizedAxes(c.node.attrs.getInts("axes"), rank);
  Value x = c.in(0);
  Value m = emitReduction<arith::MaximumFOp>(c, x, axes, -std::numeric_limits<double>::infinity());
  std::vector<int64_t> kept;
  SmallVector<AffineExpr> keptExprs;
  SmallVector<utils::IteratorType> iters;
  for (int64_t i = 0; i < rank; ++i) {
    bool reduced = std::find(axes.begin(), axes.end(), i) != axes.end();
    iters.push_back(reduced ? utils::IteratorType::reduction : utils::IteratorType::parallel);
    if (reduced) continue;
    kept.push_back(in[i]);
    keptExprs.push_back(b.getAffineDimExpr(i));
  }
  AffineMap all = b.getMultiDimIdentityMap(rank);
  AffineMap group = AffineMap::get(rank, 0, keptExprs, b.getContext());
  Value first =
      b.create<linalg::GenericOp>(
           c.loc, TypeRange{c.tensorType(kept)}, ValueRange{x, m},
           ValueRange{emitFilled(c, kept, std::numeric_limits<double>::infinity())},
           SmallVector<AffineMap>{all, group, group}, iters,
           [&](OpBuilder& nb, Location l, ValueRange a) {
             Value isMax = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], a[1]);
             Value cand = nb.create<arith::SelectOp>(l, isMax, indexInGroup(nb, l, axes, in), a[2]);
             nb.create<linalg::YieldOp>(l, nb.create<arith::MinimumFOp>(l, cand, a[2]).getResult());
           })
          .getResult(0);
  Value init = b.create<tensor::EmptyOp>(c.loc, in, b.getF32Type());
  SmallVector<utils::IteratorType> par(rank, utils::IteratorType::parallel);
  return b
      .create<linalg::GenericOp>(
          c.loc, TypeRange{c.tensorType(in)}, ValueRange{first}, ValueRange{init},
          SmallVector<AffineMap>{group, all}, par,
          [&](OpBuilder& nb, Location l, ValueRange a) {
            Value hit = nb.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ,
                                                 indexInGroup(nb, l, axes, in), a[0]);
            Value one = nb.create<arith::ConstantOp>(l, nb.getF32FloatAttr(1));
            Value zero = nb.create<arith::ConstantOp>(l, nb.getF32FloatAttr(0));
            nb.create<linalg::YieldOp>(l, nb.create<arith::SelectOp>(l, hit, one, zero).getResult());
          })
      .getResult(0);
}

template <bool Mean>
static Value lowerReduce(LowerCtx& c) {
  std::vector<int64_t> in = c.inDims(0);
  auto axes = normalizedAxes(c.node.attrs.getInts("axes"), (int64_t)in.size());
  double count = 1;
  for (auto a : axes) count *= (double)in[a];
  Value s = emitSum(c, c.in(0), axes);
  if (Mean && count > 0) s = scaled(c, s, 1.0 / count);
  return emitReshape(c, s, c.dims());
}

/// Broadcasts x (the reduced shape, with or without kept unit axes) back
/// along `axes` to the node's shape, dividing by the count for a mean.
static Value lowerExpand(LowerCtx& c) {
  OpBuilder& b = c.b;
  std::vector<int64_t> out = c.dims();
  int64_t rank = (int64_t)out.size();
  auto axes = normalizedAxes(c.node.attrs.getInts("axes"), rank);
  std::vector<int64_t> reduced;
  SmallVector<AffineExpr> exprs;
  double count = 1;
  for (int64_t i = 0; i < rank; ++i) {
    if (std::find(axes.begin(), axes.end(), i) != axes.end()) {
      count *= (double)out[i];
      continue;
    }
    reduced.push_back(out[i]);
    exprs.push_back(b.getAffineDimExpr(i));
  }
  Value x = emitReshape(c, c.in(0), reduced);
  float scale = c.node.attrs.getInt("mean") && count > 0 ? (float)(1.0 / count) : 1.0f;
  Value init = b.create<tensor::EmptyOp>(c.loc, out, b.getF32Type());
  SmallVector<AffineMap> maps{AffineMap::get(rank, 0, exprs, b.getContext()),
                              b.getMultiDimIdentityMap(rank)};
  SmallVector<utils::IteratorType> iters(rank, utils::IteratorType::parallel);
  auto op = b.create<linalg::GenericOp>(
      c.loc, TypeRange{c.tensorType(out)}, ValueRange{x}, ValueRange{init}, maps, iters,
      [scale](OpBuilder& nb, Location l, ValueRange a) {
        Value y = a[0];
        if (scale != 1.0f)
          y = nb.create<arith::MulFOp>(
              l, y, nb.create<arith::ConstantOp>(l, nb.getF32FloatAttr(scale)));
        nb.create<linalg::YieldOp>(l, y);
      });
  return op.getResult(0);
}

/// sum_to(batch_matmul(A, D, transpose_a), [k, n]) over all leading axes: the
/// weight gradient of [.., L, k] x [k, n], which the graph cannot express as a
/// 2-D matmul (reshape keeps the batch axis whole). Here it becomes one GEMM
/// on the flattened rows, A'ᵀ·D' with A' = [rows, k] and D' = [rows, n], run
/// by the tiled kernel; the batched product, now unused, is erased as dead.
/// Returns a null Value when the pattern does not apply.
static Value flatWeightGradient(LowerCtx& c) {
  const Node& p = c.graph.node(c.node.inputs[0]);
  if (p.kind != OpKind::BatchMatMul || !p.attrs.getInt("transpose_a") ||
      p.attrs.getInt("transpose_b"))
    return {};
  std::vector<int64_t> a = c.graph.node(p.inputs[0]).shape.concrete(c.batch);
  std::vector<int64_t> d = c.graph.node(p.inputs[1]).shape.concrete(c.batch);
  std::vector<int64_t> out = c.dims();
  size_t r = a.size();
  if (r < 3 || d.size() != r || !std::equal(a.begin(), a.end() - 2, d.begin()) ||
      out != std::vector<int64_t>{a[r - 1], d[r - 1]})
    return {};
  int64_t rows = 1;
  for (size_t i = 0; i + 1 < r; ++i) rows *= a[i];
  Value af = emitReshape(c, c.values[p.inputs[0]], {rows, a[r - 1]});
  Value df = emitReshape(c, c.values[p.inputs[1]], {rows, d[r - 1]});
  Value init = emitFilled(c, out, 0.0);
  return c.b
      .create<linalg::MatmulTransposeAOp>(c.loc, TypeRange{c.tensorType(out)},
                                          ValueRange{af, df}, ValueRange{init})
      .getResult(0);
}

/// Sums x down to the (broadcastable) shape of `like`: reduces the extra
/// leading axes and the axes where like has extent 1.
static Value lowerSumTo(LowerCtx& c) {
  if (Value flat = flatWeightGradient(c)) return flat;
  std::vector<int64_t> x = c.inDims(0), out = c.dims();
  int64_t off = (int64_t)x.size() - (int64_t)out.size();
  std::vector<int64_t> axes;
  for (int64_t i = 0; i < (int64_t)x.size(); ++i)
    if (i < off || (out[i - off] == 1 && x[i] != 1)) axes.push_back(i);
  if (axes.empty()) return emitReshape(c, c.in(0), out);
  return emitReshape(c, emitSum(c, c.in(0), axes), out);
}

std::vector<OpLowering> reduceLowerings() {
  return {
      {OpKind::ReduceSum, lowerReduce<false>},
      {OpKind::ReduceMean, lowerReduce<true>},
      {OpKind::ReduceMax, lowerReduceMax},
      {OpKind::ArgMaxMask, lowerArgMaxMask},
      {OpKind::Expand, lowerExpand},
      {OpKind::SumTo, lowerSumTo},
  };
}

}  // namespace recc::lower
