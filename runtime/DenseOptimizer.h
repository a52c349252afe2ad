// DenseOptimizer: Adam / Adagrad / SGD over the dense parameters of a
// ParamStore. Only parameters that received a gradient this step are updated
// (frozen parameters, EMA shadows and parameters a compiled step updates
// itself have no Gradient buffer). State (moments, accumulators) is allocated
// on a parameter's first update, so evaluation-only runs pay nothing for it.
#pragma once

#include "runtime/OptimizerMath.h"
#include "runtime/ParamStore.h"

#include <array>
#include <span>
#include <vector>

namespace recc::rt {

class DenseOptimizer {
public:
  explicit DenseOptimizer(const OptimizerSpec& spec);

  const OptimizerSpec& spec() const { return Spec; }
  OptimizerKind kind() const { return Kind; }

  /// Applies the update of global step `t` (1-based) to the listed parameters
  /// using their gradients in `params`. Large buffers are split across threads.
  void step(ParamStore& params, std::span<const int> paramIndices, int64_t t);

  /// True once parameter `i` has optimizer state (after its first update or a
  /// checkpoint load).
  bool hasState(int i) const {
    return optimizerSlots(Kind) == 0 ||
           (i < static_cast<int>(Slots.size()) && !Slots[i][0].empty());
  }
  /// State slot `s` of parameter `i`, allocating it (at its initial value) if needed.
  Tensor& slot(const ParamStore& params, int i, int s);
  /// State slot `s` of parameter `i` if allocated, else null.
  const Tensor* slotIfAllocated(int i, int s) const {
    if (i >= static_cast<int>(Slots.size()) || Slots[i][s].empty())
      return nullptr;
    return &Slots[i][s];
  }

private:
  void ensureState(const ParamStore& params, int i);
  OptimizerSpec Spec;
  OptimizerKind Kind;
  std::vector<std::array<Tensor, 2>> Slots;
};

} // namespace recc::rt
