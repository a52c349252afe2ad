// Divergence: see Divergence.h.
#include "runtime/Divergence.h"

#include "runtime/Error.h"

#include <cmath>

namespace recc::rt {

DivergenceGuard::DivergenceGuard(const ModelState& state, std::string checkpointPath,
                                 StepInspector* inspector, NormCheck norms)
    : State(state), CheckpointPath(std::move(checkpointPath)), Inspector(inspector),
      Norms(std::move(norms)) {}

std::string DivergenceGuard::where(int64_t batch) const {
  return fmt::format("step {} (epoch {}, batch {})", State.step + 1, State.epoch + 1,
                     batch + 1);
}

void DivergenceGuard::check(const StepRunner& runner, int64_t batch) {
  // The loss and its terms first: they name the part of the model at fault.
  for (const auto& [name, v] : runner.lossTerms())
    if (!std::isfinite(v))
      nonFinite(runner, fmt::format("loss at {}: loss term '{}' is {}", where(batch),
                                           name, v));
  if (runner.hasLoss() && !std::isfinite(runner.loss()))
    nonFinite(runner,
              fmt::format("loss at {}: loss term 'loss' is {}", where(batch), runner.loss()));
  if (std::string bad = runner.firstNonFiniteOutput(); !bad.empty())
    nonFinite(runner, fmt::format("output at {}: {}", where(batch), bad));
  if (Norms.limit > 0 && Inspector && State.step % Norms.every == 0)
    checkNorms(runner, batch);
}

void DivergenceGuard::checkNorms(const StepRunner& runner, int64_t batch) {
  NormReport r;
  try {
    r = Inspector->checkNorms(runner.lastBatch(), runner.buffers(), Norms);
  } catch (const std::exception& e) {
    fail("--check-norms: replaying {} failed: {}", where(batch), e.what());
  }
  if (!r.exceeded.empty())
    fail("--check-norms {}: at {}, {}; the update was not applied and {}", Norms.limit,
         where(batch), r.exceeded,
         CheckpointPath.empty()
             ? "no checkpoint was written"
             : fmt::format("checkpoint '{}' was not overwritten", CheckpointPath));
  if (r.largest >= Largest) {
    Largest = r.largest;
    LargestAt = fmt::format("{} at step {}", r.largestValue, State.step + 1);
  }
}

std::string DivergenceGuard::normSummary() const {
  if (Norms.limit <= 0 || LargestAt.empty())
    return "";
  return fmt::format("largest activation row norm {:.4g} ({})", Largest, LargestAt);
}

void DivergenceGuard::nonFinite(const StepRunner& runner, const std::string& what) const {
  std::string kept = CheckpointPath.empty()
                         ? "no checkpoint was written"
                         : fmt::format("checkpoint '{}' was not overwritten", CheckpointPath);
  std::string culprit;
  if (!Inspector) {
    culprit = "this trainer has no graph to replay the step: to name the op that went "
              "bad, run `recc train` on the model file with the same data, --seed and "
              "--epochs (add --init with the last good checkpoint to start from its epoch)";
  } else {
    try {
      culprit = Inspector->firstNonFinite(runner.lastBatch(), runner.buffers());
      if (culprit.empty())
        culprit = "a reference replay of this step stays finite everywhere: the backend's "
                  "kernels overflowed where the reference executor's did not";
    } catch (const std::exception& e) {
      culprit = fmt::format("replaying the step to find the op failed: {}", e.what());
    }
  }
  fail("non-finite {}; the update was not applied and {}\n  {}", what, kept, culprit);
}

} // namespace recc::rt
