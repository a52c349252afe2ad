// Translate: the LLVM end of the pipeline. LLVM-dialect MLIR becomes LLVM IR;
// each step gets an exported `void <symbol>(float** buffers)` wrapper that
// unpacks the buffer table into the bare-pointer body (whose buffers are
// noalias, so O3 vectorizes leftover loops without runtime alias checks); the
// module is optimized for the host CPU (AVX-512 and 512-bit vectors where
// present) and written as relocatable objects (ParallelCodegen.cpp for the
// JIT, one object for AOT).
#include "compiler/mlir/Pipeline.h"

#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/TargetParser/SubtargetFeature.h"
#include "mlir/Target/LLVMIR/Export.h"

#include <mutex>

namespace recc::codegen {

std::unique_ptr<llvm::TargetMachine> makeTargetMachine(const CodegenOptions& o) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
    llvm::InitializeNativeTargetAsmParser();
  });
  std::string triple = llvm::sys::getProcessTriple();
  std::string err;
  const llvm::Target* target = llvm::TargetRegistry::lookupTarget(triple, err);
  if (!target) throw CodegenError("no LLVM target for " + triple + ": " + err);
  std::string cpu = o.cpu.empty() ? llvm::sys::getHostCPUName().str() : o.cpu;
  llvm::SubtargetFeatures features;
  if (o.cpu.empty())
    for (const auto& f : llvm::sys::getHostCPUFeatures()) features.AddFeature(f.first(), f.second);
  llvm::CodeGenOptLevel level = o.optLevel >= 3   ? llvm::CodeGenOptLevel::Aggressive
                                : o.optLevel == 2 ? llvm::CodeGenOptLevel::Default
                                : o.optLevel == 1 ? llvm::CodeGenOptLevel::Less
                                                  : llvm::CodeGenOptLevel::None;
  llvm::TargetOptions to;
  return std::unique_ptr<llvm::TargetMachine>(target->createTargetMachine(
      triple, cpu, features.getString(), to, llvm::Reloc::PIC_, std::nullopt, level));
}

std::unique_ptr<llvm::TargetMachine> makeStaticTargetMachine(const CodegenOptions& o) {
  auto tm = makeTargetMachine(o);
  tm->setCodeModel(llvm::CodeModel::Medium);
  tm->setLargeDataThreshold(1 << 16);
  return tm;
}

/// void <symbol>(float** b) { <symbol>_body(b[0], b[1], ...); }
static void addWrapper(llvm::Module& m, const StepSig& step) {
  llvm::Function* body = m.getFunction(step.symbol + "_body");
  if (!body) throw CodegenError("internal error: no body for step '" + step.symbol + "'");
  if (body->arg_size() != step.numBuffers)
    throw CodegenError("internal error: step '" + step.symbol + "' takes " +
                       std::to_string(body->arg_size()) + " buffers, expected " +
                       std::to_string(step.numBuffers));
  body->setLinkage(llvm::GlobalValue::InternalLinkage);
  for (unsigned i = 0; i < body->arg_size(); ++i)
    body->addParamAttr(i, llvm::Attribute::NoAlias);

  llvm::LLVMContext& ctx = m.getContext();
  llvm::Type* ptr = llvm::PointerType::getUnqual(ctx);
  auto* type = llvm::FunctionType::get(llvm::Type::getVoidTy(ctx), {ptr}, false);
  auto* fn = llvm::Function::Create(type, llvm::Function::ExternalLinkage, step.symbol, m);
  llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", fn));
  std::vector<llvm::Value*> args;
  for (size_t i = 0; i < step.numBuffers; ++i)
    args.push_back(b.CreateLoad(ptr, b.CreateConstInBoundsGEP1_64(ptr, fn->getArg(0), i)));
  b.CreateCall(body, args);
  b.CreateRetVoid();
}

std::unique_ptr<llvm::Module> translate(mlir::ModuleOp module, llvm::LLVMContext& ctx,
                                        const std::vector<StepSig>& steps) {
  std::unique_ptr<llvm::Module> m = mlir::translateModuleToLLVMIR(module, ctx, "recc");
  if (!m) throw CodegenError("translation of the LLVM dialect to LLVM IR failed");
  for (const StepSig& s : steps) addWrapper(*m, s);
  // Shared kernels (recc-outline-kernels) stay out of line: inlining them back
  // into every caller would undo the sharing and the compile-time saving.
  for (llvm::Function& f : *m)
    if (!f.isDeclaration() && f.getName().starts_with("__recc_k")) {
      f.setLinkage(llvm::GlobalValue::InternalLinkage);
      f.addFnAttr(llvm::Attribute::NoInline);
    }
  return m;
}

void optimize(llvm::Module& m, llvm::TargetMachine& tm, int optLevel) {
  m.setDataLayout(tm.createDataLayout());
  m.setTargetTriple(tm.getTargetTriple().str());
  for (llvm::Function& f : m) {
    if (f.isDeclaration()) continue;
    f.addFnAttr("target-cpu", tm.getTargetCPU());
    f.addFnAttr("target-features", tm.getTargetFeatureString());
  }
  // No LLVM loop unrolling: recc-tile-vectorize unrolls the register tiles
  // already, and LLVM unrolling the rest (packing copies, row loops) doubled
  // the code (SAR-Net: 37k -> 77k instructions, compile +1.2 s) for no
  // measurable speed (recc_gemm_bench at ESM²/SAR-Net shapes and ESM²'s
  // training step, interleaved A/B). The loop vectorizer still interleaves
  // what it vectorizes.
  llvm::PipelineTuningOptions tuning;
  tuning.LoopUnrolling = false;
  tuning.LoopInterleaving = true;
  tuning.LoopVectorization = true;
  tuning.SLPVectorization = true;
  llvm::PassBuilder pb(&tm, tuning);
  llvm::LoopAnalysisManager lam;
  llvm::FunctionAnalysisManager fam;
  llvm::CGSCCAnalysisManager cgam;
  llvm::ModuleAnalysisManager mam;
  pb.registerModuleAnalyses(mam);
  pb.registerCGSCCAnalyses(cgam);
  pb.registerFunctionAnalyses(fam);
  pb.registerLoopAnalyses(lam);
  pb.crossRegisterProxies(lam, fam, cgam, mam);
  using llvm::OptimizationLevel;
  static const OptimizationLevel levels[] = {OptimizationLevel::O0, OptimizationLevel::O1,
                                             OptimizationLevel::O2, OptimizationLevel::O3};
  auto mpm = pb.buildPerModuleDefaultPipeline(levels[std::clamp(optLevel, 0, 3)]);
  mpm.run(m, mam);
}

void writeObject(llvm::Module& m, llvm::TargetMachine& tm, llvm::raw_pwrite_stream& out) {
  llvm::legacy::PassManager pm;
  if (tm.addPassesToEmitFile(pm, out, nullptr, llvm::CodeGenFileType::ObjectFile))
    throw CodegenError("the target cannot emit object files");
  pm.run(m);
}

void writeObject(llvm::Module& m, llvm::TargetMachine& tm, const std::string& path) {
  std::error_code ec;
  llvm::raw_fd_ostream out(path, ec, llvm::sys::fs::OF_None);
  if (ec) throw CodegenError("cannot write '" + path + "': " + ec.message());
  writeObject(m, tm, out);
  out.flush();
  if (out.has_error()) throw CodegenError("error writing '" + path + "'");
}

}  // namespace recc::codegen
