// Passes: recc's own MLIR passes (in TileAndVectorize.cpp), registered under
// the names used in the textual pipelines of Pipeline.cpp:
//   recc-tile-vectorize{threads=N}  tile linalg ops on buffers and vectorize
//   recc-lower-vectors              hoist accumulators, lower to 1-D vector ops
//   recc-approximate-math           polynomial exp/log/log1p/tanh
//   recc-plan-memory                intermediates → one static arena (PlanMemory.cpp)
//   recc-outline-kernels            identical linalg ops → one shared function
//                                   (OutlineKernels.cpp)
//   recc-fuse-elementwise           elementwise fusion and reshape folding that
//                                   leave contractions named (FuseElementwise.cpp)
//   recc-notify-outputs             recc_output_ready(i) once a marked output
//                                   buffer is final (NotifyOutputs.cpp)
#pragma once

namespace recc::passes {

/// Marks a kernel outlined from inside a loop over threads (a routed
/// matmul's GEMMs): recc-tile-vectorize gives it one thread.
inline constexpr const char* kSerialKernel = "recc.serial";

/// Registers the passes above with MLIR's global pass registry (call once).
void registerPasses();
void registerPlanMemoryPass();
void registerOutlineKernelsPass();
void registerFuseElementwisePass();
void registerNotifyOutputsPass();

}  // namespace recc::passes
