// FuseElementwise (recc-fuse-elementwise): MLIR's elementwise fusion and
// reshape folding on tensors, except into or out of contractions.
//
// Upstream `linalg-fuse-elementwise-ops` also folds a tensor.expand_shape /
// collapse_shape into any linalg op by expanding its loops, and for a named
// matmul that means rewriting it as a linalg.generic of higher rank. A GEMM
// whose operand is a reshaped tensor — the per-scenario weights gathered by
// one_hot(by)·W[V, n·units] and their gradient, for one — then leaves the tiled,
// register-blocked GEMM path (which matches named matmuls) for a scalar
// generic loop nest: 80% of a PLE step before this pass. So this pass runs the
// same patterns with a control function that leaves contractions, and the
// reshapes around them, alone; elementwise producers still fuse as upstream
// (a producer with one use).
//
// Folding a reshape by expansion can leave a fused elementwise op with a unit
// loop the graph never had (a [B, 1] count divided into a [B, T, D] gradient
// runs as [B, 1, T, D]) and its result collapsed back. A collapsed result can
// not be bufferized into the step's output argument, so it cost a copy of the
// whole tensor (UMA²'s [512, 50, 64] sequence gradient: 6.5 MB a step). A
// second round, after fusion, drops the unit loops of elementwise ops again.
#include "compiler/mlir/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace recc::passes {

using namespace mlir;

namespace {

bool isContraction(Operation* op) {
  auto linalgOp = dyn_cast_or_null<linalg::LinalgOp>(op);
  return linalgOp && linalg::isaContractionOpInterface(linalgOp);
}

/// Fuse (or fold a reshape) across `operand` unless a contraction is on
/// either side of it; the producer must have no other use.
bool fusable(OpOperand* operand) {
  Operation* producer = operand->get().getDefiningOp();
  if (!producer || !producer->hasOneUse()) return false;
  return !isContraction(operand->getOwner()) && !isContraction(producer);
}

struct FuseElementwisePass : public PassWrapper<FuseElementwisePass, OperationPass<>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(FuseElementwisePass)
  StringRef getArgument() const final { return "recc-fuse-elementwise"; }
  StringRef getDescription() const final {
    return "Fuse elementwise linalg ops and fold reshapes, leaving contractions named";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<affine::AffineDialect, linalg::LinalgDialect, tensor::TensorDialect>();
  }
  void runOnOperation() override {
    MLIRContext* ctx = &getContext();
    RewritePatternSet ps(ctx);
    linalg::populateElementwiseOpsFusionPatterns(ps, fusable);
    linalg::populateFoldReshapeOpsByExpansionPatterns(ps, fusable);
    linalg::populateConstantFoldLinalgOperations(ps, fusable);
    affine::AffineApplyOp::getCanonicalizationPatterns(ps, ctx);
    linalg::GenericOp::getCanonicalizationPatterns(ps, ctx);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(ps, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(ps, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(ps);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(ps)))) signalPassFailure();
    dropUnitLoops();
  }

  /// The second round: unit loops of all-parallel generics, and the reshapes
  /// that then cancel. Kept apart from the first, whose expansion patterns
  /// would put the unit loops back.
  void dropUnitLoops() {
    MLIRContext* ctx = &getContext();
    RewritePatternSet ps(ctx);
    linalg::ControlDropUnitDims options;
    options.controlFn = [](Operation* op) -> SmallVector<unsigned> {
      auto generic = dyn_cast<linalg::GenericOp>(op);
      if (!generic || generic.getNumLoops() != generic.getNumParallelLoops()) return {};
      // A result stored as it is into a step output already has its shape.
      for (Operation* user : generic->getUsers())
        if (isa<bufferization::MaterializeInDestinationOp>(user)) return {};
      return llvm::to_vector(llvm::seq<unsigned>(0, generic.getNumLoops()));
    };
    linalg::populateFoldUnitExtentDimsPatterns(ps, options);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(ps, ctx);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(ps, ctx);
    if (failed(applyPatternsAndFoldGreedily(getOperation(), std::move(ps)))) signalPassFailure();
  }
};

}  // namespace

void registerFuseElementwisePass() { PassRegistration<FuseElementwisePass>(); }

}  // namespace recc::passes
