// LowerRoutedMatMul: gather_matmul and scatter_matmul (compiler/ops/
// RoutedMatMul.cpp), the per-row weight matrices of `dense(..., by = id)`.
//
// Both are loops over the batch rows (scf.for on tensors) whose body slices
// the row's own matrix out of the [V,n,u] weights (or its gradient) at a
// dynamic offset and runs one small linalg.generic on it: a vector-matrix
// product for gather_matmul, an outer-product update in place for
// scatter_matmul. recc-tile-vectorize vectorizes those generics along u like
// any other, so a row costs n·u FMAs on data that stays in cache, instead of
// the one-hot GEMM's V·n·u flops and [B,n,u] buffers.
//
// Rows whose id is outside [0, V) select nothing: their x row is zeroed first
// (a select, so a NaN in it cannot leak) and the clamped id then adds zeros.
#include "compiler/mlir/Lowering.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace recc::lower {

using namespace mlir;

namespace {

Value indexConst(OpBuilder& b, Location l, int64_t v) {
  return b.create<arith::ConstantIndexOp>(l, v);
}

OpFoldResult attr(OpBuilder& b, int64_t v) { return b.getIndexAttr(v); }

/// The ids operand as a [B] tensor.
Value rowIds(LowerCtx& c, int i) {
  std::vector<int64_t> d = c.inDims(i);
  return d.size() == 1 ? c.in(i) : emitReshape(c, c.in(i), {d[0]});
}

/// 1 where an f32 id names one of `depth` matrices.
Value validId(OpBuilder& b, Location l, Value idf, int64_t depth) {
  Value id = b.create<arith::FPToSIOp>(l, b.getI64Type(), idf);
  Value lo = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::sge, id,
                                     b.create<arith::ConstantIntOp>(l, 0, 64));
  Value hi = b.create<arith::CmpIOp>(l, arith::CmpIPredicate::slt, id,
                                     b.create<arith::ConstantIntOp>(l, depth, 64));
  return b.create<arith::AndIOp>(l, lo, hi);
}

/// x [B,n] with the rows whose id selects nothing set to zero.
Value maskedRows(LowerCtx& c, Value x, Value ids, int64_t depth) {
  std::vector<int64_t> d = cast<RankedTensorType>(x.getType()).getShape().vec();
  return emitMap(c, d, {x, emitReshape(c, ids, {d[0], 1})},
                 [depth](OpBuilder& b, Location l, ValueRange a) {
                   Value zero = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(0));
                   return b.create<arith::SelectOp>(l, validId(b, l, a[1], depth), a[0], zero)
                       .getResult();
                 });
}

/// The matrix index of row `row`: its id, clamped into [0, depth).
Value matrixOf(OpBuilder& b, Location l, Value ids, Value row, int64_t depth) {
  Value idf = b.create<tensor::ExtractOp>(l, ids, ValueRange{row});
  Value id = b.create<arith::FPToSIOp>(l, b.getI64Type(), idf);
  id = b.create<arith::MaxSIOp>(l, id, b.create<arith::ConstantIntOp>(l, 0, 64));
  id = b.create<arith::MinSIOp>(l, id, b.create<arith::ConstantIntOp>(l, depth - 1, 64));
  return b.create<arith::IndexCastOp>(l, b.getIndexType(), id);
}

/// A rank-reduced slice: `sizes` at `offsets` (unit strides), the unit axes
/// listed in `drop` removed from the result type.
Value slice(OpBuilder& b, Location l, Value src, ArrayRef<OpFoldResult> offsets,
            ArrayRef<int64_t> sizes, ArrayRef<int64_t> kept) {
  SmallVector<OpFoldResult> sz, st;
  for (int64_t s : sizes) sz.push_back(attr(b, s)), st.push_back(attr(b, 1));
  SmallVector<int64_t> shape;
  for (int64_t k : kept) shape.push_back(sizes[k]);
  auto type = RankedTensorType::get(shape, b.getF32Type());
  return b.create<tensor::ExtractSliceOp>(l, type, src, offsets, sz, st);
}

Value insert(OpBuilder& b, Location l, Value src, Value dest, ArrayRef<OpFoldResult> offsets,
             ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> sz, st;
  for (int64_t s : sizes) sz.push_back(attr(b, s)), st.push_back(attr(b, 1));
  return b.create<tensor::InsertSliceOp>(l, src, dest, offsets, sz, st);
}

/// out (+)= f(a, b) over loops `iters`, with the given indexing maps.
Value multiplyAdd(OpBuilder& b, Location l, Value x, Value y, Value out,
                  ArrayRef<AffineMap> maps, ArrayRef<utils::IteratorType> iters) {
  return b
      .create<linalg::GenericOp>(l, TypeRange{out.getType()}, ValueRange{x, y}, ValueRange{out},
                                 maps, iters,
                                 [](OpBuilder& nb, Location nl, ValueRange v) {
                                   Value p = nb.create<arith::MulFOp>(nl, v[0], v[1]);
                                   nb.create<linalg::YieldOp>(
                                       nl, nb.create<arith::AddFOp>(nl, v[2], p).getResult());
                                 })
      .getResult(0);
}

}  // namespace

/// y[b] = x[b] · w[id_b]: per row, a [1,n] x [n,u] product into y's row.
static Value lowerGatherMatMul(LowerCtx& c) {
  std::vector<int64_t> wd = c.inDims(1), out = c.dims();
  int64_t depth = wd[0], n = wd[1], u = wd[2], rows = out[0];
  Value ids = rowIds(c, 2), w = c.in(1);
  Value x = maskedRows(c, c.in(0), ids, depth);
  MLIRContext* ctx = c.b.getContext();
  AffineExpr k = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {k}, ctx), AffineMap::get(2, 0, {k, j}, ctx),
                              AffineMap::get(2, 0, {j}, ctx)};
  SmallVector<utils::IteratorType> iters{utils::IteratorType::reduction,
                                         utils::IteratorType::parallel};
  Value init = emitFilled(c, out, 0.0);
  OpBuilder& b = c.b;
  auto loop = b.create<scf::ForOp>(
      c.loc, indexConst(b, c.loc, 0), indexConst(b, c.loc, rows), indexConst(b, c.loc, 1),
      ValueRange{init}, [&](OpBuilder& lb, Location l, Value r, ValueRange acc) {
        Value m = matrixOf(lb, l, ids, r, depth);
        Value xr = slice(lb, l, x, {r, attr(lb, 0)}, {1, n}, {1});
        Value wm = slice(lb, l, w, {m, attr(lb, 0), attr(lb, 0)}, {1, n, u}, {1, 2});
        Value yr = slice(lb, l, acc[0], {r, attr(lb, 0)}, {1, u}, {1});
        Value prod = multiplyAdd(lb, l, xr, wm, yr, maps, iters);
        lb.create<scf::YieldOp>(l, insert(lb, l, prod, acc[0], {r, attr(lb, 0)}, {1, u}));
      });
  return loop.getResult(0);
}

/// g[id_b] += x[b]ᵀ · dy[b]: per row, an outer product added in place to the
/// row's matrix of g.
static Value lowerScatterMatMul(LowerCtx& c) {
  std::vector<int64_t> out = c.dims();
  int64_t depth = out[0], n = out[1], u = out[2], rows = c.inDims(0)[0];
  Value ids = rowIds(c, 2), dy = c.in(1);
  Value x = maskedRows(c, c.in(0), ids, depth);
  MLIRContext* ctx = c.b.getContext();
  AffineExpr k = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {k}, ctx), AffineMap::get(2, 0, {j}, ctx),
                              AffineMap::get(2, 0, {k, j}, ctx)};
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  Value init = emitFilled(c, out, 0.0);
  OpBuilder& b = c.b;
  auto loop = b.create<scf::ForOp>(
      c.loc, indexConst(b, c.loc, 0), indexConst(b, c.loc, rows), indexConst(b, c.loc, 1),
      ValueRange{init}, [&](OpBuilder& lb, Location l, Value r, ValueRange acc) {
        Value m = matrixOf(lb, l, ids, r, depth);
        Value xr = slice(lb, l, x, {r, attr(lb, 0)}, {1, n}, {1});
        Value dr = slice(lb, l, dy, {r, attr(lb, 0)}, {1, u}, {1});
        SmallVector<OpFoldResult> at{m, attr(lb, 0), attr(lb, 0)};
        Value gm = slice(lb, l, acc[0], at, {1, n, u}, {1, 2});
        Value sum = multiplyAdd(lb, l, xr, dr, gm, maps, iters);
        lb.create<scf::YieldOp>(l, insert(lb, l, sum, acc[0], at, {1, n, u}));
      });
  return loop.getResult(0);
}

std::vector<OpLowering> routedMatmulLowerings() {
  return {{OpKind::GatherMatMul, lowerGatherMatMul}, {OpKind::ScatterMatMul, lowerScatterMatMul}};
}

}  // namespace recc::lower
