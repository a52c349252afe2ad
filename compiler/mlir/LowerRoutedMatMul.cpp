// LowerRoutedMatMul: gather_matmul and scatter_matmul (compiler/ops/
// RoutedMatMul.cpp), the per-row weight matrices of `dense(..., by = id)`,
// and the rows of a table picked by id (emitRowsOf, matmul(one_hot, w)).
//
// Two lowerings, chosen by shape (groupsRows):
// - With many rows per matrix, the rows are grouped by their id and each
//   group is multiplied by its matrix as GEMMs of kBlock rows (see "Rows
//   grouped by matrix" below).
// - Otherwise, loops over the batch rows (scf.for on tensors) whose body
//   slices the row's own matrix out of the [V,n,u] weights (or its gradient)
//   at a dynamic offset and runs one small linalg.generic on it: a
//   vector-matrix product for gather_matmul, an outer-product update in place
//   for scatter_matmul. Rows whose id is outside [0, V) select nothing: their
//   x row is zeroed first (a select, so a NaN in it cannot leak) and the
//   clamped id then adds zeros.
// Either way, the V·n·u flops and [B,n,u] buffers of a one-hot GEMM are
// avoided. For two threads, gather_matmul's rows (or positions) are cut in
// two halves; scatter_matmul cuts every matrix instead (rows of one id would
// race), along n or u.
#include "compiler/mlir/Lowering.h"

#include "mlir/Dialect/Math/IR/Math.h"
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

namespace {

/// A loop from `lo` to `hi` by `step` carrying `acc`.
Value loop(OpBuilder& b, Location l, Value lo, Value hi, int64_t step, Value acc,
           function_ref<Value(OpBuilder&, Location, Value i, Value acc)> body) {
  return b
      .create<scf::ForOp>(l, lo, hi, indexConst(b, l, step), ValueRange{acc},
                          [&](OpBuilder& lb, Location ll, Value i, ValueRange a) {
                            lb.create<scf::YieldOp>(ll, body(lb, ll, i, a[0]));
                          })
      .getResult(0);
}

}  // namespace

Value forRows(OpBuilder& b, Location l, int64_t rows, Value acc,
              function_ref<Value(OpBuilder&, Location, Value row, Value acc)> body) {
  return loop(b, l, indexConst(b, l, 0), indexConst(b, l, rows), 1, acc, body);
}

namespace {

// --- Rows grouped by matrix -------------------------------------------------
// With many rows per matrix (SAR-Net: 2048 rows, 20 scenarios), a product per
// row reads its whole [n,u] matrix from cache for n·u FMAs: SAR-Net's routed
// layers took 16% of its training step (perf) for 6% of its FLOPs. Instead the
// rows are placed in order of their matrix, each group padded to a multiple of
// kBlock positions, and each group is multiplied by its matrix as GEMMs of
// kBlock rows, which the GEMM recipe tiles into
// registers like any other; results are taken back to their rows.
//
// One block size keeps one GEMM kernel per shape: with 64-row products and an
// 8-row one for the rest, SAR-Net's compile took 0.5-1.5 s longer.
constexpr int64_t kBlock = 32;

/// Grouping pays (and its padding, kBlock - 1 positions per matrix at most,
/// stays under half the rows) from two blocks of rows per matrix, on matrices
/// large enough that reading one per row costs more than the products: a
/// [n,u] matrix of 16 x 16 or more, 4096 entries or more (each GEMM shape is
/// code to compile). Positions are kept as f32, exact below 2^24.
bool groupsRows(int64_t rows, int64_t depth, int64_t n, int64_t u) {
  return rows >= 2 * kBlock * depth && n >= 16 && u >= 16 && n * u >= 4096 &&
         rows + depth * kBlock < (1 << 24);
}

/// Where each row goes: rows of matrix s at positions starts[s] .. starts[s+1]
/// (padding at the end of the group), in batch order within a group.
struct Groups {
  int64_t places = 0;  // positions, a multiple of 2 * kBlock
  Value perm;          // [places]: the row at each position, -1 for padding
  Value pos;           // [rows]: each row's position, -1 when its id selects nothing
  Value starts;        // [depth + 1]: where each matrix's positions start
};

Value at(OpBuilder& b, Location l, Value t, Value i) {
  return b.create<tensor::ExtractOp>(l, t, ValueRange{i});
}
Value put(OpBuilder& b, Location l, Value t, Value i, Value v) {
  return b.create<tensor::InsertOp>(l, v, t, ValueRange{i});
}
Value asIndex(OpBuilder& b, Location l, Value f) {
  Value i = b.create<arith::FPToSIOp>(l, b.getI64Type(), f);
  return b.create<arith::IndexCastOp>(l, b.getIndexType(), i);
}
Value asF32(OpBuilder& b, Location l, Value index) {
  Value i = b.create<arith::IndexCastOp>(l, b.getI64Type(), index);
  return b.create<arith::SIToFPOp>(l, b.getF32Type(), i);
}
Value addIndex(OpBuilder& b, Location l, Value x, Value y) {
  return b.create<arith::AddIOp>(l, x, y);
}

/// `then(b, l)` when `cond`, else `values` unchanged (an scf.if on tensors).
ValueRange when(OpBuilder& b, Location l, Value cond, ValueRange values,
                function_ref<SmallVector<Value>(OpBuilder&, Location)> then) {
  auto op = b.create<scf::IfOp>(
      l, cond, [&](OpBuilder& tb, Location tl) { tb.create<scf::YieldOp>(tl, then(tb, tl)); },
      [&](OpBuilder& eb, Location el) { eb.create<scf::YieldOp>(el, values); });
  return op.getResults();
}

Groups groupRows(LowerCtx& c, Value ids, int64_t rows, int64_t depth) {
  OpBuilder& b = c.b;
  Location l = c.loc;
  Value one = c.f32(1);
  Groups g;
  g.places = (rows + depth * (kBlock - 1) + 2 * kBlock - 1) / (2 * kBlock) * (2 * kBlock);
  // SAR-Net's routed layers all go by the scenario: the rows are placed once.
  std::pair<NodeId, int64_t> key{c.node.inputs[2], depth};
  if (c.rowGroups)
    if (auto it = c.rowGroups->find(key); it != c.rowGroups->end()) {
      g.perm = it->second[0], g.pos = it->second[1], g.starts = it->second[2];
      return g;
    }
  Value counts = forRows(b, l, rows, emitFilled(c, {depth}, 0),
                         [&](OpBuilder& lb, Location ll, Value r, Value acc) {
    Value id = at(lb, ll, ids, r);
    return when(lb, ll, validId(lb, ll, id, depth), acc, [&](OpBuilder& tb, Location tl) {
      Value s = asIndex(tb, tl, id);
      Value n = tb.create<arith::AddFOp>(tl, at(tb, tl, acc, s), one);
      return SmallVector<Value>{put(tb, tl, acc, s, n)};
    })[0];
  });
  // starts[s + 1] = starts[s] + counts[s] rounded up to whole blocks.
  Value block = c.f32(kBlock);
  g.starts = forRows(b, l, depth, emitFilled(c, {depth + 1}, 0),
                     [&](OpBuilder& lb, Location ll, Value s, Value acc) {
    Value blocks = lb.create<math::CeilOp>(
        ll, lb.create<arith::DivFOp>(ll, at(lb, ll, counts, s), block));
    Value end = lb.create<arith::AddFOp>(ll, at(lb, ll, acc, s),
                                         lb.create<arith::MulFOp>(ll, blocks, block));
    return put(lb, ll, acc, addIndex(lb, ll, s, indexConst(lb, ll, 1)), end);
  });
  // Each row takes the next position of its group (`next` counts them).
  auto place = b.create<scf::ForOp>(
      l, indexConst(b, l, 0), indexConst(b, l, rows), indexConst(b, l, 1),
      ValueRange{emitFilled(c, {g.places}, -1), emitFilled(c, {rows}, -1), g.starts},
      [&](OpBuilder& lb, Location ll, Value r, ValueRange a) {
        Value id = at(lb, ll, ids, r);
        lb.create<scf::YieldOp>(ll, when(lb, ll, validId(lb, ll, id, depth), a,
                                         [&](OpBuilder& tb, Location tl) {
          Value s = asIndex(tb, tl, id), p = at(tb, tl, a[2], s);
          return SmallVector<Value>{
              put(tb, tl, a[0], asIndex(tb, tl, p), asF32(tb, tl, r)), put(tb, tl, a[1], r, p),
              put(tb, tl, a[2], s, tb.create<arith::AddFOp>(tl, p, one))};
        }));
      });
  g.perm = place.getResult(0);
  g.pos = place.getResult(1);
  if (c.rowGroups) (*c.rowGroups)[key] = {g.perm, g.pos, g.starts};
  return g;
}

/// Row i of the result [n,k] is row from[i] of `src`, or zeros where from[i]
/// is -1. Every row is written, so the result needs no fill first.
Value pickRows(LowerCtx& c, Value src, Value from, int64_t n) {
  int64_t k = cast<RankedTensorType>(src.getType()).getDimSize(1);
  Value zeroRow = emitFilled(c, {1, k}, 0);
  Value out = c.b.create<tensor::EmptyOp>(c.loc, ArrayRef<int64_t>{n, k}, c.b.getF32Type());
  return inHalves(c, out, evenAxis({n, k}, {0}),
                  [&](OpBuilder& b, Location l, Value first, Value part) {
    int64_t partRows = cast<RankedTensorType>(part.getType()).getDimSize(0);
    return forRows(b, l, partRows, part, [&](OpBuilder& lb, Location ll, Value r, Value acc) {
      Value i = at(lb, ll, from, addIndex(lb, ll, first, r));
      Value some = lb.create<arith::CmpFOp>(ll, arith::CmpFPredicate::OGE, i,
                                            lb.create<arith::ConstantOp>(ll, lb.getF32FloatAttr(0)));
      auto pick = lb.create<scf::IfOp>(
          ll, some,
          [&](OpBuilder& tb, Location tl) {
            Value v = slice(tb, tl, src, {asIndex(tb, tl, i), attr(tb, 0)}, {1, k}, {0, 1});
            tb.create<scf::YieldOp>(tl, insert(tb, tl, v, acc, {r, attr(tb, 0)}, {1, k}));
          },
          [&](OpBuilder& eb, Location el) {
            eb.create<scf::YieldOp>(el, insert(eb, el, zeroRow, acc, {r, attr(eb, 0)}, {1, k}));
          });
      return pick.getResult(0);
    });
  });
}

/// The rows of `src` [rows,k] at their positions: [places,k], padding zero.
Value placeRows(LowerCtx& c, Value src, const Groups& g) {
  return pickRows(c, src, g.perm, g.places);
}

/// The rows [rows,u] taken back from their positions in `placed`; rows with
/// no position (an id that selects nothing) are zero.
Value takeRows(LowerCtx& c, Value placed, const Groups& g, int64_t rows) {
  return pickRows(c, placed, g.pos, rows);
}

}  // namespace

Value emitRowsOf(LowerCtx& c, Value table, Value ids, int64_t depth) {
  int64_t rows = cast<RankedTensorType>(ids.getType()).getNumElements();
  ids = emitReshape(c, ids, {rows});
  // The id as pickRows reads it: truncated toward zero as one_hot does, -1
  // where it selects nothing.
  Value from = emitMap(c, {rows}, {ids}, [depth](OpBuilder& b, Location l, ValueRange a) {
    Value id = b.create<arith::SIToFPOp>(
        l, b.getF32Type(), b.create<arith::FPToSIOp>(l, b.getI64Type(), a[0]));
    Value none = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(-1));
    return b.create<arith::SelectOp>(l, validId(b, l, a[0], depth), id, none).getResult();
  });
  return pickRows(c, table, from, rows);
}

namespace {

/// One product of kBlock positions from `p` with matrix `s`, folded into acc.
using GroupProduct = function_ref<Value(OpBuilder&, Location, Value s, Value p, Value acc)>;

/// For each matrix s, its positions within [lo, hi), in products of kBlock
/// rows.
Value forGroups(OpBuilder& b, Location l, const Groups& g, int64_t depth, Value lo, Value hi,
                Value acc, GroupProduct product) {
  return forRows(b, l, depth, acc, [&](OpBuilder& sb, Location sl, Value s, Value sums) {
    Value from = sb.create<arith::MaxSIOp>(sl, asIndex(sb, sl, at(sb, sl, g.starts, s)), lo);
    Value next = addIndex(sb, sl, s, indexConst(sb, sl, 1));
    Value to = sb.create<arith::MinSIOp>(sl, asIndex(sb, sl, at(sb, sl, g.starts, next)), hi);
    return loop(sb, sl, from, to, kBlock, sums, [&](OpBuilder& cb, Location cl, Value p, Value a) {
      return product(cb, cl, s, p, a);
    });
  });
}

/// gather_matmul on grouped rows: each half of the positions (a thread) runs
/// its groups' products [kBlock,n] x [n,u] into its half of the placed results.
Value groupedGatherMatMul(LowerCtx& c, Value x, Value w, Value ids) {
  std::vector<int64_t> wd = c.inDims(1), out = c.dims();
  int64_t depth = wd[0], n = wd[1], u = wd[2];
  Groups g = groupRows(c, ids, out[0], depth);
  Value xp = placeRows(c, x, g);
  int64_t half = g.places / 2;
  // Not filled: every position a row is taken back from is computed.
  Value empty = c.b.create<tensor::EmptyOp>(c.loc, ArrayRef<int64_t>{g.places, u}, c.b.getF32Type());
  Value yp = inHalves(c, empty, 0,
                      [&](OpBuilder& b, Location l, Value first, Value part) {
    Value last = addIndex(b, l, first, indexConst(b, l, half));
    return forGroups(b, l, g, depth, first, last, part,
                     [&](OpBuilder& pb, Location pl, Value s, Value p, Value acc) {
      Value a = slice(pb, pl, xp, {p, attr(pb, 0)}, {kBlock, n}, {0, 1});
      Value m = slice(pb, pl, w, {s, attr(pb, 0), attr(pb, 0)}, {1, n, u}, {1, 2});
      SmallVector<OpFoldResult> at{pb.create<arith::SubIOp>(pl, p, first).getResult(), attr(pb, 0)};
      Value y = slice(pb, pl, acc, at, {kBlock, u}, {0, 1});
      Value zero = pb.create<linalg::FillOp>(pl, ValueRange{pb.create<arith::ConstantOp>(
                                                      pl, pb.getF32FloatAttr(0))},
                                             ValueRange{y})
                       .getResult(0);
      Type type = y.getType();
      Value prod = pb.create<linalg::MatmulOp>(pl, TypeRange{type}, ValueRange{a, m},
                                               ValueRange{zero})
                       .getResult(0);
      return insert(pb, pl, prod, acc, at, {kBlock, u});
    });
  });
  return takeRows(c, yp, g, out[0]);
}

/// Where one thread's half of every [n,u] matrix of a scatter_matmul reads
/// x's and dy's columns: x from xAt (pn of them), dy from dAt (pu of them).
struct MatrixHalf {
  OpFoldResult xAt, dAt;
  int64_t pn, pu;
};

/// scatter_matmul's zero-filled gradient [V,n,u], whose matrices two rows may
/// both update: two threads split every matrix instead, its n rows, or its u
/// columns when n is odd; `part` sums into one half.
Value inMatrixHalves(LowerCtx& c,
                     function_ref<Value(OpBuilder&, Location, const MatrixHalf&, Value)> part) {
  std::vector<int64_t> out = c.dims();
  int64_t axis = evenAxis(out, {1, 2});
  return inHalves(c, emitFilled(c, out, 0.0), axis,
                  [&](OpBuilder& b, Location l, Value first, Value acc) {
    auto pt = cast<RankedTensorType>(acc.getType());
    MatrixHalf h{axis == 1 ? OpFoldResult(first) : attr(b, 0),
                 axis == 2 ? OpFoldResult(first) : attr(b, 0), pt.getDimSize(1), pt.getDimSize(2)};
    return part(b, l, h, acc);
  });
}

/// scatter_matmul on grouped rows: g[s] += x_sᵀ · dy_s, [kBlock,n]ᵀ x [kBlock,u]
/// per product; the two threads split every matrix (along n, or u), as below.
Value groupedScatterMatMul(LowerCtx& c, Value x, Value dy, Value ids) {
  std::vector<int64_t> out = c.dims();
  int64_t depth = out[0], rows = c.inDims(0)[0];
  Groups g = groupRows(c, ids, rows, depth);
  Value xp = placeRows(c, x, g), dyp = placeRows(c, dy, g);
  return inMatrixHalves(c, [&](OpBuilder& b, Location l, const MatrixHalf& h, Value part) {
    int64_t pn = h.pn, pu = h.pu;
    return forGroups(b, l, g, depth, indexConst(b, l, 0), indexConst(b, l, g.places), part,
                     [&](OpBuilder& pb, Location pl, Value s, Value p, Value acc) {
      Value a = slice(pb, pl, xp, {p, h.xAt}, {kBlock, pn}, {0, 1});
      Value d = slice(pb, pl, dyp, {p, h.dAt}, {kBlock, pu}, {0, 1});
      SmallVector<OpFoldResult> at{s, attr(pb, 0), attr(pb, 0)};
      Value gm = slice(pb, pl, acc, at, {1, pn, pu}, {1, 2});
      Type type = gm.getType();
      Value sum = pb.create<linalg::MatmulTransposeAOp>(pl, TypeRange{type}, ValueRange{a, d},
                                                        ValueRange{gm})
                      .getResult(0);
      return insert(pb, pl, sum, acc, at, {1, pn, pu});
    });
  });
}

}  // namespace

// --- One product per row ------------------------------------------------------

/// y[b] = x[b] · w[id_b]: per row, a [1,n] x [n,u] product into y's row.
static Value lowerGatherMatMul(LowerCtx& c) {
  std::vector<int64_t> wd = c.inDims(1), out = c.dims();
  int64_t depth = wd[0], n = wd[1], u = wd[2];
  Value ids = rowIds(c, 2), w = c.in(1);
  if (groupsRows(out[0], depth, n, u)) return groupedGatherMatMul(c, c.in(0), w, ids);
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
  if (groupsRows(rows, depth, out[1], out[2])) return groupedScatterMatMul(c, c.in(0), dy, ids);
  Value x = maskedRows(c, c.in(0), ids, depth);
  MLIRContext* ctx = c.b.getContext();
  AffineExpr k = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(2, 0, {k}, ctx), AffineMap::get(2, 0, {j}, ctx),
                              AffineMap::get(2, 0, {k, j}, ctx)};
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  return inMatrixHalves(c, [&](OpBuilder& b, Location l, const MatrixHalf& h, Value part) {
    int64_t pn = h.pn, pu = h.pu;
    OpFoldResult xAt = h.xAt, dAt = h.dAt;
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
