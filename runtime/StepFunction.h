// StepFunction: one compiled or interpreted function of a model (train_step or
// eval_step). The runtime binds buffers in the order of the plan's StepSpec and
// calls run(); the reference executor, the MLIR JIT and an AOT object all sit
// behind this interface, so the trainer does not know which backend it drives.
#pragma once

#include "runtime/BatchSizes.h"

#include <cstdint>

namespace recc::rt {

class StepFunction {
public:
  virtual ~StepFunction() = default;
  /// Runs one step on `batch` rows (per input stream: BatchSizes.h).
  /// `buffers[i]` is the float buffer of the plan's StepSpec.buffers[i],
  /// dense row-major with each batch dimension bound to its stream's size
  /// (a -1 dimension to batch.source(), -2 to batch.stream(1), ...); output buffers are allocated by the caller and hold
  /// garbage on entry: a step writes every element of every output (gradients
  /// included; they are not cleared between steps).
  virtual void run(const BatchSizes& batch, float* const* buffers) = 0;
  /// A backend compiled for one batch size returns it (the source stream's);
  /// 0 means any batch.
  virtual int64_t fixedBatch() const { return 0; }
  /// Every stream's size a compiled step fixes (fixedBatch() for each unless
  /// the step was compiled for streams of their own sizes).
  virtual BatchSizes fixedBatches() const { return fixedBatch(); }
  /// Bytes the step holds or allocates while it runs, besides its buffers,
  /// at the batch it was made for: the compiled step's static arena of
  /// activations, the reference executor's peak of live values. The
  /// up-front memory check (MemoryCheck.h) counts it.
  virtual int64_t workingBytes() const { return 0; }
};

} // namespace recc::rt
