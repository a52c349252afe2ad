// TileAndVectorize: the passes that turn bufferized linalg ops into register-
// blocked vector code for AVX-512, following the recipe that reaches BLAS-class
// speed with upstream MLIR (see docs in DESIGN.md, "What upstream MLIR 19 can
// reach here").
//
// recc-tile-vectorize (per function, on memrefs):
//   1. memref.copy → linalg.copy, so copies are tiled and vectorized too (and
//      strided copies never call the `memrefCopy` runtime library function).
//   2. matmul: optionally split across two threads (N when it halves into
//      multiples of 32, else M, cut near the middle; equal halves are one op
//      in a two-iteration scf.forall, unequal ones two ops), with
//      `recc.zero_init` (the fill recc-outline-kernels folded in) tag the
//      loops whose first k block starts from zero, peel M, N and K so that
//      every piece is divided evenly by its register tile, tile to cache tiles
//      (≤240 × ≤256 × ≤256), then per k block copy each nr-wide sliver of B
//      (and, for transposed A, the A tile) into contiguous stack buffers that
//      register tiles of mr × nr × kr sweep (10 × 32 × 8 when shapes allow:
//      twenty zmm accumulators; 4 × 16 × 8 on AVX2: eight ymm) — and
//      vectorize the innermost tile with static shapes (no masks:
//      non-dividing tiles would silently stay scalar).
//   3. other linalg ops: with two threads, halve large ones along their
//      outermost parallel loop; peel the innermost dimension to a multiple of
//      16, tile it by 16 (16 × 16 for transposes) and the rest by 1, vectorize.
//   4. Cleanup patterns (transfer permutation lowering, reduction→contract).
// recc-lower-vectors (after fold-memref-alias-ops + canonicalize + CSE, which
// must come first or the accumulators are reloaded every k-step):
//   5. Hoist redundant transfer pairs out of the k loops (accumulators stay in
//      registers), start recc.zero_init accumulators from zero, unroll
//      two-register tiles into one-register (zmm or ymm) operations, then lower
//      contractions to outer products/FMAs, transfers to loads/stores,
//      16×16 transposes to shuffles.
// recc-approximate-math: polynomial exp/log/log1p/tanh that vectorize (the
//   LLVM intrinsics would scalarize into libm calls).
#include "compiler/mlir/Passes.h"

#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Hoisting.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Vector/Transforms/LoweringPatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorRewritePatterns.h"
#include "mlir/Dialect/Vector/Transforms/VectorTransforms.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace recc::passes {

using namespace mlir;

namespace {

/// f32 lanes of one vector register of the target: 16 (zmm, AVX-512) or 8
/// (ymm, AVX2). Set from the passes' `lanes` option when each runs; the
/// passes run one at a time (makeContext disables MLIR's threading), so one
/// file-level setting serves the helpers below without threading it through.
int64_t vectorLanes = 16;

/// The first of `prefs` dividing n, or 0.
int64_t firstDivisor(int64_t n, std::initializer_list<int64_t> prefs) {
  for (int64_t p : prefs)
    if (n % p == 0) return p;
  return 0;
}

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

/// Tiles `op` level by level (a level of all zeros is skipped; a size equal to
/// the extent is dropped) and vectorizes the innermost tile. Returns false if
/// tiling failed (the op is then left for convert-linalg-to-loops).
bool tileAndVectorize(IRRewriter& rw, Operation* op, ArrayRef<SmallVector<int64_t>> levels) {
  for (size_t lvl = 0; lvl < levels.size(); ++lvl) {
    SmallVector<int64_t> ranges = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
    SmallVector<int64_t> sizes = levels[lvl];
    bool any = false;
    for (size_t i = 0; i < sizes.size(); ++i) {
      if (sizes[i] >= ranges[i]) sizes[i] = 0;
      any |= sizes[i] != 0;
    }
    if (!any) continue;
    scf::SCFTilingOptions opts;
    opts.setTileSizes(getAsIndexOpFoldResult(rw.getContext(), sizes));
    rw.setInsertionPoint(op);
    FailureOr<scf::SCFTilingResult> res = scf::tileUsingSCF(rw, cast<TilingInterface>(op), opts);
    if (failed(res)) return false;
    rw.eraseOp(op);
    op = res->tiledOps.back();
  }
  rw.setInsertionPoint(op);
  (void)linalg::vectorize(rw, op);
  return true;
}

/// Splits `op` along loop `dim` at `point`; returns both parts.
std::pair<Operation*, Operation*> split(IRRewriter& rw, Operation* op, unsigned dim,
                                        int64_t point) {
  rw.setInsertionPoint(op);
  auto [a, b] = linalg::splitOp(rw, cast<TilingInterface>(op), dim, rw.getIndexAttr(point));
  return {a.getOperation(), b ? b.getOperation() : nullptr};
}

void tileGeneric(IRRewriter& rw, Operation* op, int threads = 1);
Operation* splitEvenly(IRRewriter& rw, Operation* op, unsigned dim, int64_t half);
/// A zero fill of `op`'s output, placed right before `op` and vectorized.
void zeroOutput(IRRewriter& rw, Operation* op) {
  rw.setInsertionPoint(op);
  Location loc = op->getLoc();
  Value zero = rw.create<arith::ConstantOp>(loc, rw.getF32FloatAttr(0.0f));
  auto fill = rw.create<linalg::FillOp>(loc, ValueRange{zero},
                                        ValueRange{cast<linalg::LinalgOp>(op).getDpsInits()[0]});
  tileGeneric(rw, fill);
}

/// Loop attributes for recc.zero_init matmuls (see tileMatmulPiece): the
/// k-block loop whose first iteration starts the accumulators from zero, or a
/// register loop all of whose accumulators start from zero.
constexpr StringLiteral kZeroFirstK = "recc.zero_first_k";
constexpr StringLiteral kZeroAlways = "recc.zero_always";
/// How many loops of a function were tagged (checked when they are consumed).
constexpr StringLiteral kZeroInitLoops = "recc.zero_init_loops";

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
/// into a multiple of 8 plus a remainder.
/// With `zeroInit` (recc.zero_init), the first k block of every register tile
/// starts its accumulators from zero (C is never filled), see below.
void tileMatmulPiece(IRRewriter& rw, Operation* op, bool zeroInit) {
  SmallVector<int64_t> r = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
  int64_t m = r[0], n = r[1], k = r[2];
  auto peel = [&](unsigned dim, int64_t point) {
    auto [a, b] = split(rw, op, dim, point);
    tileMatmulPiece(rw, a, zeroInit);
    if (b) tileMatmulPiece(rw, b, zeroInit);
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
  if (k > 16 && k % 8) {
    auto [a, b] = split(rw, op, 2, k - k % 8);
    tileMatmulPiece(rw, a, zeroInit);
    if (b) tileMatmulPiece(rw, b, /*zeroInit=*/false);
    return;
  }
  int64_t kr = firstDivisor(k, {8, 4, 2, 1});
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

/// `q`-multiple nearest to x/2 (at least q).
int64_t halfRounded(int64_t x, int64_t q) { return std::max(q, (x / 2 + q / 2) / q * q); }

/// Runs the two parts of a split op on two threads:
///   scf.forall (%t) in (2) { scf.if (%t == 0) { a } else { b } }
/// (scf-forall-to-parallel and convert-scf-to-openmp turn it into OpenMP).
void runInParallel(IRRewriter& rw, Operation* a, Operation* b) {
  Location loc = a->getLoc();
  rw.setInsertionPointAfter(b);
  auto forall = rw.create<scf::ForallOp>(loc, ArrayRef<OpFoldResult>{rw.getIndexAttr(2)},
                                         ValueRange{}, std::nullopt);
  rw.setInsertionPoint(forall.getBody()->getTerminator());
  Value zero = rw.create<arith::ConstantIndexOp>(loc, 0);
  Value first = rw.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                         forall.getInductionVar(0), zero);
  auto branch = rw.create<scf::IfOp>(loc, first, /*withElseRegion=*/true);
  a->moveBefore(branch.thenBlock()->getTerminator());
  b->moveBefore(branch.elseBlock()->getTerminator());
}

/// Where `op`'s loop `dim` is exactly two `half`s: one scf.forall over the two
/// halves (the two threads) around a single op on a half, so that the code of
/// a half is emitted once, not once per thread. Returns that op, or null (op
/// untouched) where the halves differ or tiling fails.
Operation* splitEvenly(IRRewriter& rw, Operation* op, unsigned dim, int64_t half) {
  SmallVector<int64_t> r = cast<linalg::LinalgOp>(op).getStaticLoopRanges();
  if (2 * half != r[dim]) return nullptr;
  SmallVector<int64_t> sizes(r.size(), 0);
  sizes[dim] = half;
  scf::SCFTilingOptions opts;
  opts.setTileSizes(getAsIndexOpFoldResult(rw.getContext(), sizes));
  opts.setLoopType(scf::SCFTilingOptions::LoopType::ForallOp);
  rw.setInsertionPoint(op);
  FailureOr<scf::SCFTilingResult> res = scf::tileUsingSCF(rw, cast<TilingInterface>(op), opts);
  if (failed(res) || res->tiledOps.empty()) return nullptr;
  rw.eraseOp(op);
  return res->tiledOps.back();
}

void tileMatmul(IRRewriter& rw, linalg::LinalgOp op, int threads) {
  bool zeroInit = op->hasAttr("recc.zero_init");
  op->removeAttr("recc.zero_init");
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  int64_t m = r[0], n = r[1], k = r[2];
  bool big = 2.0 * (double)m * (double)n * (double)k >= 8e6;
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

/// The outermost loop of `op` that is parallel, indexes every output (so the
/// two halves of a split along it write disjoint memory) and is at least 32
/// long, or -1. Column reductions (a bias gradient: rows reduced, columns
/// parallel) split along their columns.
int64_t splittableLoop(linalg::LinalgOp op) {
  SmallVector<int64_t> r = op.getStaticLoopRanges();
  auto iters = op.getIteratorTypesArray();
  for (int64_t d = 0; d < (int64_t)r.size(); ++d) {
    if (iters[d] != utils::IteratorType::parallel || r[d] < 32) continue;
    bool all = true;
    for (OpOperand& out : op.getDpsInitsMutable())
      all &= op.getMatchingIndexingMap(&out).isFunctionOfDim(d);
    if (all) return d;
  }
  return -1;
}

/// Elementwise ops, reductions, fills, copies and transposes: 16 lanes along
/// the innermost loop (and 16 × 16 for transposes), 1 elsewhere. With two
/// threads, large ops are first cut in two along their outermost splittable
/// loop (at a multiple of 16 when that is the vectorized innermost loop).
void tileGeneric(IRRewriter& rw, Operation* op, int threads) {
  auto lop = cast<linalg::LinalgOp>(op);
  SmallVector<int64_t> r = lop.getStaticLoopRanges();
  int64_t rank = (int64_t)r.size();
  if (rank == 0) return;
  int64_t elements = 1;
  for (int64_t e : r) elements *= e;
  if (int64_t d = rank >= 2 ? splittableLoop(lop) : -1;
      threads > 1 && elements >= (1 << 17) && d >= 0) {
    int64_t point = d == rank - 1 ? halfRounded(r[d], vectorLanes) : r[d] / 2;
    if (Operation* piece = splitEvenly(rw, op, (unsigned)d, point)) return tileGeneric(rw, piece);
    auto [a, b] = split(rw, op, (unsigned)d, point);
    if (b) {
      runInParallel(rw, a, b);
      tileGeneric(rw, a);
      tileGeneric(rw, b);
      return;
    }
    op = a;
  }
  SmallVector<int64_t> vecDims{rank - 1};
  if (isa<linalg::TransposeOp>(op) && rank >= 2) vecDims = {rank - 2, rank - 1};
  for (int64_t d : vecDims) {
    if (r[d] > vectorLanes && r[d] % vectorLanes) {
      auto [a, b] = split(rw, op, (unsigned)d, r[d] - r[d] % vectorLanes);
      tileGeneric(rw, a);
      if (b) tileGeneric(rw, b);
      return;
    }
  }
  SmallVector<int64_t> sizes(rank, 1);
  for (int64_t d : vecDims) sizes[d] = std::min(r[d], vectorLanes);
  tileAndVectorize(rw, op, {sizes});
}

struct TileVectorizePass
    : public PassWrapper<TileVectorizePass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(TileVectorizePass)
  TileVectorizePass() = default;
  TileVectorizePass(const TileVectorizePass& other) : PassWrapper(other) {}

  Option<int> threads{*this, "threads", llvm::cl::desc("threads for large matmuls"),
                      llvm::cl::init(1)};
  Option<int> lanes{*this, "lanes", llvm::cl::desc("f32 lanes of a vector register (16 or 8)"),
                    llvm::cl::init(16)};
  Option<bool> vectorize{*this, "vectorize",
                         llvm::cl::desc("tile and vectorize (false: only memref.copy → linalg.copy)"),
                         llvm::cl::init(true)};

  StringRef getArgument() const final { return "recc-tile-vectorize"; }
  StringRef getDescription() const final {
    return "Tile linalg ops on buffers to AVX-512 register tiles and vectorize them";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<affine::AffineDialect, arith::ArithDialect, linalg::LinalgDialect,
                    memref::MemRefDialect, scf::SCFDialect, vector::VectorDialect>();
  }

  void runOnOperation() override {
    func::FuncOp f = getOperation();
    IRRewriter rw(&getContext());
    SmallVector<memref::CopyOp> copies;
    f.walk([&](memref::CopyOp c) { copies.push_back(c); });
    for (memref::CopyOp c : copies) {
      rw.setInsertionPoint(c);
      rw.replaceOpWithNewOp<linalg::CopyOp>(c, c.getSource(), c.getTarget());
    }
    if (!vectorize) return;
    vectorLanes = lanes;
    SmallVector<Operation*> ops;
    f.walk([&](linalg::LinalgOp op) {
      if (op.hasPureBufferSemantics() && !op.hasDynamicShape()) ops.push_back(op);
    });
    for (Operation* op : ops) {
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op))
        tileMatmul(rw, cast<linalg::LinalgOp>(op), threads);
      else tileGeneric(rw, op, threads);
    }
    RewritePatternSet ps(&getContext());
    vector::populateVectorTransferPermutationMapLoweringPatterns(ps);
    vector::populateVectorReductionToContractPatterns(ps);
    vector::populateSinkVectorBroadcastPatterns(ps);
    vector::populateCastAwayVectorLeadingOneDimPatterns(ps);
    vector::TransferReadOp::getCanonicalizationPatterns(ps, &getContext());
    vector::TransferWriteOp::getCanonicalizationPatterns(ps, &getContext());
    if (failed(applyPatternsAndFoldGreedily(f, std::move(ps)))) signalPassFailure();
  }
};

/// Unroll shape for vector ops wider than one zmm: the dimension that maps to
/// the innermost vector lanes is cut to 16 (when a multiple of 16).
std::optional<SmallVector<int64_t>> nativeLanes(Operation* op) {
  auto cut = [](SmallVector<int64_t> shape, size_t dim) -> std::optional<SmallVector<int64_t>> {
    if (shape.empty() || shape[dim] <= vectorLanes || shape[dim] % vectorLanes) return std::nullopt;
    shape[dim] = vectorLanes;
    return shape;
  };
  if (auto c = dyn_cast<vector::ContractionOp>(op)) {
    SmallVector<int64_t> bounds;
    c.getIterationBounds(bounds);
    AffineMap acc = c.getIndexingMapsArray().back();
    if (acc.getNumResults() == 0) return std::nullopt;
    auto last = dyn_cast<AffineDimExpr>(acc.getResults().back());
    if (!last) return std::nullopt;
    return cut(bounds, last.getPosition());
  }
  VectorType t;
  if (auto r = dyn_cast<vector::TransferReadOp>(op)) t = r.getVectorType();
  else if (auto w = dyn_cast<vector::TransferWriteOp>(op)) t = w.getVectorType();
  else if (op->getNumResults() == 1 && OpTrait::hasElementwiseMappableTraits(op))
    t = dyn_cast<VectorType>(op->getResult(0).getType());
  if (!t || !t.getElementType().isF32()) return std::nullopt;
  SmallVector<int64_t> shape(t.getShape());
  return cut(shape, shape.size() - 1);
}

/// recc.zero_init matmuls (tagged loops, see tileMatmulPiece): after the
/// accumulators are hoisted, a k loop's initial accumulators are transfer_reads
/// of C right before it. They become zeros where every entry of the loop
/// starts a register tile's k sum (kZeroAlways, or reads hoisted above the
/// tagged k-block loop itself), else `scf.if (first k block) zeros else reads`.
/// C is never zero-filled for these loops, so any other read of C, or a tagged
/// loop that canonicalization dropped, is an internal error.
LogicalResult startAccumulatorsAtZero(func::FuncOp f) {
  SmallVector<scf::ForOp> tagged;
  f.walk([&](scf::ForOp loop) {
    if (loop->hasAttr(kZeroFirstK) || loop->hasAttr(kZeroAlways)) tagged.push_back(loop);
  });
  auto expected = f->getAttrOfType<IntegerAttr>(kZeroInitLoops);
  if (expected) f->removeAttr(kZeroInitLoops);
  if ((int64_t)tagged.size() != (expected ? expected.getInt() : 0))
    return f.emitError("internal error: a zero-initialized matmul lost its tagged loop");
  IRRewriter rw(f.getContext());
  for (scf::ForOp tag : tagged) {
    bool always = tag->hasAttr(kZeroAlways);
    tag->removeAttr(kZeroFirstK);
    tag->removeAttr(kZeroAlways);
    // C: written inside the tagged loop, or (accumulators hoisted above it)
    // by a write of the loop's results.
    Value c;
    tag.walk([&](vector::TransferWriteOp w) { c = w.getSource(); });
    for (Operation* user : tag->getUsers())
      if (auto w = dyn_cast<vector::TransferWriteOp>(user)) c = w.getSource();
    SmallVector<scf::ForOp> loops{tag};
    tag.getBody()->walk([&](scf::ForOp loop) { loops.push_back(loop); });
    DenseSet<Operation*> replaced;
    for (scf::ForOp loop : loops) {
      SmallVector<unsigned> slots;
      for (auto [i, init] : llvm::enumerate(loop.getInitArgs()))
        if (auto rd = init.getDefiningOp<vector::TransferReadOp>(); rd && rd.getSource() == c)
          slots.push_back(i);
      if (slots.empty()) continue;
      Location loc = loop.getLoc();
      rw.setInsertionPoint(loop);
      SmallVector<Value> zeros;
      SmallVector<Type> types;
      for (unsigned i : slots) {
        Type t = loop.getInitArgs()[i].getType();
        types.push_back(t);
        zeros.push_back(rw.create<arith::ConstantOp>(loc, t, rw.getZeroAttr(t)));
      }
      SmallVector<Value> starts = zeros;
      if (!always && loop != tag) {
        Value first = rw.create<arith::CmpIOp>(loc, arith::CmpIPredicate::eq,
                                               tag.getInductionVar(), tag.getLowerBound());
        auto branch = rw.create<scf::IfOp>(loc, types, first, /*withElseRegion=*/true);
        rw.setInsertionPointToStart(branch.thenBlock());
        rw.create<scf::YieldOp>(loc, zeros);
        rw.setInsertionPointToStart(branch.elseBlock());
        SmallVector<Value> loads;
        for (unsigned i : slots)
          loads.push_back(rw.clone(*loop.getInitArgs()[i].getDefiningOp())->getResult(0));
        rw.create<scf::YieldOp>(loc, loads);
        starts = branch.getResults();
      }
      for (auto [slot, start] : llvm::zip(slots, starts)) {
        replaced.insert(loop.getInitArgs()[slot].getDefiningOp());
        loop.getInitArgsMutable()[slot].assign(start);
      }
    }
    for (Operation* rd : replaced)
      if (rd->use_empty()) rw.eraseOp(rd);
    bool stray = false;
    tag.walk([&](vector::TransferReadOp rd) {
      if (rd.getSource() == c && !rd->getParentOfType<scf::IfOp>()) stray = true;
    });
    if (!c || stray)
      return tag.emitError("internal error: a zero-initialized matmul reads C outside its "
                           "hoisted accumulators");
  }
  return success();
}

struct LowerVectorsPass : public PassWrapper<LowerVectorsPass, OperationPass<func::FuncOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(LowerVectorsPass)
  LowerVectorsPass() = default;
  LowerVectorsPass(const LowerVectorsPass& other) : PassWrapper(other) {}
  Option<int> lanes{*this, "lanes", llvm::cl::desc("f32 lanes of a vector register (16 or 8)"),
                    llvm::cl::init(16)};
  StringRef getArgument() const final { return "recc-lower-vectors"; }
  StringRef getDescription() const final {
    return "Hoist accumulators out of k loops and lower vector ops to 1-D FMAs, loads and stores";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<arith::ArithDialect, memref::MemRefDialect, scf::SCFDialect,
                    vector::VectorDialect>();
  }
  void runOnOperation() override {
    func::FuncOp f = getOperation();
    vectorLanes = lanes;
    linalg::hoistRedundantVectorTransfers(f);
    if (failed(startAccumulatorsAtZero(f))) return signalPassFailure();
    {
      // Split two-register tiles into one-register (zmm or ymm) operations.
      RewritePatternSet ps(&getContext());
      vector::populateVectorUnrollPatterns(
          ps, vector::UnrollVectorOptions().setNativeShapeFn(nativeLanes));
      if (failed(applyPatternsAndFoldGreedily(f, std::move(ps)))) return signalPassFailure();
    }
    vector::VectorTransformsOptions vo;
    vo.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    vo.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle16x16);
    RewritePatternSet ps(&getContext());
    vector::populateVectorContractLoweringPatterns(ps, vo);
    vector::populateVectorTransferPermutationMapLoweringPatterns(ps);
    vector::populateVectorMultiReductionLoweringPatterns(
        ps, vector::VectorMultiReductionLowering::InnerParallel);
    populateVectorToSCFConversionPatterns(
        ps, VectorTransferToSCFOptions().setTargetRank(1).enableFullUnroll());
    vector::populateVectorTransferLoweringPatterns(ps, /*maxTransferRank=*/1);
    vector::populateVectorShapeCastLoweringPatterns(ps);
    vector::populateVectorTransposeLoweringPatterns(ps, vo);
    vector::populateVectorOuterProductLoweringPatterns(ps);
    for (RegisteredOperationName name : getContext().getRegisteredOperations())
      if (name.getDialectNamespace() == "vector" || name.getDialectNamespace() == "arith")
        name.getCanonicalizationPatterns(ps, &getContext());
    if (failed(applyPatternsAndFoldGreedily(f, std::move(ps)))) signalPassFailure();
  }
};

struct ApproximateMathPass : public PassWrapper<ApproximateMathPass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(ApproximateMathPass)
  StringRef getArgument() const final { return "recc-approximate-math"; }
  StringRef getDescription() const final {
    return "Replace f32 exp/log/log1p/tanh with vectorizable polynomial approximations";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<arith::ArithDialect, math::MathDialect, vector::VectorDialect>();
  }
  void runOnOperation() override {
    RewritePatternSet ps(&getContext());
    populateMathPolynomialApproximationPatterns(ps);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(ps))))
      signalPassFailure();
  }
};

}  // namespace

void registerPasses() {
  PassRegistration<TileVectorizePass>();
  PassRegistration<LowerVectorsPass>();
  PassRegistration<ApproximateMathPass>();
  registerPlanMemoryPass();
  registerOutlineKernelsPass();
  registerFuseElementwisePass();
}

}  // namespace recc::passes
