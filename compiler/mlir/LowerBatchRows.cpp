// LowerBatchRows: top_k and group_sum, the ops whose output rows read other
// rows of the batch (compiler/ops/BatchRows.cpp has their reference kernels).
//
// top_k: the scores q·itemsᵀ are one GEMM; the selection is a loop over rows
// (two threads take half each) and items (scf.for on tensors) keeping each
// row's best k sorted, best first, by insertion: an item enters only when it
// beats the row's k-th score, so once the list is full most items cost one
// comparison; its place is found by binary search. Scanning items in index
// order and inserting after equal scores sends ties to the lower index, as
// the reference does.
//
// group_sum: the equality matrix E[i,j] = (id_i == id_j) as a map, then E·x as
// a GEMM over the flattened rows: O(B²·|row|) flops, fine for batches in the
// thousands, and no data-dependent indexing.
#include "compiler/mlir/Lowering.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

#include <limits>

namespace recc::lower {

using namespace mlir;

static Value gemm(LowerCtx& c, Value a, Value b, int64_t m, int64_t n) {
  Value init = emitFilled(c, {m, n}, 0.0);
  return c.b.create<linalg::MatmulOp>(c.loc, TypeRange{c.tensorType({m, n})}, ValueRange{a, b},
                                      ValueRange{init})
      .getResult(0);
}

static Value index(OpBuilder& b, Location l, int64_t v) {
  return b.create<arith::ConstantIndexOp>(l, v);
}

/// Row r of `best` [rows, 2k] holds one row's list: its k best scores, best
/// first, in columns 0..k-1 and their item indices in columns k..2k-1.
static Value at(OpBuilder& b, Location l, Value best, Value r, Value col) {
  return b.create<tensor::ExtractOp>(l, best, ValueRange{r, col});
}

/// Where score `s` enters row r of `best`: after every entry >= s (so ties go
/// to the lower item index). `s` beats the row's last entry (offer checks), so
/// the place is in [0, k-1] and best[r, hi] < s holds throughout a binary
/// search of ceil(log2(k)) steps; once lo == hi the steps change nothing.
static Value insertPosition(OpBuilder& b, Location l, Value best, Value r, Value s, int64_t k) {
  int64_t steps = 0;
  while ((int64_t{1} << steps) < k) ++steps;
  Value zero = index(b, l, 0), one = index(b, l, 1);
  auto search = b.create<scf::ForOp>(
      l, zero, index(b, l, steps), one, ValueRange{zero, index(b, l, k - 1)},
      [&](OpBuilder& nb, Location nl, Value, ValueRange a) {
        Value lo = a[0], hi = a[1];
        Value mid = nb.create<arith::DivUIOp>(nl, nb.create<arith::AddIOp>(nl, lo, hi),
                                              index(nb, nl, 2));
        Value ge = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGE,
                                            at(nb, nl, best, r, mid), s);
        Value newLo = nb.create<arith::SelectOp>(
            nl, ge, nb.create<arith::AddIOp>(nl, mid, index(nb, nl, 1)), lo);
        Value newHi = nb.create<arith::SelectOp>(nl, ge, hi, mid);
        nb.create<scf::YieldOp>(nl, ValueRange{newLo, newHi});
      });
  return search.getResult(0);
}

/// Inserts item `jf` with score `s` into row r of `best` at its position; the
/// k-th entry falls off.
static Value insertSorted(OpBuilder& b, Location l, Value best, Value r, Value s, Value jf,
                          int64_t k) {
  Value pos = insertPosition(b, l, best, r, s, k);
  // Shift entries pos..k-2 (and their indices) down by one, from the back.
  Value zero = index(b, l, 0), one = index(b, l, 1);
  Value shifts = b.create<arith::SubIOp>(l, index(b, l, k - 1), pos);
  auto shifted = b.create<scf::ForOp>(
      l, zero, shifts, one, ValueRange{best}, [&](OpBuilder& nb, Location nl, Value q, ValueRange a) {
        Value t = a[0];
        Value p = nb.create<arith::SubIOp>(nl, index(nb, nl, k - 1), q);
        for (int64_t half : {int64_t{0}, k}) {
          Value to = nb.create<arith::AddIOp>(nl, p, index(nb, nl, half));
          Value from = nb.create<arith::SubIOp>(nl, to, index(nb, nl, 1));
          t = nb.create<tensor::InsertOp>(nl, at(nb, nl, t, r, from), t, ValueRange{r, to});
        }
        nb.create<scf::YieldOp>(nl, ValueRange{t});
      });
  Value t = b.create<tensor::InsertOp>(l, s, shifted.getResult(0), ValueRange{r, pos});
  Value idxPos = b.create<arith::AddIOp>(l, pos, index(b, l, k));
  return b.create<tensor::InsertOp>(l, jf, t, ValueRange{r, idxPos});
}

/// Item j of row r (scores row `row`): inserted when it beats the row's k-th
/// score, so once the list is full most items cost one comparison.
static Value offer(OpBuilder& b, Location l, Value scores, Value best, Value row, Value r, Value j,
                   int64_t k) {
  Value s = b.create<tensor::ExtractOp>(l, scores, ValueRange{row, j});
  Value better = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, s,
                                         at(b, l, best, r, index(b, l, k - 1)));
  auto ifOp = b.create<scf::IfOp>(l, TypeRange{best.getType()}, better, /*withElseRegion=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifOp.getThenRegion().front());
  Value j64 = b.create<arith::IndexCastOp>(l, b.getI64Type(), j);
  Value jf = b.create<arith::SIToFPOp>(l, b.getF32Type(), j64);
  b.create<scf::YieldOp>(l, ValueRange{insertSorted(b, l, best, r, s, jf, k)});
  b.setInsertionPointToStart(&ifOp.getElseRegion().front());
  b.create<scf::YieldOp>(l, ValueRange{best});
  return ifOp.getResult(0);
}

/// Rows without k items (a batch smaller than k) keep -1 in the missing
/// places. Two threads take half of the rows each.
static Value lowerTopK(LowerCtx& c) {
  std::vector<int64_t> out = c.dims();
  int64_t rows = out[0], k = out[1], items = c.inDims(1)[0];
  Value scores = gemm(c, c.in(0), emitTransposed(c, c.in(1)), rows, items);
  // Scores start at -inf, indices at -1.
  SmallVector<OpFoldResult> offsets{c.b.getIndexAttr(0), c.b.getIndexAttr(k)},
      sizes{c.b.getIndexAttr(rows), c.b.getIndexAttr(k)},
      strides{c.b.getIndexAttr(1), c.b.getIndexAttr(1)};
  Value init = c.b.create<tensor::InsertSliceOp>(
      c.loc, emitFilled(c, out, -1.0),
      emitFilled(c, {rows, 2 * k}, -std::numeric_limits<double>::infinity()), offsets, sizes,
      strides);
  Value best = inHalves(c, init, evenAxis({rows, 2 * k}, {0}),
                        [&](OpBuilder& b, Location l, Value first, Value part) {
    int64_t partRows = cast<RankedTensorType>(part.getType()).getDimSize(0);
    return forRows(b, l, partRows, part, [&](OpBuilder& rb, Location rl, Value r, Value acc) {
      Value row = rb.create<arith::AddIOp>(rl, first, r);
      auto itemLoop = rb.create<scf::ForOp>(
          rl, index(rb, rl, 0), index(rb, rl, items), index(rb, rl, 1), ValueRange{acc},
          [&](OpBuilder& ib, Location il, Value j, ValueRange a) {
            ib.create<scf::YieldOp>(il, offer(ib, il, scores, a[0], row, r, j, k));
          });
      return itemLoop.getResult(0);
    });
  });
  return c.b.create<tensor::ExtractSliceOp>(c.loc, c.tensorType(out), best, offsets, sizes,
                                            strides);
}

static Value lowerGroupSum(LowerCtx& c) {
  std::vector<int64_t> dims = c.dims();
  int64_t rows = dims[0], width = 1;
  for (size_t i = 1; i < dims.size(); ++i) width *= dims[i];
  Value ids = emitReshape(c, c.in(1), {rows});
  Value same = emitMap(c, {rows, rows}, {emitReshape(c, ids, {rows, 1}), ids},
                       [](OpBuilder& b, Location l, ValueRange a) {
                         Value eq = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OEQ, a[0], a[1]);
                         Value one = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(1));
                         Value zero = b.create<arith::ConstantOp>(l, b.getF32FloatAttr(0));
                         return b.create<arith::SelectOp>(l, eq, one, zero).getResult();
                       });
  Value sums = gemm(c, same, emitReshape(c, c.in(0), {rows, width}), rows, width);
  return emitReshape(c, sums, dims);
}

std::vector<OpLowering> batchRowLowerings() {
  return {{OpKind::TopK, lowerTopK}, {OpKind::GroupSum, lowerGroupSum}};
}

}  // namespace recc::lower
