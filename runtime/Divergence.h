// Divergence: the trainer's check after each train step, before its update.
//   - Every step: the loss, the loss terms and every output buffer
//     (predictions, gradients, state updates) must be finite. The check is
//     one branch-free pass over the outputs (StepRunner::firstNonFiniteOutput),
//     far below the cost of the step that wrote them or of the optimizer
//     that reads the gradients next.
//   - On a failure, training stops before the update: the message names the
//     step (epoch, batch), the bad loss term or buffer and, with an
//     inspector, the first op of the replayed step whose result went bad
//     (StepInspector.h). Without one (a standalone trainer) it says how to
//     get the op from `recc train`.
//   - `--check-norms`: every `every` steps the step is replayed and its
//     forward activations' per-row L2 norms checked against the limit.
#pragma once

#include "runtime/ModelState.h"
#include "runtime/StepInspector.h"
#include "runtime/StepRunner.h"

#include <string>

namespace recc::rt {

class DivergenceGuard {
public:
  /// `checkpointPath` ("" if none) is named in the message: it still holds
  /// the last good epoch. `inspector` may be null.
  DivergenceGuard(const ModelState& state, std::string checkpointPath,
                  StepInspector* inspector, NormCheck norms);

  /// Throws a RuntimeError if the step `runner` just ran (batch `batch` of
  /// the epoch, 0-based) went non-finite or broke the norm limit.
  void check(const StepRunner& runner, int64_t batch);
  /// With --check-norms: "largest activation row norm N (value at step S)"
  /// over this guard's replays; else empty.
  std::string normSummary() const;

private:
  std::string where(int64_t batch) const;
  void checkNorms(const StepRunner& runner, int64_t batch);
  [[noreturn]] void nonFinite(const StepRunner& runner, const std::string& what) const;

  const ModelState& State;
  std::string CheckpointPath;
  StepInspector* Inspector;
  NormCheck Norms;
  double Largest = 0;
  std::string LargestAt;
};

} // namespace recc::rt
