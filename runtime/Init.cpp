// Init: see Init.h. Large tables (10^7 rows) are filled in parallel chunks;
// because each element's value depends only on its index, chunking cannot
// change the result.
#include "runtime/Init.h"

#include "runtime/Error.h"
#include "runtime/Random.h"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <cmath>
#include <numbers>

namespace recc::rt {
namespace {

double glorotLimit(const Shape& shape) {
  double fanIn = 1, fanOut = 1;
  if (shape.size() == 1) {
    fanIn = fanOut = static_cast<double>(shape[0]);
  } else if (shape.size() >= 2) {
    fanOut = static_cast<double>(shape.back());
    fanIn = static_cast<double>(numElements(shape)) / std::max(fanOut, 1.0);
  }
  return std::sqrt(6.0 / std::max(fanIn + fanOut, 1.0));
}

/// Sets out[i] = value(i) for every element, in parallel for big tensors.
template <typename F> void forEachIndex(int64_t n, F value, float* out) {
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1 << 16),
                    [&](const tbb::blocked_range<int64_t>& r) {
                      for (int64_t i = r.begin(); i < r.end(); ++i)
                        out[i] = value(i);
                    });
}

} // namespace

void initialize(const InitSpec& spec, const std::string& name, uint64_t seed,
                const Shape& shape, float* out) {
  const int64_t n = numElements(shape);
  const uint64_t key = combine(seed, hashString(name));
  if (spec.kind == "zeros" || spec.kind == "ones") {
    std::fill_n(out, n, spec.kind == "ones" ? 1.0f : 0.0f);
  } else if (spec.kind == "uniform" || spec.kind == "glorot_uniform") {
    double limit = spec.kind == "uniform" ? spec.scale : glorotLimit(shape);
    forEachIndex(n, [&](int64_t i) {
      return static_cast<float>((2 * uniformAt(key, i) - 1) * limit);
    }, out);
  } else if (spec.kind == "normal") {
    // Box-Muller on the element's own pair of uniforms: one normal per element.
    forEachIndex(n, [&](int64_t i) {
      double u1 = 1.0 - uniformAt(key, 2 * uint64_t(i));  // (0, 1]
      double u2 = uniformAt(key, 2 * uint64_t(i) + 1);
      double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
      return static_cast<float>(z * spec.scale);
    }, out);
  } else if (spec.kind == "identity" && shape.size() >= 2 &&
             shape.back() == shape[shape.size() - 2]) {
    // One identity matrix per leading index ([V,n,n] per-id parameters).
    const int64_t d = shape.back();
    forEachIndex(n, [&](int64_t i) { return (i / d) % d == i % d ? 1.0f : 0.0f; }, out);
  } else {
    fail("parameter '{}': unknown initializer '{}' (expected glorot_uniform, "
         "uniform, normal, zeros or ones)", name, spec.kind);
  }
}

} // namespace recc::rt
