// DenseOptimizer: see DenseOptimizer.h. Each parameter buffer is cut into
// chunks of 16K floats run in parallel with TBB; small parameters stay on one
// thread (the chunk size keeps scheduling overhead far below the work).
#include "runtime/DenseOptimizer.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

namespace recc::rt {

DenseOptimizer::DenseOptimizer(const OptimizerSpec& spec)
    : Spec(spec), Kind(optimizerKind(spec.kind)) {}

void DenseOptimizer::ensureState(const ParamStore& params, int i) {
  if (Slots.size() < static_cast<size_t>(params.size()))
    Slots.resize(params.size());
  for (int s = 0; s < optimizerSlots(Kind); ++s) {
    if (!Slots[i][s].empty())
      continue;
    Slots[i][s] = Tensor(params.value(i).shape());
    Slots[i][s].fill(initialSlotValue(Spec, Kind));
  }
}

Tensor& DenseOptimizer::slot(const ParamStore& params, int i, int s) {
  ensureState(params, i);
  return Slots[i][s];
}

void DenseOptimizer::step(ParamStore& params, std::span<const int> paramIndices,
                          int64_t t) {
  const StepCoefficients c = StepCoefficients::at(Spec, t);
  constexpr int64_t kChunk = 1 << 14;
  for (int i : paramIndices) {
    ensureState(params, i);
    float* w = params.value(i).data();
    const float* g = params.grad(i).data();
    float* s0 = Slots[i][0].data();
    float* s1 = Slots[i][1].data();
    const int64_t n = params.value(i).numel();
    tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, kChunk),
                      [&](const tbb::blocked_range<int64_t>& r) {
                        int64_t o = r.begin();
                        updateElements(c, w + o, g + o, s0 ? s0 + o : nullptr,
                                       s1 ? s1 + o : nullptr, r.size());
                      });
  }
}

} // namespace recc::rt
