// Every op through the MLIR JIT against the reference executor: the forward
// value, and (via Autodiff on loss = sum(y * r)) the gradient graph, which
// exercises the lowerings of the backward ops too. f32 against double:
// |jit - ref| <= 1e-5 + 1e-4 |ref| per element. Shapes use odd extents (37,
// 19, ...) so the 16-lane tiles always leave a peeled remainder.
#include "JitCompare.h"

#include "compiler/ops/OpDef.h"

#include <gtest/gtest.h>

using namespace recc;
using namespace recc::mlirtest;

namespace {

constexpr int64_t B = kBatchDim;

void check(OpKind kind, std::vector<Shape> shapes, Attrs attrs = {},
           std::map<std::string, Range> ranges = {}, std::vector<bool> diff = {},
           int64_t batch = 5) {
  for (bool grad : {false, true}) {
    Graph g = opGraph(kind, shapes, attrs, grad, diff);
    Mismatch m = compareWithReference(g, batch, ranges);
    EXPECT_TRUE(m.ok) << (grad ? "with gradients: " : "forward: ") << m.where
                      << " (score " << m.worst << ")";
  }
}

Attrs axes(std::vector<int64_t> a, int64_t keep = 0) { return {{"axes", a}, {"keepdims", keep}}; }
Attrs mm(int64_t ta, int64_t tb) { return {{"transpose_a", ta}, {"transpose_b", tb}}; }

}  // namespace

TEST(MlirLowering, EveryOpHasALowering) {
  // Ops still marked shapeOnly (no reference kernel yet) may lack one.
  for (size_t k = 0; k < kNumOps; ++k)
    if (!opDef((OpKind)k).shapeOnly)
      EXPECT_TRUE(hasMlirLowering((OpKind)k)) << "no MLIR lowering for '" << opName((OpKind)k) << "'";
}

TEST(MlirOps, Neg) { check(OpKind::Neg, {{B, 37}}); }
TEST(MlirOps, Relu) { check(OpKind::Relu, {{B, 37}}); }
TEST(MlirOps, Sigmoid) { check(OpKind::Sigmoid, {{B, 37}}, {}, {{"x0", {-12, 12}}}); }
TEST(MlirOps, Tanh) { check(OpKind::Tanh, {{B, 37}}, {}, {{"x0", {-4, 4}}}); }
TEST(MlirOps, Exp) { check(OpKind::Exp, {{B, 37}}, {}, {{"x0", {-5, 5}}}); }
TEST(MlirOps, Log) { check(OpKind::Log, {{B, 37}}, {}, {{"x0", {0.05, 20}}}); }
TEST(MlirOps, Softplus) { check(OpKind::Softplus, {{B, 37}}, {}, {{"x0", {-15, 15}}}); }
TEST(MlirOps, Step) { check(OpKind::Step, {{B, 37}}); }
TEST(MlirOps, Clamp) { check(OpKind::Clamp, {{B, 37}}, {{"lo", -0.3}, {"hi", 0.6}}); }
TEST(MlirOps, ScaleShift) { check(OpKind::ScaleShift, {{B, 37}}, {{"scale", -2.5}, {"shift", 0.75}}); }

TEST(MlirOps, Add) { check(OpKind::Add, {{B, 37}, {B, 37}}); }
TEST(MlirOps, AddBias) { check(OpKind::Add, {{B, 37}, {37}}); }
TEST(MlirOps, SubScalar) { check(OpKind::Sub, {{}, {B, 20}}); }
TEST(MlirOps, MulColumn) { check(OpKind::Mul, {{B, 1}, {B, 33}}); }
TEST(MlirOps, MulRank3) { check(OpKind::Mul, {{B, 4, 18}, {4, 1}}); }
TEST(MlirOps, Div) { check(OpKind::Div, {{B, 19}, {B, 19}}, {}, {{"x1", {0.5, 2}}}); }

TEST(MlirOps, MatMul) { check(OpKind::MatMul, {{B, 40}, {40, 33}}); }
TEST(MlirOps, MatMulTransposeB) { check(OpKind::MatMul, {{B, 40}, {33, 40}}, mm(0, 1)); }
TEST(MlirOps, MatMulTransposeA) { check(OpKind::MatMul, {{B, 20}, {B, 17}}, mm(1, 0)); }
TEST(MlirOps, MatMulTransposeBoth) { check(OpKind::MatMul, {{20, B}, {17, 20}}, mm(1, 1)); }
// Big enough for cache tiles, the 10x32 register tile and peeled remainders.
TEST(MlirOps, MatMulTiled) { check(OpKind::MatMul, {{B, 72}, {72, 100}}, {}, {}, {}, 130); }
// Two threads: N = 100 does not halve into multiples of 32, so M is split
// (200 rows: 100 + 100); each half peels N (96 + 4) and zeroes its cache tiles
// of C itself (the zero fill folded into the matmul). Transposed B and A too.
TEST(MlirOps, MatMulTiledTwoThreads) {
  JitOptions o;
  o.threads = 2;
  const std::vector<std::pair<Attrs, std::vector<Shape>>> cases{
      {mm(0, 0), {{B, 200}, {200, 100}}},  // C[200,100]: M split
      {mm(0, 1), {{B, 200}, {100, 200}}},  // the same, B transposed
      {mm(1, 0), {{B, 200}, {B, 100}}}};   // C[200,100] = A'B, K = batch
  for (const auto& [a, shapes] : cases) {
    for (bool grad : {false, true}) {
      Mismatch m = compareWithReference(opGraph(OpKind::MatMul, shapes, a, grad), 200, {}, o,
                                        Tolerance{1e-5, 2e-4});
      EXPECT_TRUE(m.ok) << m.where << " (score " << m.worst << ")";
    }
  }
}

// Several k blocks (K = 600: three cache tiles of 200). recc.zero_init starts
// each register tile's first block from zero without filling C, and the later
// blocks accumulate onto C: the result must not depend on C's old contents.
TEST(MlirOps, MatMulSeveralKBlocks) {
  const std::vector<std::pair<Attrs, std::vector<Shape>>> cases{
      {mm(0, 0), {{B, 600}, {600, 70}}},   // C[B,70]: blocks of K, peeled N
      {mm(1, 0), {{B, 40}, {B, 66}}}};     // C[40,66] = A'B with K = batch = 600
  for (int threads : {1, 2}) {
    JitOptions o;
    o.threads = threads;
    for (const auto& [a, shapes] : cases) {
      for (bool grad : {false, true}) {
        Mismatch m = compareWithReference(opGraph(OpKind::MatMul, shapes, a, grad), 600, {}, o,
                                          Tolerance{1e-5, 2e-4});
        EXPECT_TRUE(m.ok) << threads << " threads: " << m.where << " (score " << m.worst << ")";
      }
    }
  }
}

// Two threads split a large column reduction (a bias gradient: rows reduced,
// columns parallel) along its columns, at a multiple of 16 (150 = 80 + 70).
TEST(MlirOps, SumToColumnsTwoThreads) {
  JitOptions o;
  o.threads = 2;
  for (bool grad : {false, true}) {
    Mismatch m = compareWithReference(opGraph(OpKind::SumTo, {{B, 150}, {150}}, {}, grad), 1000,
                                      {}, o, Tolerance{1e-5, 2e-4});
    EXPECT_TRUE(m.ok) << m.where << " (score " << m.worst << ")";
  }
}

TEST(MlirOps, Concat) { check(OpKind::Concat, {{B, 2}, {B, 19}, {B, 1}}, {{"axis", int64_t(1)}}); }
TEST(MlirOps, Slice) {
  check(OpKind::Slice, {{B, 40}}, {{"axis", int64_t(1)}, {"start", int64_t(3)}, {"size", int64_t(21)}});
}
TEST(MlirOps, Pad) {
  check(OpKind::Pad, {{B, 18}}, {{"axis", int64_t(-1)}, {"before", int64_t(2)}, {"after", int64_t(5)}});
}
TEST(MlirOps, ReshapeFlatten) { check(OpKind::Reshape, {{B, 4, 6}}, {{"shape", std::vector<int64_t>{B, 24}}}); }
TEST(MlirOps, ReshapeSplit) { check(OpKind::Reshape, {{B, 24}}, {{"shape", std::vector<int64_t>{B, 2, 12}}}); }
TEST(MlirOps, BroadcastLike) { check(OpKind::BroadcastLike, {{1, 7}, {B, 7}}); }
TEST(MlirOps, SumToBias) { check(OpKind::SumTo, {{B, 21}, {21}}); }
TEST(MlirOps, SumToKeep) { check(OpKind::SumTo, {{B, 3, 7}, {3, 1}}); }

TEST(MlirOps, ReduceSumRows) { check(OpKind::ReduceSum, {{B, 37}}, axes({1})); }
TEST(MlirOps, ReduceSumBatch) { check(OpKind::ReduceSum, {{B, 37}}, axes({0})); }
TEST(MlirOps, ReduceSumAllKeep) { check(OpKind::ReduceSum, {{B, 5, 3}}, axes({}, 1)); }
TEST(MlirOps, ReduceMean) { check(OpKind::ReduceMean, {{B, 6, 5}}, axes({-1}, 1)); }
TEST(MlirOps, ReduceMeanAll) { check(OpKind::ReduceMean, {{B, 37}}, axes({})); }
TEST(MlirOps, ExpandMean) { check(OpKind::Expand, {{B}, {B, 7}}, {{"axes", std::vector<int64_t>{1}}, {"mean", int64_t(1)}}); }
TEST(MlirOps, ExpandKeep) { check(OpKind::Expand, {{1, 7}, {B, 7}}, {{"axes", std::vector<int64_t>{0}}, {"mean", int64_t(0)}}); }

TEST(MlirOps, Dropout) {
  // The mask must be bit-identical: a flipped element would be off by |x|/(1-p).
  check(OpKind::Dropout, {{B, 37}, {}}, {{"p", 0.3}, {"salt", int64_t(7)}}, {{"x1", {12345, 12345}}},
        {true, false});
}
TEST(MlirOps, DropoutLargeSeed) {
  check(OpKind::Dropout, {{B, 3, 11}, {}}, {{"p", 0.5}, {"salt", int64_t(0xdeadbeef)}},
        {{"x1", {16777215, 16777215}}}, {true, false});
}
