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

#include "llvm/ADT/DenseMap.h"

#include <map>

namespace recc::passes {

using namespace mlir;

namespace {

constexpr const char* kNotifyAttr = "recc.notify";
constexpr const char* kCallee = "recc_output_ready";

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
    // The marked arguments and every view of them, by the buffer they are.
    llvm::DenseMap<Value, int64_t> bufferOf;
    for (unsigned a = 0; a < fn.getNumArguments(); ++a)
      if (auto mark = fn.getArgAttrOfType<IntegerAttr>(a, kNotifyAttr)) {
        bufferOf[fn.getArgument(a)] = mark.getInt();
        fn.removeArgAttr(a, kNotifyAttr);
      }
    if (bufferOf.empty()) return false;
    fn.walk([&](ViewLikeOpInterface view) {
      auto it = bufferOf.find(view.getViewSource());
      if (it == bufferOf.end()) return;
      const int64_t buffer = it->second;
      for (Value r : view->getResults()) bufferOf[r] = buffer;
    });
    // Each buffer's last top-level op touching it (in nested regions too).
    Block& body = fn.getBody().front();
    std::map<int64_t, Operation*> last;
    for (const auto& [value, buffer] : bufferOf) last.emplace(buffer, body.getTerminator());
    for (Operation& op : body.without_terminator()) {
      op.walk([&](Operation* inner) {
        for (Value v : inner->getOperands())
          if (auto it = bufferOf.find(v); it != bufferOf.end()) last[it->second] = &op;
      });
    }
    // The calls, right after those ops (untouched buffers: at the end). Every
    // rank runs the same code, so the calls come in the same order on all.
    for (const auto& [buffer, op] : last) {
      OpBuilder b(fn.getContext());
      if (op == body.getTerminator())
        b.setInsertionPoint(op);
      else
        b.setInsertionPointAfter(op);
      Value i = b.create<arith::ConstantIntOp>(fn.getLoc(), buffer, 64);
      b.create<func::CallOp>(fn.getLoc(), kCallee, TypeRange{}, ValueRange{i});
    }
    return true;
  }
};

}  // namespace

void registerNotifyOutputsPass() { PassRegistration<NotifyOutputsPass>(); }

}  // namespace recc::passes
