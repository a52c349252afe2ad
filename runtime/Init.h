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
// A dynamic table's row is initialized when first touched by initializeRow,
// which computes the elements [id*dim, (id+1)*dim) of the same function: a
// row of a dynamic table starts exactly where the same row of a dense table
// of the same spec (name, shape, initializer, seed) starts.
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

/// One initializer bound to a parameter: element i's value is at(i).
class ElementInit {
public:
  /// Throws like initialize() for an unknown kind.
  ElementInit(const InitSpec& spec, const std::string& name, uint64_t seed, const Shape& shape);
  float at(int64_t i) const;
  /// Writes row `row` of a [rows, dim] table (elements row*dim ..) to out.
  void row(int64_t row, int64_t dim, float* out) const {
    for (int64_t k = 0; k < dim; ++k)
      out[k] = at(row * dim + k);
  }

private:
  enum class Kind { Zeros, Ones, Uniform, Normal, Identity } K;
  uint64_t Key;
  double Scale = 0;  // uniform: the limit; normal: the stddev
  int64_t Dim = 1;   // identity: the matrix size
};

} // namespace recc::rt
