// RefTensor: the reference executor's value type. The reference executor is the
// oracle every backend is checked against, so it computes in double precision:
// finite-difference gradient checks then measure the gradient rule, not float
// round-off.
#pragma once

#include "runtime/CheckedMath.h"

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace recc {

struct RefTensor {
  std::vector<int64_t> shape;
  std::vector<double> data;

  RefTensor() = default;
  explicit RefTensor(std::vector<int64_t> s, double fill = 0.0) : shape(std::move(s)) {
    data.assign(numElements(shape), fill);
  }
  static int64_t numElements(const std::vector<int64_t>& s) {
    auto n = rt::checkedProduct(s);
    if (!n) throw std::overflow_error("reference tensor shape overflows 64 bits");
    return *n;
  }
  int64_t size() const { return (int64_t)data.size(); }
  int64_t rank() const { return (int64_t)shape.size(); }
  int64_t dim(int64_t i) const { return shape[i]; }
  std::string shapeStr() const {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
    return s + "]";
  }
};

} // namespace recc
