// TileMatmul: recc-tile-vectorize's GEMM recipe (step 2 of TileAndVectorize.cpp's
// overview; compiler/mlir/README.md, "GEMM recipe"): the two-thread split, the
// peeling that lets every piece be divided evenly by its register tile, cache
// tiles, B (and transposed A) packed into contiguous slivers per k block, and
// recc.zero_init's loops that start the accumulators from zero.
#include "compiler/mlir/Tiling.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/IR/IRMapping.h"

namespace recc::passes::tiling {

using namespace mlir;

namespace {

/// Register-tile rows for a matmul whose tile is `nr` lanes wide: as many
/// accumulators as the register file holds beside the operands — twenty of
/// AVX-512's 32 zmm (12 rows of 32 lanes spill and halve the kernel), eight of
/// AVX2's 16 ymm (6 rows of 16 lanes ran at 40-55% of 4 rows' rate in
/// recc_gemm_bench, one thread: M = 516, 696, 1002; other M are peeled to a
/// multiple of 8).
int64_t registerRows(int64_t m, int64_t nr) {
  bool twoRegs = nr > vectorLanes;
  if (vectorLanes >= 16)
    return twoRegs ? firstDivisor(m, {10, 8, 6, 4}) : firstDivisor(m, {14, 12, 10, 8, 6, 4});
  return twoRegs ? firstDivisor(m, {4}) : firstDivisor(m, {12, 8, 6, 4});
}

/// The largest multiple of `step` dividing n and at most `cap` (at least step).
int64_t cacheTile(int64_t n, int64_t step, int64_t cap) {
  int64_t best = step;
  for (int64_t t = step; t <= std::min(n, cap); t += step)
    if (n % t == 0) best = t;
  return best;
}

/// For an extent over `cap` that cacheTile() can only cut into blocks under
/// cap / 2: the length (a multiple of `step`, at most cap) of the blocks that
/// cut it most evenly, the last one shorter; otherwise 0. Blocks of that length
/// get cache tiles of at least cap / 2, since n / ceil(n / cap) > cap / 2.
int64_t balancedBlock(int64_t n, int64_t step, int64_t cap) {
  if (n <= cap || cacheTile(n, step, cap) >= cap / 2) return 0;
  int64_t blocks = (n + cap - 1) / cap;
  int64_t len = (n + blocks - 1) / blocks;
  return (len + step - 1) / step * step;
}

/// A zero fill of `op`'s output, placed right before `op` and vectorized.
void zeroOutput(IRRewriter& rw, Operation* op) {
  rw.setInsertionPoint(op);
  Location loc = op->getLoc();
  Value zero = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(0.0f));
  auto fill = rw.create<linalg::FillOp>(loc, ValueRange{zero},
                                        ValueRange{cast<linalg::LinalgOp>(op).getDpsInits()[0]});
  tileGeneric(rw, fill);
}

/// Tags `loop` with `tag` and counts it on the enclosing function.
void tagZeroInitLoop(Operation* loop, StringRef tag) {
  loop->setAttr(tag, UnitAttr::get(loop->getContext()));
  auto f = loop->getParentOfType<func::FuncOp>();
  auto n = f->getAttrOfType<IntegerAttr>(kZeroInitLoops);
  f->setAttr(kZeroInitLoops,
             IntegerAttr::get(IntegerType::get(loop->getContext(), 64), n ? n.getInt() + 1 : 1));
}

/// Tiles `op` once with `sizes`; returns the outermost new loop and the tiled
/// op, or nothing (op untouched) on failure.
std::optional<std::pair<Operation*, Operation*>> tileLoops(IRRewriter& rw, Operation* op,
                                                           ArrayRef<int64_t> sizes) {
  scf::SCFTilingOptions opts;
  opts.setTileSizes(getAsIndexOpFoldResult(rw.getContext(), sizes));
  rw.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> res = scf::tileUsingSCF(rw, cast<TilingInterface>(op), opts);
  if (failed(res) || res->loops.empty()) return std::nullopt;
  rw.eraseOp(op);
  return std::make_pair(res->loops.front().getOperation(), res->tiledOps.back());
}

/// Tiles `op` once with `sizes` (0 = untiled); returns the tiled op, or null
/// (op untouched) on failure.
Operation* tileOnce(IRRewriter& rw, Operation* op, ArrayRef<int64_t> sizes) {
  auto res = tileLoops(rw, op, sizes);
  return res ? res->second : nullptr;
}

/// The fallback for recc.zero_init: zero C, then tile and vectorize as usual.
void zeroFilledThenTiled(IRRewriter& rw, Operation* op, ArrayRef<int64_t> cache,
                         ArrayRef<int64_t> reg) {
  zeroOutput(rw, op);
  tileAndVectorize(rw, op, {SmallVector<int64_t>(cache), SmallVector<int64_t>(reg)});
}

/// A buffer of `shape` f32 on the stack (64-byte aligned), allocated where
/// each thread that runs `op` gets its own: at the start of the body of the
/// scf.forall that runs `op` on two threads (splitEvenly), else at the entry
/// of `op`'s function (the two halves of split(), which run on two threads,
/// are two ops, and each piece gets its own buffer).
Value entryAlloca(IRRewriter& rw, Operation* op, ArrayRef<int64_t> shape) {
  OpBuilder::InsertionGuard guard(rw);
  if (auto forall = op->getParentOfType<scf::ForallOp>())
    rw.setInsertionPointToStart(forall.getBody());
  else
    rw.setInsertionPointToStart(&op->getParentOfType<func::FuncOp>().getBody().front());
  auto type = MemRefType::get(shape, rw.getF32Type());
  return rw.create<memref::AllocaOp>(op->getLoc(), type, rw.getI64IntegerAttr(64));
}

/// Copies the B operand of matmul `op` (a [kc, nr] sliver of B, rows N apart)
/// into a contiguous stack buffer right before `op` and makes `op` read it.
void packB(IRRewriter& rw, Operation* op) {
  auto lop = cast<linalg::LinalgOp>(op);
  OpOperand* b = lop.getDpsInputOperand(1);
  auto type = cast<MemRefType>(b->get().getType());
  Value packed = entryAlloca(rw, op, type.getShape());
  rw.setInsertionPoint(op);
  auto copy = rw.create<linalg::CopyOp>(op->getLoc(), b->get(), packed);
  rw.modifyOpInPlace(op, [&] { b->set(packed); });
  tileGeneric(rw, copy);
}

/// For matmul_transpose_a, whose A tile is stored [kc, mc] (rows M apart):
/// copies it into [mc / mr, kc, mr], one contiguous [kc, mr] sliver per
/// register tile of rows, right before `op`. Returns the packed buffer.
Value packTransposedA(IRRewriter& rw, Operation* op, int64_t mr) {
  auto lop = cast<linalg::LinalgOp>(op);
  Value a = lop.getDpsInputOperand(0)->get();
  ArrayRef<int64_t> shape = cast<MemRefType>(a.getType()).getShape();
  int64_t kc = shape[0], mc = shape[1];
  Value packed = entryAlloca(rw, op, {mc / mr, kc, mr});
  Location loc = op->getLoc();
  rw.setInsertionPoint(op);
  // A[k, i * mr + l] viewed as A3[k, i, l]: the copy is then a permutation.
  Value a3 = rw.create<memref::ExpandShapeOp>(loc, SmallVector<int64_t>{kc, mc / mr, mr}, a,
                                              SmallVector<ReassociationIndices>{{0}, {1, 2}});
  MLIRContext* ctx = rw.getContext();
  AffineExpr i = getAffineDimExpr(0, ctx), k = getAffineDimExpr(1, ctx),
             l = getAffineDimExpr(2, ctx);
  SmallVector<AffineMap> maps{AffineMap::get(3, 0, {k, i, l}, ctx),
                              AffineMap::getMultiDimIdentityMap(3, ctx)};
  auto copy = rw.create<linalg::GenericOp>(
      loc, TypeRange{}, ValueRange{a3}, ValueRange{packed}, maps,
      SmallVector<utils::IteratorType>(3, utils::IteratorType::parallel),
      [](OpBuilder& b, Location at, ValueRange args) { b.create<linalg::YieldOp>(at, args[0]); });
  tileGeneric(rw, copy);
  return packed;
}

/// Makes register-tile matmul `op`, inside the loop `rows` over its mr-row
/// tiles, read its A sliver from `packed` (packTransposedA's buffer).
void readPackedA(IRRewriter& rw, Operation* op, scf::ForOp rows, Value packed, int64_t mr) {
  auto type = cast<MemRefType>(packed.getType());
  int64_t kc = type.getShape()[1];
  Location loc = op->getLoc();
  rw.setInsertionPoint(op);
  Value tile = rw.create<arith::DivUIOp>(loc, rows.getInductionVar(),
                                         rw.create<arith::ConstantIndexOp>(loc, mr));
  SmallVector<OpFoldResult> offsets{tile, rw.getIndexAttr(0), rw.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes{rw.getIndexAttr(1), rw.getIndexAttr(kc), rw.getIndexAttr(mr)};
  SmallVector<OpFoldResult> strides(3, rw.getIndexAttr(1));
  auto sliverType = cast<MemRefType>(memref::SubViewOp::inferRankReducedResultType(
      {kc, mr}, type, offsets, sizes, strides));
  Value sliver = rw.create<memref::SubViewOp>(loc, sliverType, packed, offsets, sizes, strides);
  OpOperand* a = cast<linalg::LinalgOp>(op).getDpsInputOperand(0);
  rw.modifyOpInPlace(op, [&] { a->set(sliver); });
}

/// Whether a matmul piece of cache tile `cache` and register tile `reg` is
/// worth packing: each packed B sliver ([kc, nr]) is then read by at least
/// four register tiles of rows, and its k extent is more than a few steps.
bool worthPacking(ArrayRef<int64_t> cache, ArrayRef<int64_t> reg) {
  return cache[0] >= 4 * reg[0] && cache[2] >= 4 * reg[2] && cache[1] >= reg[1];
}

/// Cache tiles, then (GotoBLAS's loop order) one nr-wide sliver of B at a
/// time, copied to a contiguous buffer, swept by every mr-row register tile of
/// the cache tile. B's rows are N floats apart; where N * 4 bytes is a multiple
/// of 1 KiB (N = 256, 512: the usual layer widths), the rows of an unpacked
/// sliver fall into a few cache sets and evict one another, and the kernel ran
/// at half the rate of N = 544 (recc_gemm_bench, one thread, AVX2). With
/// `zeroInit`, the k-block loop (or, with one k block, the sliver loop) is
/// tagged as in tileMatmulPiece (the caller zero-fills C where the
/// accumulators cannot be hoisted, and passes zeroInit = false).
void tilePackedMatmul(IRRewriter& rw, Operation* op, ArrayRef<int64_t> cache,
                      ArrayRef<int64_t> reg, bool zeroInit) {
  SmallVector<int64_t> r = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
  auto fallback = [&](Operation* piece) {
    zeroInit ? zeroFilledThenTiled(rw, piece, cache, reg)
             : (void)tileAndVectorize(rw, piece, {SmallVector<int64_t>(cache),
                                                  SmallVector<int64_t>(reg)});
  };
  if (cache[0] < r[0] || cache[1] < r[1]) {
    Operation* tiled = tileOnce(rw, op, {cache[0] < r[0] ? cache[0] : 0,
                                         cache[1] < r[1] ? cache[1] : 0, 0});
    if (!tiled) return fallback(op);
    op = tiled;
  }
  std::optional<StringRef> tag = zeroInit ? std::optional<StringRef>(kZeroAlways) : std::nullopt;
  if (cache[2] < r[2]) {
    auto kLoop = tileLoops(rw, op, {0, 0, cache[2]});
    if (!kLoop) return fallback(op);
    if (tag) tagZeroInitLoop(kLoop->first, kZeroFirstK);
    tag = std::nullopt;
    op = kLoop->second;
  }
  // Transposed A: one packed copy of the tile per k block, read by every sliver.
  Value packedA;
  if (isa<linalg::MatmulTransposeAOp>(op)) packedA = packTransposedA(rw, op, reg[0]);
  Operation* outer = nullptr;
  if (reg[1] < cache[1]) {
    auto sliver = tileLoops(rw, op, {0, reg[1], 0});
    if (!sliver) return fallback(op);
    outer = sliver->first;
    op = sliver->second;
  }
  packB(rw, op);
  auto rows = tileLoops(rw, op, {reg[0], 0, 0});
  if (!rows) return fallback(op);
  if (!outer) outer = rows->first;
  if (packedA) readPackedA(rw, rows->second, cast<scf::ForOp>(rows->first), packedA, reg[0]);
  if (tag) tagZeroInitLoop(outer, *tag);
  tileAndVectorize(rw, rows->second, {{0, 0, reg[2]}});
}

/// Register and cache tiles for a matmul piece. M and N are first peeled so
/// every piece is divided evenly by its register tile: N into a multiple of 32
/// plus a 16 and a <16 remainder, M into a multiple of 8 plus a remainder, K
/// into a multiple of 8 plus a remainder, and a long K without a good cache
/// tile into even pieces (balancedBlock).
/// With `zeroInit` (recc.zero_init), the first k block of every register tile
/// starts its accumulators from zero (C is never filled), see below.
void tileMatmulPiece(IRRewriter& rw, Operation* op, bool zeroInit) {
  SmallVector<int64_t> r = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
  int64_t m = r[0], n = r[1], k = r[2];
  // A piece past `point` along K accumulates onto the first piece's C, so it
  // never starts from zero.
  auto peel = [&](unsigned dim, int64_t point) {
    auto [a, b] = split(rw, op, dim, point);
    tileMatmulPiece(rw, a, zeroInit);
    if (b) tileMatmulPiece(rw, b, zeroInit && dim != 2);
  };
  int64_t nr = firstDivisor(n, {2 * vectorLanes, vectorLanes});
  // A wide N that only one register divides (696 = 87 x 8 on AVX2) runs
  // one-register tiles, a load per FMA: peel it to two-register tiles plus a
  // narrow remainder instead.
  if (nr != 2 * vectorLanes && n > 8 * vectorLanes) return peel(1, n - n % (2 * vectorLanes));
  if (!nr && n > 2 * vectorLanes) return peel(1, n - n % (2 * vectorLanes));
  if (!nr && n > vectorLanes) return peel(1, vectorLanes);
  if (!nr) nr = n;
  int64_t mr = registerRows(m, nr);
  if (!mr && m > 8) return peel(0, m - m % 8);
  if (!mr) mr = m;
  // K: a multiple of 8 plus a remainder that accumulates into the same C
  // (K = 129 or 385, a dense feature beside embeddings, left kr = 1: one FMA
  // per loaded accumulator tile).
  if (k > 16 && k % 8) return peel(2, k - k % 8);
  int64_t kr = firstDivisor(k, {8, 4, 2, 1});
  // A K over 256 whose multiples of kr divide it only into short blocks
  // (296 = 8 x 37: one k block of 8, the accumulators loaded and stored every
  // 8 FMAs, one thread: 68 against 98 GFLOP/s after the cut) is split
  // into blocks of equal length instead (152 + 144), the second accumulating.
  if (int64_t kc = balancedBlock(k, kr, 256); kc) return peel(2, k - k % kc);
  // Transposed A is packed per cache tile on the stack: at most 128 x 256 f32.
  int64_t mCap = isa<linalg::MatmulTransposeAOp>(op) ? 128 : 240;
  SmallVector<int64_t> cache{cacheTile(m, mr, mCap), cacheTile(n, nr, 256), cacheTile(k, kr, 256)};
  SmallVector<int64_t> reg{mr, nr, kr};
  Value c = cast<linalg::LinalgOp>(op).getDpsInits()[0];
  while (auto view = c.getDefiningOp<memref::SubViewOp>()) c = view.getSource();
  bool hoistable = cache[2] >= 2 * kr && isa<BlockArgument>(c);
  if (worthPacking(cache, reg)) {
    if (zeroInit && !hoistable) zeroOutput(rw, op);
    return tilePackedMatmul(rw, op, cache, reg, zeroInit && hoistable);
  }
  if (!zeroInit) {
    tileAndVectorize(rw, op, {cache, reg});
    return;
  }
  // recc.zero_init (C starts at zero): C is neither filled nor read before
  // its first k block. The loop that runs the k blocks (or, with one k block,
  // the outer register loop) is tagged, and recc-lower-vectors starts the
  // hoisted accumulators of the first block from zero instead of loading them.
  // The accumulators are only hoisted (and so can start from zero) where a
  // k loop of at least two register steps remains, and where C is a kernel
  // argument or a subview of one (views of the step's arena may alias, which
  // blocks hoisting).
  if (!hoistable) return zeroFilledThenTiled(rw, op, cache, reg);
  if (cache[0] < m || cache[1] < n) {
    Operation* tiled =
        tileOnce(rw, op, {cache[0] < m ? cache[0] : 0, cache[1] < n ? cache[1] : 0, 0});
    if (!tiled) return zeroFilledThenTiled(rw, op, cache, reg);
    op = tiled;
  }
  StringRef tag = kZeroFirstK;
  if (cache[2] < k) {
    auto kLoop = tileLoops(rw, op, {0, 0, cache[2]});
    if (!kLoop) return zeroFilledThenTiled(rw, op, cache, reg);
    tagZeroInitLoop(kLoop->first, tag);
    op = kLoop->second;
  } else {
    tag = kZeroAlways;
  }
  SmallVector<int64_t> r2 = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
  SmallVector<int64_t> outer{mr < r2[0] ? mr : 0, nr < r2[1] ? nr : 0, 0};
  if (outer[0] || outer[1]) {
    auto regLoop = tileLoops(rw, op, outer);
    if (!regLoop) return zeroFilledThenTiled(rw, op, cache, reg);
    if (tag == kZeroAlways) tagZeroInitLoop(regLoop->first, tag);
    op = regLoop->second;
  } else if (tag == kZeroAlways) {
    return zeroFilledThenTiled(rw, op, cache, reg);  // one register tile: nothing to tag
  }
  tileAndVectorize(rw, op, {{0, 0, kr}});
}

/// A long K into a small C (SAR-Net's [96,80] weight gradients over 102,400
/// behaviour rows): split N or M, each thread read all of one operand, 1.5x
/// the bytes of a split along K (96x80x102400 transposed-A ran at 82 GFLOP/s
/// against OpenBLAS's 111). Here each thread sums half of K, the second into
/// a scratch C on the stack, added to C after both are done; the two halves
/// are one op in an scf.forall whose output is C or the scratch, so the code
/// is emitted once.
bool splitAlongK(IRRewriter& rw, linalg::LinalgOp op, bool zeroInit) {
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  int64_t m = r[0], n = r[1], k = r[2], half = k / 2;
  if (k < 8 * std::max(m, n) || k < 2048 || m * n > (1 << 15) || k % 16) return false;
  bool transposedA = isa<linalg::MatmulTransposeAOp>(op.getOperation());
  Location loc = op.getLoc();
  Value a = op.getDpsInputs()[0], b = op.getDpsInputs()[1], c = op.getDpsInits()[0];
  rw.setInsertionPoint(op);
  auto type = MemRefType::get({m, n}, rw.getF32Type());
  Value scratch = rw.create<memref::AllocaOp>(loc, type);
  Value scratchAsC = rw.create<memref::CastOp>(loc, c.getType(), scratch);
  if (!zeroInit) {  // C accumulates: the scratch starts from zero
    Value zero = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(0));
    tileGeneric(rw, rw.create<linalg::FillOp>(loc, ValueRange{zero}, ValueRange{scratch}));
  }
  auto forall = rw.create<scf::ForallOp>(loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(2)},
                                         ValueRange{}, std::nullopt);
  rw.setInsertionPoint(forall.getBody()->getTerminator());
  Value t = forall.getInductionVar(0);
  Value first = rw.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, t,
                                         rw.create<arith::ConstantIndexOp>(loc, 0));
  OpFoldResult at = rw.create<arith::MulIOp>(loc, t, rw.create<arith::ConstantIndexOp>(loc, half))
                        .getResult();
  auto rows = [&](Value v, int64_t cols, bool kFirst) {
    SmallVector<OpFoldResult> offsets{kFirst ? at : rw.getIndexAttr(0),
                                      kFirst ? rw.getIndexAttr(0) : at};
    SmallVector<OpFoldResult> sizes{rw.getIndexAttr(kFirst ? half : cols),
                                    rw.getIndexAttr(kFirst ? cols : half)};
    SmallVector<OpFoldResult> ones(2, rw.getIndexAttr(1));
    return rw.create<memref::SubViewOp>(loc, v, offsets, sizes, ones).getResult();
  };
  Value aHalf = rows(a, m, transposedA), bHalf = rows(b, n, true);
  Value out = rw.create<arith::SelectOp>(loc, first, c, scratchAsC);
  IRMapping map;
  map.map(a, aHalf);
  map.map(b, bHalf);
  map.map(c, out);
  Operation* piece = rw.clone(*op, map);
  rw.setInsertionPointAfter(forall);
  AffineMap id = rw.getMultiDimIdentityMap(2);
  SmallVector<utils::IteratorType> iters(2, utils::IteratorType::parallel);
  auto add = rw.create<linalg::GenericOp>(
      loc, ValueRange{scratch}, ValueRange{c}, ArrayRef<AffineMap>{id, id}, iters,
      [](OpBuilder& nb, Location nl, ValueRange v) {
        nb.create<linalg::YieldOp>(nl, nb.create<arith::AddFOp>(nl, v[1], v[0]).getResult());
      });
  rw.eraseOp(op);
  tileMatmulPiece(rw, piece, zeroInit);
  tileGeneric(rw, add);
  return true;
}

}  // namespace

void tileMatmul(IRRewriter& rw, linalg::LinalgOp op, int threads) {
  bool zeroInit = op->hasAttr("recc.zero_init");
  op->removeAttr("recc.zero_init");
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  int64_t m = r[0], n = r[1], k = r[2];
  // From 4 MFLOP: UMA²'s [512, 128] x [128, 32] layers (4.2 MFLOP: about
  // 40 us, against a few for the fork and join) and their gradients ran on
  // one thread, 1% of its step's samples, while the other spun. A
  // matrix-vector product (N = 1) is bound by reading A, not by its flops:
  // from 32k elements of A it is split too (DAMCAR's [512, 100] x [100, 1]
  // logits ran on one thread, 0.4% of a generator step's samples).
  bool big = 2.0 * (double)m * (double)n * (double)k >= 4e6 || (n == 1 && m * k >= (1 << 15));
  if (threads > 1 && big && splitAlongK(rw, op, zeroInit)) return;
  if (threads > 1 && big && (n >= 128 || m >= 40)) {
    // Split N (or M when N is narrow) in two near the middle, at a multiple
    // of the register tile, and give each thread one statically shaped half.
    // N only when it halves into multiples of the 32-lane register tile (both
    // halves then tile evenly and take equal time); otherwise M, whose halves
    // peel identically (ESM²'s data gradient, N = 696: split M).
    bool splitN = n >= 128 && (n % 64 == 0 || m < 40);
    unsigned dim = splitN ? 1 : 0;
    int64_t half = splitN ? halfRounded(n, 32) : halfRounded(m, 10);
    if (Operation* piece = splitEvenly(rw, op, dim, half)) return tileMatmulPiece(rw, piece, zeroInit);
    auto [a, b] = split(rw, op, dim, half);
    if (b) {
      runInParallel(rw, a, b);
      tileMatmulPiece(rw, a, zeroInit);
      tileMatmulPiece(rw, b, zeroInit);
      return;
    }
    op = cast<linalg::LinalgOp>(a);
  }
  tileMatmulPiece(rw, op, zeroInit);
}

}  // namespace recc::passes::tiling
