// Backend: the MLIR code generator's public face. A differentiated, shape-
// inferred Graph goes in; native code comes out, either JIT-compiled into this
// process (compileJit) or written to a relocatable object (emitObject) that a
// standalone trainer links. Both expose the same C ABI per step function:
//
//   extern "C" void <symbol>(float** buffers);
//
// where buffers follow rt::StepSpec order (graph inputs, then graph outputs),
// each dense row-major f32 with every batch dimension (B, and B1, B2, ... of
// a model's other input streams) bound at compile time.
//
// This header deliberately includes no MLIR or LLVM headers, so the driver and
// the runtime glue compile without them.
#pragma once

#include "compiler/ir/Graph.h"
#include "runtime/StepFunction.h"

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace recc {

/// Raised for graphs the backend cannot compile (an op without a lowering, an
/// unbound leaf) and for failures inside MLIR/LLVM; the message names the node
/// and its source location when there is one.
struct CodegenError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct CodegenOptions {
  /// Threads for the large GEMMs (1 or 2; >2 is clamped to 2). With 2, each
  /// big matmul is split in two halves run by OpenMP (libomp).
  int threads = 1;
  /// false: naive scalar loops for every op (the baseline; slow, simple).
  bool vectorize = true;
  /// LLVM optimization level 0..3.
  int optLevel = 3;
  /// Target CPU name ("" = the host, e.g. "sapphirerapids").
  std::string cpu;
  /// f32 lanes of the vector registers the kernels are tiled for: 16
  /// (AVX-512) or 8 (AVX2); 0 = from the host's features (16 for a named cpu).
  int lanes = 0;
  /// Threads that compile (the LLVM half of a JIT compile is split into this
  /// many parts); 0 = the machine's hardware threads, at most 8. The code
  /// does not depend on it.
  int compileThreads = 0;
  /// A train step calls recc_output_ready(i) once gradient buffer i is final
  /// (runtime/OutputReady.h), so that the ranks under mpirun can sum it while
  /// the backward pass goes on.
  bool notifyGradients = false;
};
using JitOptions = CodegenOptions;

/// One step function to emit: `graph` compiled under the C symbol `symbol`.
struct StepGraph {
  const Graph* graph;
  std::string symbol;  ///< e.g. "train_step"
  /// Its streams' batch sizes; unset: the batch emitObject is given.
  std::optional<rt::BatchSizes> batches = std::nullopt;
};

/// JIT-compiles `graph` for fixed batch sizes (one per input stream, or one
/// for all). The returned function's run() requires `batch ==
/// fixedBatches()` and buffers in StepSpec order.
std::unique_ptr<rt::StepFunction> compileJit(const Graph& graph, const rt::BatchSizes& batch,
                                             const JitOptions& options = {});

/// Writes a relocatable object for the host with one function per step, each
/// for its own batches or else for `batch`. Link it with `-lomp` when
/// options.threads > 1.
void emitObject(const std::vector<StepGraph>& steps, const rt::BatchSizes& batch,
                const std::string& path, const CodegenOptions& options = {});

/// The printable lowering stages, in pipeline order:
/// "linalg", "bufferized", "vectorized", "llvm", "llvmir".
const std::vector<std::string>& mlirStages();

/// Prints the IR of `graph` after `stage` (one of mlirStages()). The function
/// is named `symbol`. Throws CodegenError on an unknown stage.
void emitMlir(const Graph& graph, const rt::BatchSizes& batch, std::string_view stage, std::ostream& os,
              const CodegenOptions& options = {}, const std::string& symbol = "step");

/// True if `kind` has an MLIR lowering (the registry sweep test uses this).
bool hasMlirLowering(OpKind kind);

}  // namespace recc
