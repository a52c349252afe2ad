// PlanMemory (recc-plan-memory): static buffer assignment for a step function.
//
// After bufferization every intermediate tensor is a `memref.alloc` with a
// matching `memref.dealloc` after its last use, in straight-line code. Left as
// is, each step would malloc and free a few megabytes per intermediate; glibc
// returns large blocks to the kernel, so every step page-faults and zeroes
// them again (a third of a small model's step time). Instead:
//   1. Collect the top-level allocs of static shape with a top-level dealloc;
//      each is live from its alloc to its last use in block order: the last
//      top-level op that uses it or any memref derived from it (views,
//      subviews, reshapes), uses inside loops counting at the loop. (The
//      deallocation pipeline often frees a buffer long after that: on SAR-Net
//      those ranges made the arena 1.1 GB where 0.41 GB suffice.)
//   2. Place them greedily, largest first, at the lowest 64-byte-aligned
//      offset that overlaps no placed buffer live at the same time.
//   3. Replace them with `memref.view`s into one private, uninitialized
//      `memref.global` arena per function (in .bss: touched once, then reused
//      by every step) and drop the deallocs.
// A step function therefore must not run concurrently with itself.
#include "compiler/mlir/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace recc::passes {

using namespace mlir;

namespace {

constexpr int64_t kAlign = 64;

struct Buffer {
  memref::AllocOp alloc;
  memref::DeallocOp dealloc;
  int64_t begin, end;  ///< live range in op positions
  int64_t bytes;
  int64_t offset = -1;
};

/// Position in `body` of the last op that uses `alloc`'s buffer, directly or
/// through memrefs derived from it, other than `dealloc`; an op nested in a
/// loop or branch counts at its ancestor in `body`.
int64_t lastUse(memref::AllocOp alloc, memref::DeallocOp dealloc, Block& body,
                DenseMap<Operation*, int64_t>& position) {
  int64_t last = position[alloc];
  SmallVector<Value> work{alloc.getResult()};
  while (!work.empty()) {
    Value v = work.pop_back_val();
    for (Operation* user : v.getUsers()) {
      if (user == dealloc.getOperation()) continue;
      Operation* top = body.findAncestorOpInBlock(*user);
      if (!top) return position[dealloc];  // used outside the body: keep the old range
      last = std::max(last, position[top]);
      for (Value r : user->getResults())
        if (isa<BaseMemRefType>(r.getType())) work.push_back(r);
    }
  }
  return last;
}

/// Greedy first-fit, largest first. Returns the arena size.
int64_t place(std::vector<Buffer>& bufs) {
  std::vector<Buffer*> order;
  for (Buffer& b : bufs) order.push_back(&b);
  std::stable_sort(order.begin(), order.end(),
                   [](Buffer* a, Buffer* b) { return a->bytes > b->bytes; });
  std::vector<Buffer*> placed;
  int64_t arena = 0;
  for (Buffer* b : order) {
    std::vector<std::pair<int64_t, int64_t>> busy;  // address ranges live with b
    for (Buffer* p : placed)
      if (p->begin <= b->end && b->begin <= p->end) busy.push_back({p->offset, p->offset + p->bytes});
    std::sort(busy.begin(), busy.end());
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (offset + b->bytes <= lo) break;
      offset = std::max(offset, hi);
    }
    b->offset = offset;
    arena = std::max(arena, offset + b->bytes);
    placed.push_back(b);
  }
  return arena;
}

struct PlanMemoryPass : public PassWrapper<PlanMemoryPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(PlanMemoryPass)
  StringRef getArgument() const final { return "recc-plan-memory"; }
  StringRef getDescription() const final {
    return "Assign step-local buffers to offsets in one static arena per function";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<arith::ArithDialect, memref::MemRefDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    for (func::FuncOp f : llvm::to_vector(module.getOps<func::FuncOp>()))
      if (!f.isExternal()) planFunction(module, f);
  }

  void planFunction(ModuleOp module, func::FuncOp f) {
    Block& body = f.front();
    DenseMap<Operation*, int64_t> position;
    int64_t i = 0;
    for (Operation& op : body) position[&op] = i++;

    std::vector<Buffer> bufs;
    for (auto alloc : body.getOps<memref::AllocOp>()) {
      MemRefType t = alloc.getType();
      if (!t.hasStaticShape() || !t.getLayout().isIdentity() || !alloc.getDynamicSizes().empty() ||
          !t.getElementType().isIntOrFloat() || t.getMemorySpace())
        continue;
      memref::DeallocOp dealloc;
      for (Operation* user : alloc->getUsers())
        if (auto d = dyn_cast<memref::DeallocOp>(user); d && d->getBlock() == &body) dealloc = d;
      if (!dealloc) continue;
      int64_t bytes = t.getNumElements() * (t.getElementTypeBitWidth() / 8);
      bytes = std::max<int64_t>(kAlign, (bytes + kAlign - 1) / kAlign * kAlign);
      bufs.push_back({alloc, dealloc, position[alloc], lastUse(alloc, dealloc, body, position),
                      bytes});
    }
    if (bufs.empty()) return;
    int64_t arenaBytes = place(bufs);

    OpBuilder b(module.getBodyRegion());
    b.setInsertionPointToStart(module.getBody());
    auto arenaType = MemRefType::get({arenaBytes}, b.getI8Type());
    std::string name = (f.getName() + "_arena").str();
    b.create<memref::GlobalOp>(f.getLoc(), name, b.getStringAttr("private"), arenaType,
                               b.getUnitAttr() /*uninitialized*/, /*constant=*/false,
                               b.getI64IntegerAttr(kAlign));
    b.setInsertionPointToStart(&body);
    Value arena = b.create<memref::GetGlobalOp>(f.getLoc(), arenaType, name);
    for (Buffer& buf : bufs) {
      b.setInsertionPoint(buf.alloc);
      Value offset = b.create<arith::ConstantIndexOp>(buf.alloc.getLoc(), buf.offset);
      Value view = b.create<memref::ViewOp>(buf.alloc.getLoc(), buf.alloc.getType(), arena,
                                            offset, ValueRange{});
      buf.alloc.replaceAllUsesWith(view);
      buf.dealloc.erase();
      buf.alloc.erase();
    }
  }
};

}  // namespace

void registerPlanMemoryPass() { PassRegistration<PlanMemoryPass>(); }

}  // namespace recc::passes
