// StepInspector: replays one train step, op by op, to say where it went bad.
// The runtime detects a non-finite loss or output (Divergence.h) but sees only
// a step's buffers; the op that produced the first bad value lives in the
// graph, which only the compiler side has. `recc train` hands the trainer an
// inspector over the model's train graph (compiler/exec/StepReplay.h) that
// replays the step on the reference executor; a standalone trainer written by
// `recc compile` carries no graph, has none, and says so.
#pragma once

#include "runtime/BatchSizes.h"

#include <cstdint>
#include <string>

namespace recc::rt {

/// `--check-norms [NAME=]X`: the per-row L2 norm of a forward activation
/// (every one, or the value NAME) must not exceed X; checked every `every`
/// steps by a replay.
struct NormCheck {
  double limit = 0;   ///< 0: off
  std::string value;  ///< empty: every batched forward activation
  int64_t every = 1;
};

/// What one --check-norms replay saw.
struct NormReport {
  std::string exceeded;  ///< the first value with a row over the limit; empty if none
  double largest = 0;    ///< the largest row norm among the checked values
  std::string largestValue;  ///< which value held it
};

class StepInspector {
public:
  virtual ~StepInspector() = default;
  /// Throws a RuntimeError if `check` names a value the model does not have.
  virtual void validate(const NormCheck& check) const = 0;
  /// Replays the step whose buffers (calling order, inputs as the step read
  /// them) are `buffers`, at `batch` rows, and describes the first op in
  /// topological order whose result is not finite: kind, value name, source
  /// location, shape, the first bad element and which inputs were finite.
  /// Empty if the replay stays finite.
  virtual std::string firstNonFinite(const BatchSizes& batch, const float* const* buffers) = 0;
  /// Replays the step and checks the per-row L2 norms of its forward
  /// activations (those `check` selects) against `check.limit`.
  virtual NormReport checkNorms(const BatchSizes& batch, const float* const* buffers,
                                const NormCheck& check) = 0;
};

} // namespace recc::rt
