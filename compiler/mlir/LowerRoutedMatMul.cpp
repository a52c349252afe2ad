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
// For two threads, gather_matmul's rows are cut in two halves; scatter_matmul
// cuts every matrix instead (rows of one id would race), along n or u.
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

Value inHalves(LowerCtx& c, Value acc, int64_t axis, PartFn part) {
  if (axis < 0) return part(c.b, c.loc, indexConst(c.b, c.loc, 0), acc);
  auto t = cast<RankedTensorType>(acc.getType());
  int64_t half = t.getDimSize(axis) / 2;
  SmallVector<OpFoldResult> sizes, strides;
  for (int64_t d = 0; d < t.getRank(); ++d)
    sizes.push_back(attr(c.b, d == axis ? half : t.getDimSize(d))), strides.push_back(attr(c.b, 1));
  auto halfType = RankedTensorType::get(
      llvm::to_vector(llvm::map_range(sizes, [](OpFoldResult s) {
        return cast<IntegerAttr>(cast<Attribute>(s)).getInt();
      })),
      t.getElementType());
  auto forall = c.b.create<scf::ForallOp>(
      c.loc, ArrayRef<OpFoldResult>{attr(c.b, 2)}, ValueRange{acc}, std::nullopt,
      [&](OpBuilder& b, Location l, ValueRange args) {
        Value offset = b.create<arith::MulIOp>(l, args[0], indexConst(b, l, half));
        SmallVector<OpFoldResult> offsets(t.getRank(), attr(b, 0));
        offsets[axis] = offset;
        Value mine = b.create<tensor::ExtractSliceOp>(l, halfType, args[1], offsets, sizes, strides);
        Value done = part(b, l, offset, mine);
        auto term = b.create<scf::InParallelOp>(l);
        b.setInsertionPointToStart(term.getBody());
        b.create<tensor::ParallelInsertSliceOp>(l, done, args[1], offsets, sizes, strides);
      });
  return forall.getResult(0);
}

int64_t evenAxis(ArrayRef<int64_t> dims, std::initializer_list<int64_t> axes) {
  for (int64_t a : axes)
    if (dims[a] >= 2 && dims[a] % 2 == 0) return a;
  return -1;
}

Value forRows(OpBuilder& b, Location l, int64_t rows, Value acc,
              function_ref<Value(OpBuilder&, Location, Value row, Value acc)> body) {
  auto loop = b.create<scf::ForOp>(l, indexConst(b, l, 0), indexConst(b, l, rows),
                                   indexConst(b, l, 1), ValueRange{acc},
                                   [&](OpBuilder& lb, Location ll, Value r, ValueRange a) {
                                     lb.create<scf::YieldOp>(ll, body(lb, ll, r, a[0]));
                                   });
  return loop.getResult(0);
}

/// y[b] = x[b] · w[id_b]: per row, a [1,n] x [n,u] product into y's row.
static Value lowerGatherMatMul(LowerCtx& c) {
  std::vector<int64_t> wd = c.inDims(1), out = c.dims();
  int64_t depth = wd[0], n = wd[1], u = wd[2];
  Value ids = rowIds(c, 2), w = c.in(1);
  Value x = maskedRows(c, c.in(0), ids, depth);
  MLIRContext* ctx = c.b.getContext();
  AffineExpr k = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {k}, ctx), AffineMap::get(2, 0, {k, j}, ctx),
                              AffineMap::get(2, 0, {j}, ctx)};
  SmallVector<utils::IteratorType> iters{utils::IteratorType::reduction,
                                         utils::IteratorType::parallel};
  // Two threads take half of the rows each.
  return inHalves(c, emitFilled(c, out, 0.0), evenAxis(out, {0}),
                  [&](OpBuilder& b, Location l, Value first, Value part) {
    int64_t partRows = cast<RankedTensorType>(part.getType()).getDimSize(0);
    return forRows(b, l, partRows, part, [&](OpBuilder& lb, Location ll, Value r, Value acc) {
      Value row = lb.create<arith::AddIOp>(ll, first, r);
      Value m = matrixOf(lb, ll, ids, row, depth);
      Value xr = slice(lb, ll, x, {row, attr(lb, 0)}, {1, n}, {1});
      Value wm = slice(lb, ll, w, {m, attr(lb, 0), attr(lb, 0)}, {1, n, u}, {1, 2});
      Value yr = slice(lb, ll, acc, {r, attr(lb, 0)}, {1, u}, {1});
      Value prod = multiplyAdd(lb, ll, xr, wm, yr, maps, iters);
      return insert(lb, ll, prod, acc, {r, attr(lb, 0)}, {1, u});
    });
  });
}

/// g[id_b] += x[b]ᵀ · dy[b]: per row, an outer product added in place to the
/// row's matrix of g.
static Value lowerScatterMatMul(LowerCtx& c) {
  std::vector<int64_t> out = c.dims();
  int64_t depth = out[0], rows = c.inDims(0)[0];
  Value ids = rowIds(c, 2), dy = c.in(1);
  Value x = maskedRows(c, c.in(0), ids, depth);
  MLIRContext* ctx = c.b.getContext();
  AffineExpr k = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {k}, ctx), AffineMap::get(2, 0, {j}, ctx),
                              AffineMap::get(2, 0, {k, j}, ctx)};
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  // Two batch rows may update the same matrix, so two threads split every
  // matrix instead: its n rows, or its u columns when n is odd.
  int64_t axis = evenAxis(out, {1, 2});
  return inHalves(c, emitFilled(c, out, 0.0), axis,
                  [&](OpBuilder& b, Location l, Value first, Value part) {
    auto pt = cast<RankedTensorType>(part.getType());
    int64_t pn = pt.getDimSize(1), pu = pt.getDimSize(2);
    OpFoldResult xAt = axis == 1 ? OpFoldResult(first) : attr(b, 0);
    OpFoldResult dAt = axis == 2 ? OpFoldResult(first) : attr(b, 0);
    return forRows(b, l, rows, part, [&](OpBuilder& lb, Location ll, Value r, Value acc) {
      Value m = matrixOf(lb, ll, ids, r, depth);
      Value xr = slice(lb, ll, x, {r, xAt}, {1, pn}, {1});
      Value dr = slice(lb, ll, dy, {r, dAt}, {1, pu}, {1});
      SmallVector<OpFoldResult> at{m, attr(lb, 0), attr(lb, 0)};
      Value gm = slice(lb, ll, acc, at, {1, pn, pu}, {1, 2});
      Value sum = multiplyAdd(lb, ll, xr, dr, gm, maps, iters);
      return insert(lb, ll, sum, acc, at, {1, pn, pu});
    });
  });
}

std::vector<OpLowering> routedMatmulLowerings() {
  return {{OpKind::GatherMatMul, lowerGatherMatMul}, {OpKind::ScatterMatMul, lowerScatterMatMul}};
}

}  // namespace recc::lower
