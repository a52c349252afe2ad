// Tests of parameter initializers: determinism from (seed, name), the ranges
// and moments of each distribution, and errors for unknown kinds.
#include "runtime/Init.h"

#include "TestUtil.h"

#include <cmath>

namespace recc::rt {
namespace {

Tensor init(const std::string& kind, double scale, const std::string& name, uint64_t seed,
            Shape shape) {
  Tensor t(std::move(shape));
  initialize({kind, scale}, name, seed, t);
  return t;
}

TEST(Init, DeterministicFromSeedAndName) {
  Tensor a = init("normal", 0.1, "w", 1, {64, 32});
  Tensor b = init("normal", 0.1, "w", 1, {64, 32});
  Tensor c = init("normal", 0.1, "v", 1, {64, 32});
  Tensor d = init("normal", 0.1, "w", 2, {64, 32});
  EXPECT_EQ(std::vector<float>(a.span().begin(), a.span().end()),
            std::vector<float>(b.span().begin(), b.span().end()));
  EXPECT_NE(a[5], c[5]);
  EXPECT_NE(a[5], d[5]);
}

TEST(Init, GlorotUniformUsesFanInAndFanOut) {
  Tensor t = init("glorot_uniform", 0, "w", 3, {696, 512});
  const double limit = std::sqrt(6.0 / (696 + 512));
  double maxAbs = 0, sum = 0;
  for (float v : t.span())
    maxAbs = std::max(maxAbs, double(std::abs(v))), sum += v;
  EXPECT_LE(maxAbs, limit);
  EXPECT_GT(maxAbs, 0.99 * limit);
  EXPECT_NEAR(sum / t.numel(), 0.0, 0.01 * limit);
}

TEST(Init, UniformNormalZerosOnes) {
  Tensor u = init("uniform", 0.05, "t", 0, {100000});
  Tensor n = init("normal", 0.2, "t", 0, {100000});
  double uMax = 0, mean = 0, sq = 0;
  for (float v : u.span())
    uMax = std::max(uMax, double(std::abs(v)));
  for (float v : n.span())
    mean += v, sq += double(v) * v;
  mean /= n.numel();
  EXPECT_LE(uMax, 0.05);
  EXPECT_GT(uMax, 0.0499);
  EXPECT_NEAR(mean, 0.0, 0.005);
  EXPECT_NEAR(std::sqrt(sq / n.numel() - mean * mean), 0.2, 0.004);
  EXPECT_EQ(init("zeros", 0, "z", 0, {3})[2], 0.0f);
  EXPECT_EQ(init("ones", 0, "o", 0, {3})[2], 1.0f);
}

TEST(Init, IdentityPerLeadingIndex) {
  Tensor eye = init("identity", 0, "a", 0, {2, 3, 3});
  for (int64_t v = 0; v < 2; ++v)
    for (int64_t i = 0; i < 3; ++i)
      for (int64_t j = 0; j < 3; ++j)
        EXPECT_EQ(eye[v * 9 + i * 3 + j], i == j ? 1.0f : 0.0f) << v << "," << i << "," << j;
  EXPECT_FALSE(test::errorOf([] { init("identity", 0, "r", 0, {2, 3}); }).empty());
}

TEST(Init, UnknownKindNamesTheParameter) {
  EXPECT_EQ(test::errorOf([] { init("xavier", 0, "tower.w0", 0, {2}); }),
            "parameter 'tower.w0': unknown initializer 'xavier' (expected glorot_uniform, "
            "uniform, normal, zeros or ones)");
}

TEST(Tensor, AlignedAndZeroed) {
  Tensor t({3, 5});
  EXPECT_EQ(reinterpret_cast<uintptr_t>(t.data()) % Tensor::kAlignment, 0u);
  EXPECT_EQ(t.numel(), 15);
  EXPECT_EQ(t[14], 0.0f);
  EXPECT_EQ(t.matrix().rows(), 3);
  EXPECT_EQ(shapeString(t.shape()), "[3,5]");
  EXPECT_EQ(Tensor(Shape{}).numel(), 1);
}

} // namespace
} // namespace recc::rt
