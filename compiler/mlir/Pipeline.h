// Pipeline: the lowering stages after Graph → linalg, each a textual MLIR pass
// pipeline (printable, so `recc emit-mlir --stage` shows what ran), plus the
// LLVM side: translation, the `void <symbol>(float**)` wrapper, O3 for the
// host CPU and object emission.
//
//   linalg      ─ canonicalize, fuse elementwise ops, eliminate empty tensors,
//                 one-shot bufferize, insert deallocations, plan a static
//                 arena for the intermediates ─▶  bufferized
//   bufferized  ─ recc-outline-kernels (identical ops share a function),
//                 recc-tile-vectorize, fold memref aliases, canonicalize, CSE,
//                 recc-lower-vectors ─▶  vectorized
//   vectorized  ─ leftover linalg → loops, (scf.forall → OpenMP), polynomial
//                 math, expand strided metadata, everything → llvm dialect
//                 (bare-pointer memrefs) ─▶  llvm
//   llvm        ─ translate, add wrappers, optimize ─▶  llvmir
#pragma once

#include "compiler/mlir/Backend.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/MLIRContext.h"

#include <memory>
#include <string>
#include <vector>

namespace recc::codegen {

enum class Stage { Linalg, Bufferized, Vectorized, LLVM };

/// A context with every dialect, interface model, pass and LLVM translation
/// the pipeline needs registered; multithreading off (2-core machines).
std::unique_ptr<mlir::MLIRContext> makeContext();

/// The textual pass pipeline that takes a module from `to`'s previous stage
/// to `to`.
std::string stagePipeline(Stage to, const CodegenOptions& options);

/// Runs the stages after Linalg up to and including `to`; throws CodegenError
/// carrying MLIR's diagnostics on failure.
void lowerTo(mlir::ModuleOp module, Stage to, const CodegenOptions& options);

/// Bytes of the module's LLVM-dialect globals (after Stage::LLVM): chiefly
/// each step's static arena of activations (recc-plan-memory), which the JIT
/// maps as one section and an object file places in .bss.
int64_t globalBytes(mlir::ModuleOp module);

/// A step function in the module: its symbol and buffer count.
struct StepSig {
  std::string symbol;
  size_t numBuffers;
};

/// A target machine for the host (or options.cpu), PIC, at options.optLevel.
std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const CodegenOptions& options);

/// Translates an LLVM-dialect module to LLVM IR and adds, per step, the
/// exported wrapper `void <symbol>(float** buffers)` calling the internal
/// `<symbol>_body(float*...)`.
std::unique_ptr<llvm::Module> translate(mlir::ModuleOp module, llvm::LLVMContext& ctx,
                                        const std::vector<StepSig>& steps);

/// Sets the triple/data layout of `tm` and runs the O`optLevel` pipeline.
void optimize(llvm::Module& module, llvm::TargetMachine& tm, int optLevel);

/// Writes `module` as a relocatable object file for `tm`'s target.
void writeObject(llvm::Module& module, llvm::TargetMachine& tm, const std::string& path);
void writeObject(llvm::Module& module, llvm::TargetMachine& tm, llvm::raw_pwrite_stream& out);

/// One part of a module split for parallel compilation (ParallelCodegen.cpp):
/// its object file, the functions it defines, and its size in LLVM
/// instructions before and after optimization.
struct CompiledPart {
  llvm::SmallVector<char, 0> object;
  std::vector<std::string> functions;
  size_t instructionsBefore = 0, instructionsAfter = 0;
};

/// The threads a compile uses: options.compileThreads, or the machine's
/// hardware threads (at most 8).
unsigned compileThreads(const CodegenOptions& options);

/// Where the parts' objects go: into the JIT (loaded anywhere, so symbols
/// crossing parts go through the GOT), or into one executable by a static
/// link (the medium code model of emitObject, symbols hidden).
enum class Linking { Jit, Static };

/// Splits `module` into parts of about equal size, then optimizes each and
/// compiles it to an object on `threads` threads.
std::vector<CompiledPart> compileParts(std::unique_ptr<llvm::Module> module,
                                       const CodegenOptions& options, unsigned threads,
                                       Linking linking = Linking::Jit);

/// The target machine of code linked into a trainer: the medium code model
/// puts the step's large static buffers in .lbss, out of the 2 GiB that 32-bit
/// relocations reach (a model whose buffers pass 2 GiB, PLE at batch 512,
/// otherwise fails to link).
std::unique_ptr<llvm::TargetMachine> makeStaticTargetMachine(const CodegenOptions& options);

}  // namespace recc::codegen
