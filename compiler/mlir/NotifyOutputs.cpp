// NotifyOutputs (recc-notify-outputs): after bufferization, a call
// recc_output_ready(i) right after the last top-level operation of a step
// that touches output buffer i, for every function argument marked
// `recc.notify = i` (LowerGraph marks a train step's gradient buffers when
// the step runs under mpirun). From then on the buffer holds its final value,
// so the runtime can start summing it over the ranks while the rest of the
// backward pass runs (runtime/OutputReady.h).
//
// "Touches" follows the argument through view-like ops (subview, cast,
// reshape) and into nested regions, so a write through a slice of the buffer
// counts. The calls come in program order, which is the same on every rank.
#include "compiler/mlir/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Pass/Pass.h"

#include "llvm/ADT/DenseSet.h"

#include <map>

namespace recc::passes {

using namespace mlir;

namespace {

constexpr const char* kNotifyAttr = "recc.notify";
constexpr const char* kCallee = "recc_output_ready";

/// The values that alias `arg`: it and every view of it, transitively.
llvm::DenseSet<Value> aliasesOf(func::FuncOp fn, Value arg) {
  llvm::DenseSet<Value> alias{arg};
  fn.walk([&](ViewLikeOpInterface view) {
    if (alias.contains(view.getViewSource()))
      for (Value r : view->getResults()) alias.insert(r);
  });
  return alias;
}

/// Whether `op` or an op nested in it reads or writes one of `alias`.
bool touches(Operation* op, const llvm::DenseSet<Value>& alias) {
  bool found = false;
  op->walk([&](Operation* inner) {
    for (Value v : inner->getOperands())
      if (alias.contains(v)) found = true;
    return found ? WalkResult::interrupt() : WalkResult::advance();
  });
  return found;
}

struct NotifyOutputsPass : public PassWrapper<NotifyOutputsPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(NotifyOutputsPass)
  StringRef getArgument() const final { return "recc-notify-outputs"; }
  StringRef getDescription() const final {
    return "Call recc_output_ready(i) once output buffer i is final";
  }
  void getDependentDialects(DialectRegistry& registry) const override {
    registry.insert<arith::ArithDialect, func::FuncDialect>();
  }

  void runOnOperation() override {
    ModuleOp module = getOperation();
    bool any = false;
    for (func::FuncOp fn : llvm::to_vector(module.getOps<func::FuncOp>())) any |= notify(fn);
    if (!any || module.lookupSymbol<func::FuncOp>(kCallee)) return;
    OpBuilder b(module.getBodyRegion());
    auto decl = b.create<func::FuncOp>(module.getLoc(), kCallee,
                                       b.getFunctionType({b.getI64Type()}, {}));
    decl.setPrivate();
  }

  /// Inserts fn's calls; whether it has any.
  bool notify(func::FuncOp fn) {
    if (fn.isExternal()) return false;
    Block& body = fn.getBody().front();
    std::vector<Operation*> ops;
    for (Operation& op : body.without_terminator()) ops.push_back(&op);
    // Per top-level op (or the terminator): the buffers final after it.
    std::map<size_t, std::vector<int64_t>> after;
    bool any = false;
    for (unsigned a = 0; a < fn.getNumArguments(); ++a) {
      auto mark = fn.getArgAttrOfType<IntegerAttr>(a, kNotifyAttr);
      if (!mark) continue;
      any = true;
      fn.removeArgAttr(a, kNotifyAttr);
      llvm::DenseSet<Value> alias = aliasesOf(fn, fn.getArgument(a));
      size_t last = ops.size();  // untouched: final at the end
      for (size_t i = ops.size(); i-- > 0;)
        if (touches(ops[i], alias)) {
          last = i;
          break;
        }
      after[last].push_back(mark.getInt());
    }
    for (auto& [index, buffers] : after) {
      OpBuilder b(fn.getContext());
      if (index < ops.size())
        b.setInsertionPointAfter(ops[index]);
      else
        b.setInsertionPoint(body.getTerminator());
      for (int64_t buffer : buffers) {
        Location loc = fn.getLoc();
        Value i = b.create<arith::ConstantIntOp>(loc, buffer, 64);
        b.create<func::CallOp>(loc, kCallee, TypeRange{}, ValueRange{i});
      }
    }
    return any;
  }
};

}  // namespace

void registerNotifyOutputsPass() { PassRegistration<NotifyOutputsPass>(); }

}  // namespace recc::passes
