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

} // namespace

ElementInit::ElementInit(const InitSpec& spec, const std::string& name, uint64_t seed,
                         const Shape& shape)
    : Key(combine(seed, hashString(name))) {
  if (spec.kind == "zeros" || spec.kind == "ones") {
    K = spec.kind == "ones" ? Kind::Ones : Kind::Zeros;
  } else if (spec.kind == "uniform" || spec.kind == "glorot_uniform") {
    K = Kind::Uniform;
    Scale = spec.kind == "uniform" ? spec.scale : glorotLimit(shape);
  } else if (spec.kind == "normal") {
    K = Kind::Normal;
    Scale = spec.scale;
  } else if (spec.kind == "identity" && shape.size() >= 2 &&
             shape.back() == shape[shape.size() - 2]) {
    // One identity matrix per leading index ([V,n,n] per-id parameters).
    K = Kind::Identity;
    Dim = shape.back();
  } else {
    fail("parameter '{}': unknown initializer '{}' (expected glorot_uniform, "
         "uniform, normal, zeros or ones)", name, spec.kind);
  }
}

float ElementInit::at(int64_t i) const {
  switch (K) {
  case Kind::Zeros:
    return 0.0f;
  case Kind::Ones:
    return 1.0f;
  case Kind::Uniform:
    return static_cast<float>((2 * uniformAt(Key, i) - 1) * Scale);
  case Kind::Normal: {
    // Box-Muller on the element's own pair of uniforms: one normal per element.
    double u1 = 1.0 - uniformAt(Key, 2 * uint64_t(i));  // (0, 1]
    double u2 = uniformAt(Key, 2 * uint64_t(i) + 1);
    double z = std::sqrt(-2 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
    return static_cast<float>(z * Scale);
  }
  case Kind::Identity:
    return (i / Dim) % Dim == i % Dim ? 1.0f : 0.0f;
  }
  return 0.0f;
}

void initialize(const InitSpec& spec, const std::string& name, uint64_t seed,
                const Shape& shape, float* out) {
  const int64_t n = numElements(shape);
  const ElementInit init(spec, name, seed, shape);
  tbb::parallel_for(tbb::blocked_range<int64_t>(0, n, 1 << 16),
                    [&](const tbb::blocked_range<int64_t>& r) {
                      for (int64_t i = r.begin(); i < r.end(); ++i)
                        out[i] = init.at(i);
                    });
}

} // namespace recc::rt
