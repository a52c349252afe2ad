// Backend: compileJit, emitObject and emitMlir — the three ways out of the
// pipeline. All three lower graphs the same way (Lowering.h, Pipeline.h); they
// differ only in where the LLVM module goes: objects compiled in parallel and
// linked by an ORC LLJIT, one object file, or a printer.
#include "compiler/mlir/Backend.h"
#include "compiler/mlir/Lowering.h"
#include "compiler/mlir/Pipeline.h"
#include "runtime/External.h"
#include "runtime/MemoryCheck.h"
#include "runtime/OutputReady.h"

#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/ExecutionEngine/Orc/RTDyldObjectLinkingLayer.h"
#include "llvm/ExecutionEngine/SectionMemoryManager.h"
#include "llvm/Support/SmallVectorMemoryBuffer.h"
#include "llvm/Support/raw_os_ostream.h"
#include "mlir/IR/Verifier.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <sys/mman.h>
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
  void size(const std::vector<CompiledPart>& parts) const {
    if (!on) return;
    size_t before = 0, after = 0;
    for (const CompiledPart& p : parts) {
      before += p.instructionsBefore;
      after += p.instructionsAfter;
    }
    std::fprintf(stderr, "recc-mlir: LLVM IR in %zu parts: %zu instructions, %zu after O3\n",
                 parts.size(), before, after);
  }
};

size_t numBuffers(const Graph& g) { return g.inputs().size() + g.outputs().size(); }

/// Lowers every step graph into one module (one body function per step).
mlir::OwningOpRef<mlir::ModuleOp> lowerAll(mlir::MLIRContext& ctx,
                                           const std::vector<StepGraph>& steps,
                                           const rt::BatchSizes& batch,
                                           bool notifyGradients = false) {
  mlir::OwningOpRef<mlir::ModuleOp> module = mlir::ModuleOp::create(mlir::UnknownLoc::get(&ctx));
  for (const StepGraph& s : steps) {
    const rt::BatchSizes& sizes = s.batches ? *s.batches : batch;
    for (int64_t n : sizes.all())
      if (n <= 0)
        throw CodegenError("batch size must be positive, got " + sizes.str());
    auto m = lower::lowerGraph(ctx, *s.graph, sizes, s.symbol, notifyGradients);
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

/// An ORC JIT that links objects and resolves what they call (libc, libm,
/// libomp) from the process.
std::unique_ptr<llvm::orc::LLJIT> makeJit() {
  auto jit =
      llvm::orc::LLJITBuilder()
          .setObjectLinkingLayerCreator([](llvm::orc::ExecutionSession& es, const llvm::Triple&) {
            return std::make_unique<llvm::orc::RTDyldObjectLinkingLayer>(
                es, [] { return std::make_unique<llvm::SectionMemoryManager>(); });
          })
          .create();
  if (!jit) throw CodegenError("cannot create the JIT: " + llvm::toString(jit.takeError()));
  auto process = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!process) throw CodegenError("JIT: " + llvm::toString(process.takeError()));
  (*jit)->getMainJITDylib().addGenerator(std::move(*process));
  // The runtime's hook, which a train step under mpirun calls
  // (recc-notify-outputs); recc does not export its symbols.
  llvm::orc::SymbolMap hooks;
  hooks[(*jit)->mangleAndIntern("recc_output_ready")] = {
      llvm::orc::ExecutorAddr::fromPtr(&recc_output_ready), llvm::JITSymbolFlags::Exported};
  if (llvm::Error e = (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(hooks))))
    throw CodegenError("JIT: " + llvm::toString(std::move(e)));
  return std::move(*jit);
}

void* lookup(llvm::orc::LLJIT& jit, const std::string& name) {
  auto a = jit.lookup(name);
  if (!a)
    throw CodegenError("JIT lookup of '" + name + "' failed: " + llvm::toString(a.takeError()));
  return a->toPtr<void*>();
}

/// /tmp/perf-<pid>.map: every JIT'd function (kernels, OpenMP regions), so
/// that `perf report` can name it.
void writePerfMap(llvm::orc::LLJIT& jit, const std::vector<CompiledPart>& parts) {
  std::vector<std::pair<uintptr_t, std::string>> syms;
  for (const CompiledPart& p : parts)
    for (const std::string& n : p.functions)
      syms.push_back({reinterpret_cast<uintptr_t>(lookup(jit, n)), n});
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

/// The step's arenas (PlanMemory.cpp: large, uninitialized globals), mapped
/// here rather than by the JIT's linker, which zeroes every page of a
/// zero-initialized section up front (0.3 s of SAR-Net's 1.1 GB): mapped
/// anonymous memory is zero already, and a page costs only when the step
/// first touches it.
class Arenas {
public:
  Arenas() = default;
  Arenas(const Arenas&) = delete;
  Arenas& operator=(const Arenas&) = delete;
  ~Arenas() {
    for (auto [p, n] : maps_) munmap(p, n);
  }

  /// Turns every large uninitialized global of `m` into a declaration, to be
  /// defined by define().
  void take(llvm::Module& m) {
    const llvm::DataLayout& layout = m.getDataLayout();
    for (llvm::GlobalVariable& g : m.globals()) {
      if (g.isDeclaration() || !llvm::isa<llvm::UndefValue>(g.getInitializer())) continue;
      uint64_t bytes = layout.getTypeAllocSize(g.getValueType());
      if (bytes < (1u << 20)) continue;
      void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED)
        throw CodegenError("cannot map the step's " + std::to_string(bytes >> 20) +
                           " MiB working memory");
      maps_.push_back({p, bytes});
      names_.push_back(g.getName().str());
      g.setInitializer(nullptr);
      g.setLinkage(llvm::GlobalValue::ExternalLinkage);
    }
  }
  /// Defines the arenas' symbols in the JIT.
  void define(llvm::orc::LLJIT& jit) const {
    llvm::orc::SymbolMap syms;
    for (size_t i = 0; i < maps_.size(); ++i)
      syms[jit.mangleAndIntern(names_[i])] = {llvm::orc::ExecutorAddr::fromPtr(maps_[i].first),
                                              llvm::JITSymbolFlags::Exported};
    if (llvm::Error e = jit.getMainJITDylib().define(llvm::orc::absoluteSymbols(std::move(syms))))
      throw CodegenError("JIT: " + llvm::toString(std::move(e)));
  }

private:
  std::vector<std::pair<void*, size_t>> maps_;
  std::vector<std::string> names_;
};

class JitStep : public rt::StepFunction {
public:
  JitStep(std::unique_ptr<llvm::orc::LLJIT> jit, std::unique_ptr<Arenas> arenas,
          void (*fn)(float**), rt::BatchSizes batch, int64_t arenaBytes)
      : jit_(std::move(jit)), arenas_(std::move(arenas)), fn_(fn), batch_(std::move(batch)),
        arenaBytes_(arenaBytes) {}

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
  std::unique_ptr<llvm::orc::LLJIT> jit_;
  std::unique_ptr<Arenas> arenas_;
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
  auto module = lowerAll(*ctx, {{&graph, symbol}}, batch, options.notifyGradients);
  timer.lap("graph -> linalg");
  lowerTo(*module, Stage::LLVM, options);
  timer.lap("MLIR passes");
  // The arena is mapped when LLVM loads the code; one too large for this
  // machine would abort inside LLVM ("Unable to allocate section memory").
  const int64_t arenaBytes = globalBytes(*module);
  rt::checkStepWorkingMemory("the compiled step", batch.largest(), arenaBytes);
  if (options.threads > 1) loadOpenMP();

  // The LLVM half on every core (ParallelCodegen.cpp), then one JIT links
  // the parts' objects.
  auto lctx = std::make_unique<llvm::LLVMContext>();
  auto m = translate(*module, *lctx, {{symbol, numBuffers(graph)}});
  auto tm = makeTargetMachine(options);
  m->setDataLayout(tm->createDataLayout());
  auto arenas = std::make_unique<Arenas>();
  arenas->take(*m);
  timer.lap("translate to LLVM IR");
  std::vector<CompiledPart> parts = compileParts(std::move(m), options, compileThreads(options));
  timer.size(parts);
  timer.lap("LLVM O3 + codegen");
  auto jit = makeJit();
  arenas->define(*jit);
  for (CompiledPart& p : parts) {
    auto object = std::make_unique<llvm::SmallVectorMemoryBuffer>(
        std::move(p.object), /*RequiresNullTerminator=*/false);
    if (llvm::Error e = jit->addObjectFile(std::move(object)))
      throw CodegenError("JIT: " + llvm::toString(std::move(e)));
  }
  auto* fn = reinterpret_cast<void (*)(float**)>(lookup(*jit, symbol));
  timer.lap("JIT link");
  // RECC_MLIR_PERF_MAP=1: name the JIT'd functions for `perf report`.
  if (const char* pm = std::getenv("RECC_MLIR_PERF_MAP"); pm && *pm == '1')
    writePerfMap(*jit, parts);
  return std::make_unique<JitStep>(std::move(jit), std::move(arenas), fn, batch, arenaBytes);
}

void emitObject(const std::vector<StepGraph>& steps, const rt::BatchSizes& batch,
                const std::string& path, const CodegenOptions& options) {
  auto ctx = makeContext();
  auto module = lowerAll(*ctx, steps, batch, options.notifyGradients);
  lowerTo(*module, Stage::LLVM, options);
  llvm::LLVMContext lctx;
  auto m = translate(*module, lctx, signatures(steps));
  const unsigned threads = compileThreads(options);
  if (threads <= 1) {
    auto tm = makeStaticTargetMachine(options);
    optimize(*m, *tm, options.optLevel);
    writeObject(*m, *tm, path);
    return;
  }
  // On every core, as for the JIT. `ld -r` makes the parts one object, and
  // `objcopy --localize-hidden` makes what the split exposed between them
  // (kernels, arenas: hidden symbols) local again, so that two steps' objects
  // link into one program; only the steps' entry points stay global.
  std::vector<CompiledPart> parts = compileParts(std::move(m), options, threads, Linking::Static);
  std::vector<std::string> files;
  auto removeFiles = [&] { for (const std::string& f : files) std::remove(f.c_str()); };
  try {
    for (size_t i = 0; i < parts.size(); ++i) {
      files.push_back(path + ".part" + std::to_string(i) + ".o");
      std::error_code ec;
      llvm::raw_fd_ostream out(files.back(), ec);
      if (ec) throw CodegenError("cannot write '" + files.back() + "': " + ec.message());
      out.write(parts[i].object.data(), parts[i].object.size());
      out.close();
      if (out.has_error()) throw CodegenError("error writing '" + files.back() + "'");
    }
    const std::string why = "merging the compiled parts into '" + path + "'";
    std::vector<std::string> args{"-r", "-o", path};
    args.insert(args.end(), files.begin(), files.end());
    rt::runExternal({"ld", "binutils", why}, args, "");
    removeFiles();
    rt::runExternal({"objcopy", "binutils", why}, {"--localize-hidden", path}, "");
  } catch (...) {
    removeFiles();
    throw;
  }
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
