// OptimizerMath: parsing optimizer names and the per-step bias corrections.
// Bias corrections are computed in double: 1 - 0.999^t loses precision in
// float for small t.
#include "runtime/OptimizerMath.h"

#include "runtime/Error.h"

namespace recc::rt {

OptimizerKind optimizerKind(const std::string& kind) {
  if (kind == "sgd")
    return OptimizerKind::Sgd;
  if (kind == "adagrad")
    return OptimizerKind::Adagrad;
  if (kind == "adam")
    return OptimizerKind::Adam;
  fail("unknown optimizer '{}' (expected adam, adagrad or sgd)", kind);
}

int optimizerSlots(OptimizerKind kind) {
  switch (kind) {
  case OptimizerKind::Sgd:
    return 0;
  case OptimizerKind::Adagrad:
    return 1;
  case OptimizerKind::Adam:
    return 2;
  }
  return 0;
}

const char* optimizerSlotName(OptimizerKind kind, int slot) {
  if (kind == OptimizerKind::Adagrad)
    return "adagrad_acc";
  return slot == 0 ? "adam_m" : "adam_v";
}

StepCoefficients StepCoefficients::at(const OptimizerSpec& spec, int64_t t) {
  StepCoefficients c{};
  c.kind = optimizerKind(spec.kind);
  c.lr = static_cast<float>(spec.lr);
  c.beta1 = static_cast<float>(spec.beta1);
  c.beta2 = static_cast<float>(spec.beta2);
  c.eps = static_cast<float>(spec.eps);
  c.oneMinusBeta1 = static_cast<float>(1 - spec.beta1);
  c.oneMinusBeta2 = static_cast<float>(1 - spec.beta2);
  double bc1 = 1 - std::pow(spec.beta1, static_cast<double>(t));
  double bc2 = 1 - std::pow(spec.beta2, static_cast<double>(t));
  c.alpha = static_cast<float>(spec.lr / bc1);
  c.invSqrtBc2 = static_cast<float>(1 / std::sqrt(bc2));
  return c;
}

} // namespace recc::rt
