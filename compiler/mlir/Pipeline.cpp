// Pipeline: the MLIR context and the textual pass pipelines of each stage
// (see Pipeline.h for the stage diagram). Keeping the pipelines textual means
// the exact passes that ran can be printed and replayed with mlir-opt-19.
#include "compiler/mlir/Pipeline.h"
#include "compiler/mlir/Passes.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/Interfaces/DataLayoutInterfaces.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/TargetParser/Host.h"

#include <cstdlib>
#include <string>
#include <mutex>

namespace recc::codegen {

std::unique_ptr<mlir::MLIRContext> makeContext() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    passes::registerPasses();
  });
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllToLLVMIRTranslations(registry);
  // Threading on: passes nested under func.func / llvm.func (stagePipeline)
  // run on every core, one function at a time each.
  return std::make_unique<mlir::MLIRContext>(registry, mlir::MLIRContext::Threading::ENABLED);
}

/// The vector width the kernels are tiled for: AVX-512's 16 f32 lanes where
/// the host has it (or a named target CPU is asked for), else AVX2's 8, so
/// that register tiles fit the register file instead of spilling.
static int vectorLanes(const CodegenOptions& o) {
  if (o.lanes == 8 || o.lanes == 16) return o.lanes;
  if (o.lanes != 0)
    throw CodegenError("vector lanes must be 8 or 16, got " + std::to_string(o.lanes));
  if (!o.cpu.empty()) return 16;
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  auto avx512 = features.find("avx512f");
  return avx512 != features.end() && avx512->second ? 16 : 8;
}

std::string stagePipeline(Stage to, const CodegenOptions& o) {
  int threads = std::clamp(o.threads, 1, 2);
  std::string lanes = "lanes=" + std::to_string(vectorLanes(o));
  switch (to) {
  case Stage::Linalg:
    return "";
  case Stage::Bufferized:
    // No CSE before bufferization: merged tensor.empty ops would make one
    // output's destination the scratch space of unrelated ops, and merged zero
    // fills (every matmul's accumulator) would make bufferization copy the one
    // filled buffer into each matmul's output (28 copies of [1000, N] in ESM²).
    return "canonicalize,recc-fuse-elementwise,canonicalize,eliminate-empty-tensors,"
           "empty-tensor-to-alloc-tensor,one-shot-bufferize,"
           "canonicalize,cse,buffer-deallocation-pipeline,canonicalize,recc-plan-memory,"
           "recc-notify-outputs";
  case Stage::Vectorized:
    if (!o.vectorize)
      return "func.func(recc-tile-vectorize{vectorize=0}),convert-linalg-to-loops,canonicalize";
    return "recc-outline-kernels,func.func(recc-tile-vectorize{threads=" + std::to_string(threads) +
           " " + lanes + "},fold-memref-alias-ops,canonicalize,cse,recc-lower-vectors{" + lanes +
           "},canonicalize,cse)";
  case Stage::LLVM: {
    // Passes that work function by function are nested under func.func (or,
    // after convert-func-to-llvm, llvm.func), so they run on every core.
    std::string p = "func.func(convert-linalg-to-loops";
    // Lowerings that split work in two emit scf.forall (LowerRoutedMatMul.cpp);
    // on one thread it is a plain loop.
    p += threads <= 1 ? ",scf-forall-to-for)," : ",scf-forall-to-parallel),";
    if (threads > 1) p += "convert-scf-to-openmp{num-threads=" + std::to_string(threads) + "},";
    p += "func.func(recc-approximate-math,canonicalize,lower-affine,convert-scf-to-cf,"
         "expand-strided-metadata,lower-affine),convert-vector-to-llvm,finalize-memref-to-llvm,"
         "func.func(convert-math-to-llvm,convert-arith-to-llvm,convert-index-to-llvm),"
         "convert-func-to-llvm{use-bare-ptr-memref-call-conv=1},convert-cf-to-llvm,";
    if (threads > 1) p += "convert-openmp-to-llvm,";
    p += "reconcile-unrealized-casts,llvm.func(canonicalize)";
    return p;
  }
  }
  return "";
}

/// Runs one textual pipeline on the module; MLIR's diagnostics become the
/// CodegenError's message.
static void runPipeline(mlir::ModuleOp module, const std::string& text, const char* stage) {
  if (text.empty()) return;
  mlir::MLIRContext* ctx = module.getContext();
  std::string diags;
  mlir::ScopedDiagnosticHandler handler(ctx, [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diags);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  mlir::PassManager pm(ctx);
  // RECC_MLIR_PRINT_IR=1 dumps the IR after every pass to stderr (debugging).
  // MLIR refuses to print from a threaded pass manager, so printing runs the
  // passes on one thread.
  if (const char* e = std::getenv("RECC_MLIR_PRINT_IR"); e && *e == '1') {
    ctx->disableMultithreading();
    pm.enableIRPrinting([](mlir::Pass*, mlir::Operation*) { return false; },
                        [](mlir::Pass*, mlir::Operation*) { return true; },
                        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/true);
  }
  // RECC_MLIR_TIMING=1 reports the time of every pass to stderr.
  if (const char* e = std::getenv("RECC_MLIR_TIMING"); e && *e == '1') pm.enableTiming();
  std::string parseErrors;
  llvm::raw_string_ostream perr(parseErrors);
  if (mlir::failed(mlir::parsePassPipeline(text, pm, perr)))
    throw CodegenError("internal error: bad pass pipeline '" + text + "': " + parseErrors);
  if (mlir::failed(pm.run(module)))
    throw CodegenError(std::string("MLIR lowering to the '") + stage + "' stage failed:\n" +
                       diags);
}

void lowerTo(mlir::ModuleOp module, Stage to, const CodegenOptions& o) {
  static const char* names[] = {"linalg", "bufferized", "vectorized", "llvm"};
  for (int s = (int)Stage::Bufferized; s <= (int)to; ++s)
    runPipeline(module, stagePipeline((Stage)s, o), names[s]);
}

int64_t globalBytes(mlir::ModuleOp module) {
  mlir::DataLayout layout(module);
  int64_t bytes = 0;
  module.walk([&](mlir::LLVM::GlobalOp g) {
    bytes += (int64_t)layout.getTypeSize(g.getGlobalType()).getFixedValue();
  });
  return bytes;
}

}  // namespace recc::codegen
