// OutlineKernels (recc-outline-kernels): one function per distinct linalg op.
//
// Models repeat themselves: ESM²'s four towers run the same GEMMs, bias adds,
// activations and their gradients on the same shapes. Tiled, vectorized and
// unrolled, each GEMM becomes thousands of LLVM instructions, and compile time
// (MLIR conversions, LLVM O3, instruction selection) grows with the code, so
// every copy of a kernel is paid for again. This pass, run on buffers before
// recc-tile-vectorize:
//   1. turns memref.copy into linalg.copy (so copies are kernels too) and
//      folds a matmul's zero fill into the matmul (`recc.zero_init`, see
//      fuseZeroFills);
//   2. clones each top-level linalg op whose operands are all statically
//      shaped memrefs with static strides (and whose body captures nothing
//      but constants) into a private function taking those memrefs;
//      a strided view (a column block of a wider buffer, one expert's slice)
//      is passed as its base buffer and its offset, and rebuilt inside the
//      kernel with a dynamic offset, so views that differ only in where they
//      start (cross-stitch's 20 columns) share one kernel;
//   3. keys the function by its printed body (generic form, no locations):
//      ops with the same key share one function, and the op is replaced by a
//      func.call.
// The kernels are then tiled and vectorized once each; Translate.cpp marks
// them noinline so LLVM does not clone them back into every call site.
#include "compiler/mlir/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Transforms/RegionUtils.h"

#include <map>

namespace recc::passes {

using namespace mlir;

namespace {

bool hasStaticStrides(MemRefType t) {
  if (t.getLayout().isIdentity()) return true;
  SmallVector<int64_t> strides;
  int64_t offset;
  if (failed(getStridesAndOffset(t, strides, offset))) return false;
  return llvm::none_of(strides, ShapedType::isDynamic);
}

/// Inside a kernel: the strided view of type `t` rebuilt from its base buffer
/// and offset (kernel arguments), with the offset dynamic so that views that
/// differ only in where they start print, and share, the same kernel.
Value rebuildView(IRRewriter& rw, Location loc, MemRefType t, Value base, Value offset) {
  SmallVector<int64_t> strides;
  int64_t staticOffset;
  (void)getStridesAndOffset(t, strides, staticOffset);
  auto layout = StridedLayoutAttr::get(t.getContext(), ShapedType::kDynamic, strides);
  auto type = MemRefType::get(t.getShape(), t.getElementType(), layout, t.getMemorySpace());
  SmallVector<OpFoldResult> sizes, strideFolds;
  for (int64_t d : t.getShape()) sizes.push_back(rw.getIndexAttr(d));
  for (int64_t st : strides) strideFolds.push_back(rw.getIndexAttr(st));
  return rw.create<memref::ReinterpretCastOp>(loc, type, base, offset, sizes, strideFolds);
}

bool passedAsBaseAndOffset(Value v) {
  auto t = dyn_cast<MemRefType>(v.getType());
  return t && !t.getLayout().isIdentity();
}

bool outlinable(linalg::LinalgOp op, SetVector<Value>& captured) {
  if (!op.hasPureBufferSemantics()) return false;
  for (Value v : op->getOperands()) {
    auto t = dyn_cast<MemRefType>(v.getType());
    if (!t) {
      if (!v.getType().isIntOrIndexOrFloat()) return false;
      continue;
    }
    if (!t.hasStaticShape() || !hasStaticStrides(t)) return false;
  }
  getUsedValuesDefinedAbove(op->getRegions(), captured);
  for (Value c : captured) {
    Operation* def = c.getDefiningOp();
    if (!def || !def->hasTrait<OpTrait::ConstantLike>() || def->getNumResults() != 1)
      return false;
  }
  return true;
}

/// `linalg.fill 0 → C` followed (with nothing else touching C in between) by
/// a matmul accumulating into C: the fill is dropped and the matmul marked
/// `recc.zero_init`; recc-tile-vectorize zeroes each cache tile of C right
/// before its k loop, while it sits in L2, instead of streaming all of C
/// through memory once more.
void fuseZeroFills(func::FuncOp f) {
  SmallVector<linalg::FillOp> fills;
  for (Operation& op : f.getBody().front())
    if (auto fill = dyn_cast<linalg::FillOp>(&op)) fills.push_back(fill);
  for (linalg::FillOp fill : fills) {
    if (!fill.hasPureBufferSemantics()) continue;
    auto cst = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
    auto zero = cst ? dyn_cast<FloatAttr>(cst.getValue()) : FloatAttr();
    if (!zero || !zero.getValue().isPosZero()) continue;
    Value c = fill.getOutputs()[0];
    for (Operation* op = fill->getNextNode(); op; op = op->getNextNode()) {
      bool touches = llvm::is_contained(op->getOperands(), c);
      if (!touches && op->getNumRegions() == 0) continue;
      if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(op) &&
          cast<linalg::LinalgOp>(op).hasPureBufferSemantics() &&
          !cast<linalg::LinalgOp>(op).hasDynamicShape() &&
          cast<linalg::LinalgOp>(op).getDpsInits()[0] == c &&
          !llvm::is_contained(cast<linalg::LinalgOp>(op).getDpsInputs(), c)) {
        op->setAttr("recc.zero_init", UnitAttr::get(op->getContext()));
        fill->erase();
      }
      break;
    }
  }
}

struct OutlineKernelsPass : public PassWrapper<OutlineKernelsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OutlineKernelsPass)
  StringRef getArgument() const final { return "recc-outline-kernels"; }
  StringRef getDescription() const final {
    return "Outline linalg ops on buffers into private functions shared by identical ops";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<func::FuncDialect, linalg::LinalgDialect, memref::MemRefDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rw(&getContext());
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    SmallVector<linalg::LinalgOp> ops;
    for (func::FuncOp f : funcs) {
      if (f.isDeclaration()) continue;
      SmallVector<memref::CopyOp> copies;
      f.walk([&](memref::CopyOp c) { copies.push_back(c); });
      for (memref::CopyOp c : copies) {
        rw.setInsertionPoint(c);
        rw.replaceOpWithNewOp<linalg::CopyOp>(c, c.getSource(), c.getTarget());
      }
      fuseZeroFills(f);
      for (Operation& op : f.getBody().front())
        if (auto l = dyn_cast<linalg::LinalgOp>(&op)) ops.push_back(l);
      // GEMMs inside a loop over threads (grouped routed matmuls) too, as
      // serial kernels: the same shape at the top level splits across threads.
      f.walk([&](linalg::LinalgOp l) {
        if (isa<linalg::MatmulOp, linalg::MatmulTransposeAOp>(l.getOperation()) &&
            l->getParentOfType<scf::ForallOp>()) {
          l->setAttr(kSerialKernel, UnitAttr::get(&getContext()));
          ops.push_back(l);
        }
      });
    }

    std::map<std::string, func::FuncOp> kernels;
    unsigned next = 0;
    OpPrintingFlags flags;
    flags.printGenericOpForm().useLocalScope();
    for (linalg::LinalgOp op : ops) {
      SetVector<Value> captured;
      if (!outlinable(op, captured)) continue;
      Location loc = op.getLoc();
      // Call arguments: identity memrefs and scalars as they are; a strided
      // view as (base buffer, offset).
      SmallVector<Value> args;
      rw.setInsertionPoint(op);
      for (Value v : op->getOperands()) {
        if (!passedAsBaseAndOffset(v)) {
          args.push_back(v);
          continue;
        }
        auto meta = rw.create<memref::ExtractStridedMetadataOp>(loc, v);
        args.push_back(meta.getBaseBuffer());
        args.push_back(meta.getOffset());
      }
      SmallVector<Type> types;
      for (Value v : args) types.push_back(v.getType());

      // The candidate kernel: views rebuilt, constants, the op, a return.
      rw.setInsertionPointToEnd(module.getBody());
      auto fn = rw.create<func::FuncOp>(loc, "__recc_kernel", rw.getFunctionType(types, {}));
      fn.setPrivate();
      Block* entry = fn.addEntryBlock();
      rw.setInsertionPointToStart(entry);
      IRMapping map;
      unsigned a = 0;
      for (Value v : op->getOperands()) {
        if (!passedAsBaseAndOffset(v)) {
          map.map(v, entry->getArgument(a++));
          continue;
        }
        Value base = entry->getArgument(a++), offset = entry->getArgument(a++);
        map.map(v, rebuildView(rw, loc, cast<MemRefType>(v.getType()), base, offset));
      }
      for (Value c : captured) map.map(c, rw.clone(*c.getDefiningOp())->getResult(0));
      rw.clone(*op, map);
      rw.create<func::ReturnOp>(loc);

      std::string key;
      {
        llvm::raw_string_ostream os(key);
        for (Operation& o : *entry) o.print(os, flags);
      }
      auto [it, fresh] = kernels.try_emplace(key, fn);
      if (fresh) {
        std::string name = "__recc_k" + std::to_string(next++) + "_" +
                           op->getName().stripDialect().str();
        fn.setName(name);
      } else {
        rw.eraseOp(fn);
      }
      rw.setInsertionPoint(op);
      rw.create<func::CallOp>(loc, it->second, args);
      rw.eraseOp(op);
    }
  }
};

}  // namespace

void registerOutlineKernelsPass() { PassRegistration<OutlineKernelsPass>(); }

}  // namespace recc::passes
