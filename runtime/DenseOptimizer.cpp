// DenseOptimizer: see DenseOptimizer.h. Each parameter buffer is cut into
// chunks of 16K floats run in parallel (parallelChunks); small parameters stay on one
// thread (the chunk size keeps scheduling overhead far below the work).
#include "runtime/DenseOptimizer.h"
#include "runtime/Parallel.h"

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
    parallelChunks(n, kChunk, [&](int64_t begin, int64_t end) {
      updateElements(c, w + begin, g + begin, s0 ? s0 + begin : nullptr,
                     s1 ? s1 + begin : nullptr, end - begin);
    });
  }
}

} // namespace recc::rt
