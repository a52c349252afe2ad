// Backend: compileJit, emitObject and emitMlir — the three ways out of the
// pipeline. All three lower graphs the same way (Lowering.h, Pipeline.h); they
// differ only in where the LLVM module goes: the ORC JIT of an
// mlir::ExecutionEngine, an object file, or a printer.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/Lowering.h"
#include "compiler/mlir/Pipeline.h"

#include "llvm/Support/raw_os_ostream.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Verifier.h"

#include <dlfcn.h>
#include <ostream>

namespace recc {

using namespace codegen;

namespace {

size_t numBuffers(const Graph& g) { return g.inputs().size() + g.outputs().size(); }

/// Lowers every step graph into one module (one body function per step).
mlir::OwningOpRef<mlir::ModuleOp> lowerAll(mlir::MLIRContext& ctx,
                                           const std::vector<StepGraph>& steps,
                                           int64_t batch) {
  if (batch <= 0) throw CodegenError("batch size must be positive, got " + std::to_string(batch));
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  for (const StepGraph& s : steps) {
    auto m = lower::lowerGraph(ctx, *s.graph, batch, s.symbol);
    module->getBody()->getOperations().splice(module->getBody()->end(),
                                              m->getBody()->getOperations());
  }
  std::string diags;
  mlir::ScopedDiagnosticHandler handler(&ctx, [&](mlir::Diagnostic& d) {
    llvm::raw_string_ostream os(diags);
    os << d.getLocation() << ": " << d << "\n";
    return mlir::success();
  });
  if (mlir::failed(mlir::verify(*module)))
    throw CodegenError("internal error: lowered MLIR does not verify:\n" + diags);
  return module;
}

std::vector<StepSig> signatures(const std::vector<StepGraph>& steps) {
  std::vector<StepSig> sigs;
  for (const StepGraph& s : steps) sigs.push_back({s.symbol, numBuffers(*s.graph)});
  return sigs;
}

/// Makes libomp's symbols visible to the JIT (the 2-thread GEMMs call it).
void loadOpenMP() {
  for (const char* name : {"libomp.so.5", "libomp.so", "libiomp5.so"})
    if (dlopen(name, RTLD_NOW | RTLD_GLOBAL)) return;
  throw CodegenError("threads > 1 needs the OpenMP runtime (libomp.so.5), which was not found");
}

class JitStep : public rt::StepFunction {
public:
  JitStep(std::unique_ptr<mlir::ExecutionEngine> engine, void (*fn)(float**), int64_t batch)
      : engine_(std::move(engine)), fn_(fn), batch_(batch) {}

  void run(int64_t batch, float* const* buffers) override {
    if (batch != batch_)
      throw std::runtime_error("compiled step expects batch " + std::to_string(batch_) +
                               ", got " + std::to_string(batch));
    fn_(const_cast<float**>(buffers));
  }
  int64_t fixedBatch() const override { return batch_; }

private:
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  void (*fn_)(float**);
  int64_t batch_;
};

}  // namespace

std::unique_ptr<rt::StepFunction> compileJit(const Graph& graph, int64_t batch,
                                             const JitOptions& options) {
  const std::string symbol = "recc_jit_step";
  auto ctx = makeContext();
  auto module = lowerAll(*ctx, {{&graph, symbol}}, batch);
  lowerTo(*module, Stage::LLVM, options);
  if (options.threads > 1) loadOpenMP();

  auto tm = makeTargetMachine(options);
  std::vector<StepSig> sigs{{symbol, numBuffers(graph)}};
  std::string error;
  auto builder = [&](mlir::Operation* op, llvm::LLVMContext& lctx) -> std::unique_ptr<llvm::Module> {
    try {
      return translate(mlir::cast<mlir::ModuleOp>(op), lctx, sigs);
    } catch (const CodegenError& e) {
      error = e.what();
      return nullptr;
    }
  };
  auto transformer = [&](llvm::Module* m) -> llvm::Error {
    try {
      optimize(*m, *tm, options.optLevel);
    } catch (const CodegenError& e) {
      return llvm::createStringError(llvm::inconvertibleErrorCode(), e.what());
    }
    return llvm::Error::success();
  };
  mlir::ExecutionEngineOptions eo;
  eo.llvmModuleBuilder = builder;
  eo.transformer = transformer;
  eo.jitCodeGenOptLevel = tm->getOptLevel();
  auto engine = mlir::ExecutionEngine::create(*module, eo);
  if (!engine)
    throw CodegenError("JIT compilation failed: " +
                       (error.empty() ? llvm::toString(engine.takeError()) : error));
  auto fn = (*engine)->lookup(symbol);
  if (!fn) throw CodegenError("JIT lookup failed: " + llvm::toString(fn.takeError()));
  return std::make_unique<JitStep>(std::move(*engine), reinterpret_cast<void (*)(float**)>(*fn),
                                   batch);
}

void emitObject(const std::vector<StepGraph>& steps, int64_t batch, const std::string& path,
                const CodegenOptions& options) {
  auto ctx = makeContext();
  auto module = lowerAll(*ctx, steps, batch);
  lowerTo(*module, Stage::LLVM, options);
  llvm::LLVMContext lctx;
  auto m = translate(*module, lctx, signatures(steps));
  auto tm = makeTargetMachine(options);
  optimize(*m, *tm, options.optLevel);
  writeObject(*m, *tm, path);
}

const std::vector<std::string>& mlirStages() {
  static const std::vector<std::string> stages{"linalg", "bufferized", "vectorized", "llvm",
                                               "llvmir"};
  return stages;
}

void emitMlir(const Graph& graph, int64_t batch, std::string_view stage, std::ostream& os,
              const CodegenOptions& options, const std::string& symbol) {
  const auto& stages = mlirStages();
  auto it = std::find(stages.begin(), stages.end(), stage);
  if (it == stages.end())
    throw CodegenError("unknown stage '" + std::string(stage) +
                       "' (expected linalg, bufferized, vectorized, llvm or llvmir)");
  int index = (int)(it - stages.begin());
  auto ctx = makeContext();
  std::vector<StepGraph> steps{{&graph, symbol}};
  auto module = lowerAll(*ctx, steps, batch);
  llvm::raw_os_ostream out(os);
  if (index == 0) {
    module->print(out, mlir::OpPrintingFlags().enableDebugInfo(/*enable=*/true, /*pretty=*/false));
    return;
  }
  lowerTo(*module, (Stage)std::min(index, (int)Stage::LLVM), options);
  if (index <= (int)Stage::LLVM) {
    module->print(out);
    return;
  }
  llvm::LLVMContext lctx;
  auto m = translate(*module, lctx, signatures(steps));
  auto tm = makeTargetMachine(options);
  optimize(*m, *tm, options.optLevel);
  m->print(out, nullptr);
}

}  // namespace recc
