// ParallelCodegen: the LLVM half of a JIT compile, on every core.
//
// LLVM's O3 and instruction selection take most of a large model's compile
// time and run on one thread per module. The translated module is therefore
// split into parts of about equal size (llvm::SplitModule, which balances by
// instruction count once every symbol is external), four per thread, and each
// part is optimized and compiled to an object by the next free thread, in its
// own LLVMContext (bitcode carries the part across), with its own
// TargetMachine.
// Little is lost: kernels are noinline already (Translate.cpp), so O3 works
// function by function anyway. The split is deterministic, so the objects do
// not depend on thread timing.
#include "compiler/mlir/Pipeline.h"

#include "llvm/Bitcode/BitcodeReader.h"
#include "llvm/Bitcode/BitcodeWriter.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Transforms/Utils/SplitModule.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace recc::codegen {

unsigned compileThreads(const CodegenOptions& o) {
  if (o.compileThreads > 0) return (unsigned)o.compileThreads;
  return std::clamp(std::thread::hardware_concurrency(), 1u, 8u);
}

namespace {

/// Parts per compile thread. Parts differ in cost, so a thread that finishes
/// early takes the next one; on SAR-Net four per thread cut the LLVM phase
/// from 1.64-1.75 s (one per thread) to 1.52-1.53 s.
constexpr unsigned kPartsPerThread = 4;

size_t instructionCount(const llvm::Module& m) {
  size_t n = 0;
  for (const llvm::Function& f : m) n += f.getInstructionCount();
  return n;
}

/// A part's symbols are reached from other parts, which may be loaded
/// anywhere in the address space: default visibility and no dso_local make
/// every reference go through the GOT or a stub, never a 32-bit offset.
void exposeSymbols(llvm::Module& part) {
  for (llvm::GlobalValue& g : part.global_values()) {
    if (g.hasLocalLinkage()) continue;
    g.setVisibility(llvm::GlobalValue::DefaultVisibility);
    g.setDSOLocal(false);
  }
}

/// Optimizes one part (bitcode) and compiles it to an object.
CompiledPart compilePart(const llvm::SmallVector<char, 0>& bitcode, const CodegenOptions& o,
                         Linking linking) {
  llvm::LLVMContext ctx;
  llvm::MemoryBufferRef ref(llvm::StringRef(bitcode.data(), bitcode.size()), "recc-part");
  llvm::Expected<std::unique_ptr<llvm::Module>> m = llvm::parseBitcodeFile(ref, ctx);
  if (!m)
    throw CodegenError("internal error: a split module does not read back: " +
                       llvm::toString(m.takeError()));
  CompiledPart out;
  out.instructionsBefore = instructionCount(**m);
  auto tm = linking == Linking::Static ? makeStaticTargetMachine(o) : makeTargetMachine(o);
  optimize(**m, *tm, o.optLevel);
  out.instructionsAfter = instructionCount(**m);
  for (const llvm::Function& f : **m)
    if (!f.isDeclaration())
      out.functions.push_back(f.getName().str());
  llvm::raw_svector_ostream os(out.object);
  writeObject(**m, *tm, os);
  return out;
}

}  // namespace

std::vector<CompiledPart> compileParts(std::unique_ptr<llvm::Module> module,
                                       const CodegenOptions& o, unsigned threads,
                                       Linking linking) {
  const unsigned parts = threads > 1 ? kPartsPerThread * threads : 1;
  std::vector<llvm::SmallVector<char, 0>> bitcode;
  llvm::SplitModule(*module, parts, [&](std::unique_ptr<llvm::Module> part) {
    if (instructionCount(*part) == 0 && part->global_empty()) return;
    if (linking == Linking::Jit) exposeSymbols(*part);
    llvm::raw_svector_ostream os(bitcode.emplace_back());
    llvm::WriteBitcodeToFile(*part, os);
  });
  module.reset();

  std::vector<CompiledPart> out(bitcode.size());
  std::vector<std::string> errors(bitcode.size());
  auto work = [&](size_t i) {
    try {
      out[i] = compilePart(bitcode[i], o, linking);
    } catch (const std::exception& e) {
      errors[i] = e.what();
    }
  };
  // More parts than threads, taken from a shared counter: the parts' costs
  // differ, and the last thread to finish sets the wall time.
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i = next++; i < bitcode.size(); i = next++) work(i);
  };
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (std::thread& t : pool) t.join();
  for (const std::string& e : errors)
    if (!e.empty()) throw CodegenError(e);
  return out;
}

}  // namespace recc::codegen
