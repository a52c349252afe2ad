// Backend: compileJit, emitObject and emitMlir — the three ways out of the
// pipeline. All three lower graphs the same way (Lowering.h, Pipeline.h); they
// differ only in where the LLVM module goes: the ORC JIT of an
// mlir::ExecutionEngine, an object file, or a printer.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/Lowering.h"
#include "compiler/mlir/Pipeline.h"
#include "runtime/MemoryCheck.h"

#include "llvm/Support/raw_os_ostream.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <ostream>
#include <unistd.h>

namespace recc {

using namespace codegen;

namespace {

/// RECC_MLIR_TIMING=1: wall time of each phase of a compilation to stderr.
struct PhaseTimer {
  bool on;
  std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
  PhaseTimer() {
    const char* e = std::getenv("RECC_MLIR_TIMING");
    on = e && *e == '1';
  }
  void lap(const char* what) {
    auto t = std::chrono::steady_clock::now();
    if (on) std::fprintf(stderr, "recc-mlir: %-22s %8.3f s\n", what,
                         std::chrono::duration<double>(t - t0).count());
    t0 = t;
  }
  void size(const llvm::Module& m, const std::string& when) const {
    if (!on) return;
    size_t insts = 0;
    for (const llvm::Function& f : m) insts += f.getInstructionCount();
    std::fprintf(stderr, "recc-mlir: LLVM IR %s: %zu instructions\n", when.c_str(), insts);
  }
};

size_t numBuffers(const Graph& g) { return g.inputs().size() + g.outputs().size(); }

/// Lowers every step graph into one module (one body function per step).
mlir::OwningOpRef<mlir::ModuleOp> lowerAll(mlir::MLIRContext& ctx,
                                           const std::vector<StepGraph>& steps,
                                           const rt::BatchSizes& batch) {
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  for (const StepGraph& s : steps) {
    const rt::BatchSizes& sizes = s.batches ? *s.batches : batch;
    for (int64_t n : sizes.all())
      if (n <= 0)
        throw CodegenError("batch size must be positive, got " + sizes.str());
    auto m = lower::lowerGraph(ctx, *s.graph, sizes, s.symbol);
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

void writePerfMap(mlir::ExecutionEngine& engine, const std::vector<std::string>& names) {
  std::vector<std::pair<uintptr_t, std::string>> syms;
  for (const std::string& n : names)
    if (auto a = engine.lookup(n)) syms.push_back({reinterpret_cast<uintptr_t>(*a), n});
    else llvm::consumeError(a.takeError());
  std::sort(syms.begin(), syms.end());
  std::string path = "/tmp/perf-" + std::to_string(getpid()) + ".map";
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return;
  for (size_t i = 0; i < syms.size(); ++i) {
    uintptr_t size = i + 1 < syms.size() ? syms[i + 1].first - syms[i].first : 65536;
    std::fprintf(f, "%lx %lx %s\n", (unsigned long)syms[i].first, (unsigned long)size,
                 syms[i].second.c_str());
  }
  std::fclose(f);
}

class JitStep : public rt::StepFunction {
public:
  JitStep(std::unique_ptr<mlir::ExecutionEngine> engine, void (*fn)(float**),
          rt::BatchSizes batch, int64_t arenaBytes)
      : engine_(std::move(engine)), fn_(fn), batch_(std::move(batch)), arenaBytes_(arenaBytes) {}

  void run(const rt::BatchSizes& batch, float* const* buffers) override {
    if (!(batch == batch_))
      throw std::runtime_error("compiled step expects batch " + batch_.str() + ", got " +
                               batch.str());
    fn_(const_cast<float**>(buffers));
  }
  int64_t fixedBatch() const override { return batch_.source(); }
  rt::BatchSizes fixedBatches() const override { return batch_; }
  int64_t workingBytes() const override { return arenaBytes_; }

private:
  std::unique_ptr<mlir::ExecutionEngine> engine_;
  void (*fn_)(float**);
  rt::BatchSizes batch_;
  int64_t arenaBytes_;
};

}  // namespace

std::unique_ptr<rt::StepFunction> compileJit(const Graph& graph, const rt::BatchSizes& batch,
                                             const JitOptions& options) {
  const std::string symbol = "recc_jit_step";
  PhaseTimer timer;
  auto ctx = makeContext();
  auto module = lowerAll(*ctx, {{&graph, symbol}}, batch);
  timer.lap("graph -> linalg");
  lowerTo(*module, Stage::LLVM, options);
  timer.lap("MLIR passes");
  // The arena is mapped when LLVM loads the code; one too large for this
  // machine would abort inside LLVM ("Unable to allocate section memory").
  const int64_t arenaBytes = globalBytes(*module);
  rt::checkStepWorkingMemory("the compiled step", batch.largest(), arenaBytes);
  if (options.threads > 1) loadOpenMP();

  auto tm = makeTargetMachine(options);
  std::vector<StepSig> sigs{{symbol, numBuffers(graph)}};
  std::string error;
  // RECC_MLIR_PERF_MAP=1: every JIT'd function (kernels, OpenMP regions) is
  // listed in /tmp/perf-<pid>.map so `perf report` can name it.
  const char* pm = std::getenv("RECC_MLIR_PERF_MAP");
  bool perfMap = pm && *pm == '1';
  std::vector<std::string> functions;
  auto builder = [&](mlir::Operation* op,
                     llvm::LLVMContext& lctx) -> std::unique_ptr<llvm::Module> {
    try {
      timer.lap("JIT setup");
      auto m = translate(mlir::cast<mlir::ModuleOp>(op), lctx, sigs);
      timer.lap("translate to LLVM IR");
      return m;
    } catch (const CodegenError& e) {
      error = e.what();
      return nullptr;
    }
  };
  auto transformer = [&](llvm::Module* m) -> llvm::Error {
    try {
      timer.size(*m, "before O" + std::to_string(options.optLevel));
      optimize(*m, *tm, options.optLevel);
      timer.size(*m, "after O" + std::to_string(options.optLevel));
      timer.lap("LLVM optimize");
      if (perfMap)
        for (llvm::Function& f : *m)
          if (!f.isDeclaration() && !f.getName().empty()) {
            f.setLinkage(llvm::GlobalValue::ExternalLinkage);
            f.setVisibility(llvm::GlobalValue::DefaultVisibility);
            functions.push_back(f.getName().str());
          }
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
  timer.lap("LLVM codegen (lookup)");
  if (perfMap) writePerfMap(**engine, functions);
  return std::make_unique<JitStep>(std::move(*engine), reinterpret_cast<void (*)(float**)>(*fn),
                                   batch, arenaBytes);
}

void emitObject(const std::vector<StepGraph>& steps, const rt::BatchSizes& batch,
                const std::string& path, const CodegenOptions& options) {
  auto ctx = makeContext();
  auto module = lowerAll(*ctx, steps, batch);
  lowerTo(*module, Stage::LLVM, options);
  llvm::LLVMContext lctx;
  auto m = translate(*module, lctx, signatures(steps));
  auto tm = makeTargetMachine(options);
  // The medium code model puts the step's large static buffers in .lbss, out
  // of the 2 GiB that 32-bit relocations reach: a model whose buffers pass
  // 2 GiB (PLE at batch 512) otherwise fails to link with the trainer.
  tm->setCodeModel(llvm::CodeModel::Medium);
  tm->setLargeDataThreshold(1 << 16);
  optimize(*m, *tm, options.optLevel);
  writeObject(*m, *tm, path);
}

const std::vector<std::string>& mlirStages() {
  static const std::vector<std::string> stages{"linalg", "bufferized", "vectorized", "llvm",
                                               "llvmir"};
  return stages;
}

void emitMlir(const Graph& graph, const rt::BatchSizes& batch, std::string_view stage,
              std::ostream& os,
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
