// LowerBatchRows: top_k and group_sum, the ops whose output rows read other
// rows of the batch (compiler/ops/BatchRows.cpp has their reference kernels).
//
// top_k: the scores q·itemsᵀ are one GEMM; the selection is a loop over rows
// and items (scf.for on tensors) keeping each row's best k sorted, best first,
// by insertion: an item enters only when it beats the row's k-th score, so on
// a large corpus most items cost one comparison. Scanning items in index order
// and inserting after equal scores sends ties to the lower index, as the
// reference does.
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

/// The sorted lists of one row: best scores and their item indices.
struct Best {
  Value vals, idx;  ///< tensors [rows, k], row i sorted best first
};

/// Inserts item `j` (index value `jf`) with score `s` into row `i` of `best`,
/// after every entry scoring >= s; the k-th entry falls off.
static Best insertSorted(OpBuilder& b, Location l, Best best, Value i, Value s, Value jf,
                         int64_t k) {
  Value zero = index(b, l, 0), one = index(b, l, 1), kk = index(b, l, k);
  auto count = b.create<scf::ForOp>(
      l, zero, kk, one, ValueRange{zero}, [&](OpBuilder& nb, Location nl, Value p, ValueRange a) {
        Value v = nb.create<tensor::ExtractOp>(nl, best.vals, ValueRange{i, p});
        Value ge = nb.create<arith::CmpFOp>(nl, arith::CmpFPredicate::OGE, v, s);
        Value add = nb.create<arith::SelectOp>(nl, ge, index(nb, nl, 1), index(nb, nl, 0));
        nb.create<scf::YieldOp>(nl, ValueRange{nb.create<arith::AddIOp>(nl, a[0], add)});
      });
  Value pos = count.getResult(0);
  // Shift entries pos..k-2 down by one, from the back: p = k-1-q.
  Value shifts = b.create<arith::SubIOp>(l, index(b, l, k - 1), pos);
  auto shifted = b.create<scf::ForOp>(
      l, zero, shifts, one, ValueRange{best.vals, best.idx},
      [&](OpBuilder& nb, Location nl, Value q, ValueRange a) {
        Value p = nb.create<arith::SubIOp>(nl, index(nb, nl, k - 1), q);
        Value prev = nb.create<arith::SubIOp>(nl, p, index(nb, nl, 1));
        SmallVector<Value> out;
        for (Value t : a) {
          Value v = nb.create<tensor::ExtractOp>(nl, t, ValueRange{i, prev});
          out.push_back(nb.create<tensor::InsertOp>(nl, v, t, ValueRange{i, p}));
        }
        nb.create<scf::YieldOp>(nl, out);
      });
  Value vals = b.create<tensor::InsertOp>(l, s, shifted.getResult(0), ValueRange{i, pos});
  Value idx = b.create<tensor::InsertOp>(l, jf, shifted.getResult(1), ValueRange{i, pos});
  return {vals, idx};
}

/// One item of one row: insert it when it beats the row's current k-th score.
static Best offer(OpBuilder& b, Location l, Value scores, Best best, Value i, Value j, int64_t k) {
  Value s = b.create<tensor::ExtractOp>(l, scores, ValueRange{i, j});
  Value last = b.create<tensor::ExtractOp>(l, best.vals, ValueRange{i, index(b, l, k - 1)});
  Value better = b.create<arith::CmpFOp>(l, arith::CmpFPredicate::OGT, s, last);
  auto ifOp = b.create<scf::IfOp>(l, TypeRange{best.vals.getType(), best.idx.getType()}, better,
                                  /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value j64 = b.create<arith::IndexCastOp>(l, b.getI64Type(), j);
    Value jf = b.create<arith::SIToFPOp>(l, b.getF32Type(), j64);
    Best in = insertSorted(b, l, best, i, s, jf, k);
    b.create<scf::YieldOp>(l, ValueRange{in.vals, in.idx});
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    b.create<scf::YieldOp>(l, ValueRange{best.vals, best.idx});
  }
  return {ifOp.getResult(0), ifOp.getResult(1)};
}

/// Rows without k items (a batch smaller than k) keep -1 in the missing places.
static Value lowerTopK(LowerCtx& c) {
  std::vector<int64_t> out = c.dims();
  int64_t rows = out[0], k = out[1];
  Value scores = gemm(c, c.in(0), emitTransposed(c, c.in(1)), rows, rows);
  Best init{emitFilled(c, out, -std::numeric_limits<double>::infinity()),
            emitFilled(c, out, -1.0)};
  OpBuilder& b = c.b;
  Value zero = index(b, c.loc, 0), one = index(b, c.loc, 1), n = index(b, c.loc, rows);
  auto rowLoop = b.create<scf::ForOp>(
      c.loc, zero, n, one, ValueRange{init.vals, init.idx},
      [&](OpBuilder& rb, Location rl, Value i, ValueRange ra) {
        auto itemLoop = rb.create<scf::ForOp>(
            rl, zero, n, one, ra, [&](OpBuilder& ib, Location il, Value j, ValueRange ia) {
              Best next = offer(ib, il, scores, Best{ia[0], ia[1]}, i, j, k);
              ib.create<scf::YieldOp>(il, ValueRange{next.vals, next.idx});
            });
        rb.create<scf::YieldOp>(rl, itemLoop.getResults());
      });
  return rowLoop.getResult(1);
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
