// OptimizerMath: the per-element update rules, written once and used by both
// the dense optimizer (whole parameter buffers) and the embedding tables
// (only the rows a batch touched). Keeping one definition means the lazy table
// update is exactly the dense rule restricted to touched rows.
//
//   sgd      w -= lr * g
//   adagrad  a += g^2;  w -= lr * g / (sqrt(a) + eps)      (a starts at
//            OptimizerSpec::initialAccumulator, as in TF)
//   adam     m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;
//            w -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
//            with t the global step (1-based), as torch.optim.Adam/SparseAdam.
// The loops are plain and branch-free so that -O3 -march=native vectorizes them.
#pragma once

#include "runtime/ModelPlan.h"

#include <cmath>
#include <cstdint>
#include <string>

namespace recc::rt {

enum class OptimizerKind { Sgd, Adagrad, Adam };

/// Parses OptimizerSpec::kind; throws a RuntimeError on an unknown name.
OptimizerKind optimizerKind(const std::string& kind);
/// State buffers per parameter element: sgd 0, adagrad 1, adam 2.
int optimizerSlots(OptimizerKind kind);
/// Names of the state buffers, used in checkpoints ("adam_m", "adam_v", ...).
const char* optimizerSlotName(OptimizerKind kind, int slot);

/// Scalars of one optimizer step, computed once per step.
struct StepCoefficients {
  OptimizerKind kind;
  float lr, beta1, beta2, eps;
  float oneMinusBeta1, oneMinusBeta2;  ///< computed in double: 1 - 0.999f is off by 1e-5
  float alpha;           ///< adam: lr / (1 - b1^t)
  float invSqrtBc2;      ///< adam: 1 / sqrt(1 - b2^t)

  /// Coefficients for global step `t` (1-based).
  static StepCoefficients at(const OptimizerSpec& spec, int64_t t);
};

/// Applies one update to n elements; s0/s1 are the state slots (may be null
/// when the optimizer has fewer slots).
inline void updateElements(const StepCoefficients& c, float* __restrict w,
                           const float* __restrict g, float* __restrict s0,
                           float* __restrict s1, int64_t n) {
  switch (c.kind) {
  case OptimizerKind::Sgd:
    for (int64_t i = 0; i < n; ++i)
      w[i] -= c.lr * g[i];
    break;
  case OptimizerKind::Adagrad:
    for (int64_t i = 0; i < n; ++i) {
      s0[i] += g[i] * g[i];
      w[i] -= c.lr * g[i] / (std::sqrt(s0[i]) + c.eps);
    }
    break;
  case OptimizerKind::Adam:
    for (int64_t i = 0; i < n; ++i) {
      s0[i] = c.beta1 * s0[i] + c.oneMinusBeta1 * g[i];
      s1[i] = c.beta2 * s1[i] + c.oneMinusBeta2 * g[i] * g[i];
      w[i] -= c.alpha * s0[i] / (std::sqrt(s1[i]) * c.invSqrtBc2 + c.eps);
    }
    break;
  }
}

/// The value a fresh state slot starts at.
inline float initialSlotValue(const OptimizerSpec& spec, OptimizerKind kind) {
  return kind == OptimizerKind::Adagrad ? static_cast<float>(spec.initialAccumulator)
                                        : 0.0f;
}

} // namespace recc::rt
