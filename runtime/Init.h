// Init: parameter initializers named by an InitSpec. Values are a pure
// function of (plan seed, parameter name, element index), so a model trains
// the same whatever the thread count, and adding a parameter does not change
// the initial values of the others.
//   glorot_uniform  U(-l, l), l = sqrt(6 / (fan_in + fan_out)); a 2-D shape is
//                   [fan_in, fan_out]; rank > 2 takes fan_out = last dim and
//                   fan_in = product of the others; rank 1 uses n for both.
//   uniform         U(-scale, scale)
//   normal          N(0, scale^2)
//   zeros, ones
#pragma once

#include "runtime/ModelPlan.h"
#include "runtime/Tensor.h"

#include <cstdint>
#include <string>

namespace recc::rt {

/// Fills `out` (of shape `shape`, already allocated) per `spec`. Throws a
/// RuntimeError naming `name` for an unknown initializer kind.
void initialize(const InitSpec& spec, const std::string& name, uint64_t seed,
                const Shape& shape, float* out);

/// Convenience: initializes a whole tensor using its own shape.
inline void initialize(const InitSpec& spec, const std::string& name,
                       uint64_t seed, Tensor& t) {
  initialize(spec, name, seed, t.shape(), t.data());
}

} // namespace recc::rt
