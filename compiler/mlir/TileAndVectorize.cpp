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
#include "compiler/mlir/Tiling.h"

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

namespace tiling {

// Per thread: MLIR runs function passes on several threads at once
// (Pipeline.cpp enables threading), each on its own function; each pass sets it
// from its `lanes` option when it starts on a function.
thread_local int64_t vectorLanes = 16;

/// The first of `prefs` dividing n, or 0.
int64_t firstDivisor(int64_t n, std::initializer_list<int64_t> prefs) {
  for (int64_t p : prefs)
    if (n % p == 0) return p;
  return 0;
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
/// threads, ops of 32k elements or more are first cut in two along their
/// outermost splittable loop (at a multiple of 16 when that is the vectorized
/// innermost loop): into equal halves, one copy of the code run by both
/// threads, or, from 128k elements up, into unequal ones. From 128k up only,
/// the DAMCAR generator ran its [512,100..200] maps, transposes and
/// reductions on one core while libomp's worker spun (12.6% of its `perf`
/// samples); at 32k its step ran 1.03x as fast (median of 10 interleaved
/// pairs, 0.77x-1.40x: the machine's noise is larger than the gain).
void tileGeneric(IRRewriter& rw, Operation* op, int threads) {
  auto lop = cast<linalg::LinalgOp>(op);
  SmallVector<int64_t> r = lop.getStaticLoopRanges();
  int64_t rank = (int64_t)r.size();
  if (rank == 0) return;
  int64_t elements = 1;
  for (int64_t e : r) elements *= e;
  if (int64_t d = rank >= 2 ? splittableLoop(lop) : -1;
      threads > 1 && elements >= (1 << 15) && d >= 0) {
    int64_t point = d == rank - 1 ? halfRounded(r[d], vectorLanes) : r[d] / 2;
    if (Operation* piece = splitEvenly(rw, op, (unsigned)d, point)) return tileGeneric(rw, piece);
    // Unequal halves are two copies of the code: only for ops large enough
    // to pay for it (with them from 32k up, sarnet_no_transform compiled in
    // 5.5-5.7 s against 4.6-5.5 s, 3 interleaved runs).
    auto [a, b] = elements >= (1 << 17) ? split(rw, op, (unsigned)d, point)
                                        : std::pair<Operation*, Operation*>{op, nullptr};
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
      // An op inside a loop over threads (or outlined from one) runs on one.
      int t = op->getParentOfType<scf::ForallOp>() || op->hasAttr(kSerialKernel) ? 1 : threads;
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op))
        tileMatmul(rw, cast<linalg::LinalgOp>(op), t);
      else tileGeneric(rw, op, t);
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
/// Contractions are left whole: lowered to outer products, a two-register tile
/// becomes per row one broadcast of A and two FMAs that share it. Cut first,
/// the two halves' FMAs came one after the other, each A broadcast was live
/// across both, and LLVM spilled a zmm per broadcast in the GEMM's inner loop
/// (Zen 4, one thread, ESM²'s 1000x512x696: 82 -> 95 GFLOP/s, OpenBLAS 97-102).
std::optional<SmallVector<int64_t>> nativeLanes(Operation* op) {
  auto cut = [](SmallVector<int64_t> shape, size_t dim) -> std::optional<SmallVector<int64_t>> {
    if (shape.empty() || shape[dim] <= vectorLanes || shape[dim] % vectorLanes) return std::nullopt;
    shape[dim] = vectorLanes;
    return shape;
  };
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

/// A contraction that is an elementwise multiply-add: every reduction dim has
/// extent 1 and both operands index the remaining dims as the accumulator does.
/// Vectorizing `sum over t of x*y` with t tiled by 1 (a column sum of a
/// product, the gradient of a broadcast multiply) gives these. The outer-product
/// lowering cannot take them (no operand lacks a parallel dim), and upstream's
/// fallback unrolls the parallel dims lane by lane into scalar code: SAR-Net had
/// seven such kernels. One vector multiply and add do the same sums in the same
/// order.
struct ElementwiseContract : OpRewritePattern<vector::ContractionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(vector::ContractionOp op, PatternRewriter& rw) const override {
    auto acc = dyn_cast<VectorType>(op.getAccType());
    if (!acc || op.getKind() != vector::CombiningKind::ADD || isa<vector::MaskOp>(op->getParentOp()) ||
        op.getLhsType() != op.getRhsType())
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    if (maps[0] != maps[1]) return failure();
    SmallVector<AffineExpr> kept;
    for (auto [i, e] : llvm::enumerate(maps[0].getResults())) {
      auto dim = dyn_cast<AffineDimExpr>(e);
      if (!dim) return failure();
      if (!vector::isReductionIterator(op.getIteratorTypes()[dim.getPosition()])) kept.push_back(e);
      else if (op.getLhsType().getDimSize(i) != 1) return failure();
    }
    if (ArrayRef<AffineExpr>(kept) != maps[2].getResults()) return failure();
    Location loc = op.getLoc();
    Value lhs = rw.create<vector::ShapeCastOp>(loc, acc, op.getLhs());
    Value rhs = rw.create<vector::ShapeCastOp>(loc, acc, op.getRhs());
    // A multiply, then an add, rounded as the reference backend rounds them:
    // an FMA's single rounding changed ZEUS's near-zero gradients enough
    // for Adam to move by whole steps (the backends' losses parted by 0.6% in
    // five steps).
    Value product = rw.create<arith::MulFOp>(loc, lhs, rhs);
    rw.replaceOpWithNewOp<arith::AddFOp>(op, op.getAcc(), product);
    return success();
  }
};

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
      // Split two-register loads, stores and elementwise ops into one-register
      // (zmm or ymm) operations; contractions stay whole (see nativeLanes).
      RewritePatternSet ps(&getContext());
      vector::populateVectorUnrollPatterns(
          ps, vector::UnrollVectorOptions().setNativeShapeFn(nativeLanes));
      if (failed(applyPatternsAndFoldGreedily(f, std::move(ps)))) return signalPassFailure();
    }
    vector::VectorTransformsOptions vo;
    vo.setVectorTransformsOptions(vector::VectorContractLowering::OuterProduct);
    vo.setVectorTransposeLowering(vector::VectorTransposeLowering::Shuffle16x16);
    RewritePatternSet ps(&getContext());
    ps.add<ElementwiseContract>(&getContext(), /*benefit=*/2);
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

}  // namespace tiling

void registerPasses() {
  PassRegistration<tiling::TileVectorizePass>();
  PassRegistration<tiling::LowerVectorsPass>();
  PassRegistration<tiling::ApproximateMathPass>();
  registerPlanMemoryPass();
  registerOutlineKernelsPass();
  registerFuseElementwisePass();
  registerNotifyOutputsPass();
}

}  // namespace recc::passes
