// Lowerings of the ops that have no reference kernel yet (OpDef::shapeOnly):
// checked against small hand-written loops here. When an op gets its kernel,
// move it to ops_test.cpp's check() (forward and gradient vs the reference).
#include "JitCompare.h"

#include "compiler/passes/ShapeInference.h"
#include "dsl/Diagnostics.h"

#include <gtest/gtest.h>

#include <cmath>

using namespace recc;
using namespace recc::mlirtest;

namespace {

constexpr int64_t B = kBatchDim;

/// y = kind(x0, x1, ...) with inputs of the given shapes; returns y's values.
std::vector<float> run(OpKind kind, const std::vector<Shape>& shapes, const Attrs& attrs,
                       const std::vector<std::vector<float>>& inputs, int64_t batch) {
  Graph g;
  std::vector<NodeId> args;
  for (size_t i = 0; i < shapes.size(); ++i) {
    NodeId id = g.add(OpKind::Input, {}, {{"shape", shapes[i].dims}}, {}, "x" + std::to_string(i));
    g.addInput(id, ValueRole::Feature, "x" + std::to_string(i));
    args.push_back(id);
  }
  NodeId y = g.add(kind, args, attrs);
  g.addOutput(y, ValueRole::Output, "y");
  DiagnosticEngine diag;
  if (!inferShapes(g, diag)) ADD_FAILURE() << diag.render();
  return runJit(g, batch, inputs)[0];
}

std::vector<float> iota(size_t n, float scale = 1, float shift = 0) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin((float)i * scale) + shift;
  return v;
}

void expectNear(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5 + 1e-5 * std::fabs(want[i])) << i;
}

}  // namespace

TEST(MlirShapeOnly, StopGradientAndGradReverseAreIdentity) {
  auto x = iota(3 * 5);
  expectNear(run(OpKind::StopGradient, {{B, 5}}, {}, {x}, 3), x);
  expectNear(run(OpKind::GradReverse, {{B, 5}, {}}, {}, {x, {0.5f}}, 3), x);
}

TEST(MlirShapeOnly, Transpose) {
  const int b = 2, l = 3, d = 17;
  auto x = iota(b * l * d);
  std::vector<float> want(x.size());
  for (int i = 0; i < b; ++i)
    for (int j = 0; j < l; ++j)
      for (int k = 0; k < d; ++k) want[(i * d + k) * l + j] = x[(i * l + j) * d + k];
  expectNear(run(OpKind::Transpose, {{B, l, d}}, {{"perm", std::vector<int64_t>{0, 2, 1}}}, {x}, b),
             want);
}

TEST(MlirShapeOnly, ReduceMax) {
  const int b = 3, n = 37;
  auto x = iota(b * n, 0.7f);
  std::vector<float> want(b, -INFINITY);
  for (int i = 0; i < b; ++i)
    for (int j = 0; j < n; ++j) want[i] = std::max(want[i], x[i * n + j]);
  expectNear(run(OpKind::ReduceMax, {{B, n}}, {{"axes", std::vector<int64_t>{1}}, {"keepdims", int64_t(1)}},
                 {x}, b),
             want);
}

TEST(MlirShapeOnly, OneHot) {
  std::vector<float> ids{0, 3, -1, 2, 5, 1};  // -1 (padding) and 5 (>= depth): zero rows
  std::vector<float> want(6 * 4, 0);
  for (int i = 0; i < 6; ++i)
    if (ids[i] >= 0 && ids[i] < 4) want[i * 4 + (int)ids[i]] = 1;
  expectNear(run(OpKind::OneHot, {{B, 3}}, {{"depth", int64_t(4)}}, {ids}, 2), want);
}

TEST(MlirShapeOnly, CausalMask) {
  std::vector<float> want(5 * 5);
  for (int r = 0; r < 5; ++r)
    for (int c = 0; c < 5; ++c) want[r * 5 + c] = c <= r ? 1 : 0;
  expectNear(run(OpKind::CausalMask, {}, {{"size", int64_t(5)}}, {}, 2), want);
}

/// Reference batch matmul for rank-3 a [ba,m,k] (or [ba,k,m]) and b [bb,k,n]
/// (or [bb,n,k]) with ba, bb in {1, batch} broadcast.
std::vector<float> bmm(const std::vector<float>& a, const std::vector<float>& b, int batch, int ba,
                       int bb, int m, int n, int k, bool ta, bool tb) {
  std::vector<float> c(batch * m * n, 0);
  for (int p = 0; p < batch; ++p)
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < n; ++j) {
        double s = 0;
        for (int q = 0; q < k; ++q) {
          const float* A = &a[(ba == 1 ? 0 : p) * m * k];
          const float* Bm = &b[(bb == 1 ? 0 : p) * k * n];
          s += (double)(ta ? A[q * m + i] : A[i * k + q]) * (tb ? Bm[j * k + q] : Bm[q * n + j]);
        }
        c[(p * m + i) * n + j] = (float)s;
      }
  return c;
}

TEST(MlirShapeOnly, BatchMatMulSharedWeight) {
  const int batch = 3, m = 4, k = 6, n = 19;
  auto a = iota(batch * m * k), w = iota(k * n, 0.3f);
  expectNear(run(OpKind::BatchMatMul, {{B, m, k}, {k, n}}, {}, {a, w}, batch),
             bmm(a, w, batch, batch, 1, m, n, k, false, false));
  expectNear(run(OpKind::BatchMatMul, {{B, m, k}, {n, k}}, {{"transpose_b", int64_t(1)}}, {a, w}, batch),
             bmm(a, w, batch, batch, 1, m, n, k, false, true));
}

TEST(MlirShapeOnly, BatchMatMulPerSample) {
  const int batch = 3, m = 5, k = 4, n = 18;
  auto a = iota(batch * m * k), b = iota(batch * k * n, 0.2f);
  Attrs ta{{"transpose_a", int64_t(1)}};
  expectNear(run(OpKind::BatchMatMul, {{B, m, k}, {B, k, n}}, {}, {a, b}, batch),
             bmm(a, b, batch, batch, batch, m, n, k, false, false));
  expectNear(run(OpKind::BatchMatMul, {{B, k, m}, {B, k, n}}, ta, {a, b}, batch),
             bmm(a, b, batch, batch, batch, m, n, k, true, false));
  // A shared left matrix (a causal mask, say) times every sample: [S,S] x [B,S,h].
  auto s = iota(k * k);
  expectNear(run(OpKind::BatchMatMul, {{k, k}, {B, k, n}}, {}, {s, b}, batch),
             bmm(s, b, batch, 1, batch, k, n, k, false, false));
}
