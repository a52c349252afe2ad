// Every op through the MLIR JIT against the reference executor: the forward
// value, and (via Autodiff on loss = sum(y * r)) the gradient graph, which
// exercises the lowerings of the backward ops too. f32 against double:
// |jit - ref| <= 1e-5 + 1e-4 |ref| per element. Shapes use odd extents (37,
// 19, ...) so the 16-lane tiles always leave a peeled remainder. OP_TEST
// records the op, and MlirLowering.EveryOpHasABackendAgreementCase requires
// every op but the leaves to have a case.
#include "JitCompare.h"
#include "tests/OpCoverage.h"

#include "compiler/ops/OpDef.h"
#include "compiler/passes/Autodiff.h"
#include "compiler/passes/ShapeInference.h"

#include <gtest/gtest.h>

#include <cmath>

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
  for (size_t k = 0; k < kNumOps; ++k)
    EXPECT_TRUE(hasMlirLowering((OpKind)k)) << "no MLIR lowering for '" << opName((OpKind)k) << "'";
}

// Leaves are in every case (inputs, parameters, the constant seed of every
// gradient); every other op needs an OP_TEST(MlirOps, ...) of its own.
TEST(MlirLowering, EveryOpHasABackendAgreementCase) {
  for (OpKind leaf : {OpKind::Input, OpKind::Param, OpKind::Constant}) recc::testing::cover({leaf});
  for (size_t k = 0; k < kNumOps; ++k)
    EXPECT_TRUE(recc::testing::coveredOps().count((OpKind)k))
        << "no MLIR-vs-reference case (OP_TEST(MlirOps, ...)) for '" << opName((OpKind)k) << "'";
}

OP_TEST(MlirOps, Neg, Neg) { check(OpKind::Neg, {{B, 37}}); }
OP_TEST(MlirOps, Relu, Relu) { check(OpKind::Relu, {{B, 37}}); }
OP_TEST(MlirOps, Sigmoid, Sigmoid) { check(OpKind::Sigmoid, {{B, 37}}, {}, {{"x0", {-12, 12}}}); }
OP_TEST(MlirOps, Tanh, Tanh) { check(OpKind::Tanh, {{B, 37}}, {}, {{"x0", {-4, 4}}}); }
OP_TEST(MlirOps, Exp, Exp) { check(OpKind::Exp, {{B, 37}}, {}, {{"x0", {-5, 5}}}); }
OP_TEST(MlirOps, Log, Log) { check(OpKind::Log, {{B, 37}}, {}, {{"x0", {0.05, 20}}}); }
OP_TEST(MlirOps, Softplus, Softplus) {
  check(OpKind::Softplus, {{B, 37}}, {}, {{"x0", {-15, 15}}});
}
OP_TEST(MlirOps, Step, Step) { check(OpKind::Step, {{B, 37}}); }
OP_TEST(MlirOps, Clamp, Clamp) { check(OpKind::Clamp, {{B, 37}}, {{"lo", -0.3}, {"hi", 0.6}}); }
OP_TEST(MlirOps, ScaleShift, ScaleShift) {
  check(OpKind::ScaleShift, {{B, 37}}, {{"scale", -2.5}, {"shift", 0.75}});
}

OP_TEST(MlirOps, Add, Add) { check(OpKind::Add, {{B, 37}, {B, 37}}); }
OP_TEST(MlirOps, AddBias, Add) { check(OpKind::Add, {{B, 37}, {37}}); }
OP_TEST(MlirOps, SubScalar, Sub) { check(OpKind::Sub, {{}, {B, 20}}); }
OP_TEST(MlirOps, MulColumn, Mul) { check(OpKind::Mul, {{B, 1}, {B, 33}}); }
OP_TEST(MlirOps, MulRank3, Mul) { check(OpKind::Mul, {{B, 4, 18}, {4, 1}}); }
OP_TEST(MlirOps, Div, Div) { check(OpKind::Div, {{B, 19}, {B, 19}}, {}, {{"x1", {0.5, 2}}}); }

OP_TEST(MlirOps, MatMul, MatMul) { check(OpKind::MatMul, {{B, 40}, {40, 33}}); }
OP_TEST(MlirOps, MatMulTransposeB, MatMul) { check(OpKind::MatMul, {{B, 40}, {33, 40}}, mm(0, 1)); }
OP_TEST(MlirOps, MatMulTransposeA, MatMul) { check(OpKind::MatMul, {{B, 20}, {B, 17}}, mm(1, 0)); }
OP_TEST(MlirOps, MatMulTransposeBoth, MatMul) {
  check(OpKind::MatMul, {{20, B}, {17, 20}}, mm(1, 1));
}
// Big enough for cache tiles, the 10x32 register tile and peeled remainders.
OP_TEST(MlirOps, MatMulTiled, MatMul) {
  check(OpKind::MatMul, {{B, 72}, {72, 100}}, {}, {}, {}, 130);
}
// Two threads: N = 100 does not halve into multiples of 32, so M is split
// (200 rows: 100 + 100); each half peels N (96 + 4) and zeroes its cache tiles
// of C itself (the zero fill folded into the matmul). Transposed B and A too.
OP_TEST(MlirOps, MatMulTiledTwoThreads, MatMul) {
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
OP_TEST(MlirOps, MatMulSeveralKBlocks, MatMul) {
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

// A long K into a small C (C[24,40] = A'B over 3072 rows, as the weight
// gradient of a layer over every behaviour of a batch): two threads each sum
// half of K, the second into a scratch C added at the end.
// Integer inputs make every sum exact, so any lost or doubled piece shows;
// real inputs summed in two halves differ from the reference's one running
// sum by fp32 rounding over 3072 terms (up to 3e-5 here), hence the tolerance.
OP_TEST(MlirOps, MatMulLongKSplitAcrossThreads, MatMul) {
  JitOptions o;
  o.threads = 2;
  std::map<std::string, Range> ints{{"x0", {-2, 2, true}}, {"x1", {-2, 2, true}}};
  Mismatch exact = compareWithReference(opGraph(OpKind::MatMul, {{B, 24}, {B, 40}}, mm(1, 0), false),
                                        3072, ints, o, Tolerance{1e-6, 0});
  EXPECT_TRUE(exact.ok) << exact.where << " (score " << exact.worst << ")";
  for (bool grad : {false, true}) {
    Graph g = opGraph(OpKind::MatMul, {{B, 24}, {B, 40}}, mm(1, 0), grad);
    Mismatch real = compareWithReference(g, 3072, {}, o, Tolerance{1e-4, 1e-3});
    EXPECT_TRUE(real.ok) << real.where << " (score " << real.worst << ")";
  }
}

// K = 296 and 300 (300 = 296 + 4, 296 = 152 + 144): pieces of K that each
// accumulate onto the C of the one before, forward and both gradients, on one
// and two threads.
OP_TEST(MlirOps, MatMulEvenKBlocks, MatMul) {
  for (int threads : {1, 2}) {
    JitOptions o;
    o.threads = threads;
    for (int64_t k : {296, 300}) {
      Mismatch m = compareWithReference(opGraph(OpKind::MatMul, {{B, k}, {k, 48}}, {}, true), 96,
                                        {}, o, Tolerance{1e-5, 2e-4});
      EXPECT_TRUE(m.ok) << threads << " threads, K = " << k << ": " << m.where << " (score "
                        << m.worst << ")";
    }
  }
}

// Packed B slivers: N = 512 (rows 2 KiB apart, the case packing is for), K =
// 385 peeled into 384 + 1 (the remainder accumulates onto the first part's
// C), and with gradients a transposed-A weight gradient (M = 385) and a
// transposed-B data gradient, on one and two threads. On two threads each
// thread packs into a buffer of its own (a shared one failed about one run in
// three: the forward case runs four times).
OP_TEST(MlirOps, MatMulPackedSlivers, MatMul) {
  for (int threads : {1, 2}) {
    JitOptions o;
    o.threads = threads;
    for (bool grad : {false, false, false, false, true}) {
      Mismatch m = compareWithReference(opGraph(OpKind::MatMul, {{B, 385}, {385, 512}}, {}, grad),
                                        256, {}, o, Tolerance{1e-5, 2e-4});
      EXPECT_TRUE(m.ok) << threads << " threads: " << m.where << " (score " << m.worst << ")";
    }
  }
}

// The LLVM half of a compile on 1, 2 or 5 threads (1, 8 or 20 parts), linked
// by the JIT: the same numbers, bit for bit.
TEST(MlirCompile, PartsDoNotChangeTheResult) {
  Graph g = opGraph(OpKind::MatMul, {{B, 70}, {70, 48}}, {}, /*withGrad=*/true);
  std::vector<std::vector<float>> inputs;
  for (const Binding& in : g.inputs()) {
    std::vector<float> v((size_t)g.node(in.node).shape.numElements(64));
    for (size_t i = 0; i < v.size(); ++i) v[i] = std::sin(0.37 * (double)(i + inputs.size()));
    inputs.push_back(v);
  }
  std::vector<std::vector<float>> first;
  for (int threads : {1, 2, 5}) {
    JitOptions o;
    o.threads = 2;
    o.compileThreads = threads;
    auto out = runJit(g, 64, inputs, o);
    if (first.empty()) first = out;
    EXPECT_EQ(out, first) << threads << " compile threads";
  }
}

// Two threads split a large column reduction (a bias gradient: rows reduced,
// columns parallel) along its columns, at a multiple of 16 (150 = 80 + 70).
OP_TEST(MlirOps, SumToColumnsTwoThreads, SumTo) {
  JitOptions o;
  o.threads = 2;
  for (bool grad : {false, true}) {
    Mismatch m = compareWithReference(opGraph(OpKind::SumTo, {{B, 150}, {150}}, {}, grad), 1000,
                                      {}, o, Tolerance{1e-5, 2e-4});
    EXPECT_TRUE(m.ok) << m.where << " (score " << m.worst << ")";
  }
}

OP_TEST(MlirOps, Concat, Concat) {
  check(OpKind::Concat, {{B, 2}, {B, 19}, {B, 1}}, {{"axis", int64_t(1)}});
}
OP_TEST(MlirOps, Slice, Slice) {
  check(OpKind::Slice, {{B, 40}}, {{"axis", int64_t(1)}, {"start", int64_t(3)}, {"size", int64_t(21)}});
}
OP_TEST(MlirOps, Pad, Pad) {
  check(OpKind::Pad, {{B, 18}}, {{"axis", int64_t(-1)}, {"before", int64_t(2)}, {"after", int64_t(5)}});
}
OP_TEST(MlirOps, ReshapeFlatten, Reshape) {
  check(OpKind::Reshape, {{B, 4, 6}}, {{"shape", std::vector<int64_t>{B, 24}}});
}
OP_TEST(MlirOps, ReshapeSplit, Reshape) {
  check(OpKind::Reshape, {{B, 24}}, {{"shape", std::vector<int64_t>{B, 2, 12}}});
}
OP_TEST(MlirOps, BroadcastLike, BroadcastLike) { check(OpKind::BroadcastLike, {{1, 7}, {B, 7}}); }
OP_TEST(MlirOps, SumToBias, SumTo) { check(OpKind::SumTo, {{B, 21}, {21}}); }
OP_TEST(MlirOps, SumToKeep, SumTo) { check(OpKind::SumTo, {{B, 3, 7}, {3, 1}}); }

OP_TEST(MlirOps, ReduceSumRows, ReduceSum) { check(OpKind::ReduceSum, {{B, 37}}, axes({1})); }
OP_TEST(MlirOps, ReduceSumBatch, ReduceSum) { check(OpKind::ReduceSum, {{B, 37}}, axes({0})); }
OP_TEST(MlirOps, ReduceSumAllKeep, ReduceSum) {
  check(OpKind::ReduceSum, {{B, 5, 3}}, axes({}, 1));
}
OP_TEST(MlirOps, ReduceMean, ReduceMean) { check(OpKind::ReduceMean, {{B, 6, 5}}, axes({-1}, 1)); }
OP_TEST(MlirOps, ReduceMeanAll, ReduceMean) { check(OpKind::ReduceMean, {{B, 37}}, axes({})); }
OP_TEST(MlirOps, ExpandMean, Expand) {
  check(OpKind::Expand, {{B}, {B, 7}}, {{"axes", std::vector<int64_t>{1}}, {"mean", int64_t(1)}});
}
OP_TEST(MlirOps, ExpandKeep, Expand) {
  check(OpKind::Expand, {{1, 7}, {B, 7}}, {{"axes", std::vector<int64_t>{0}}, {"mean", int64_t(0)}});
}

OP_TEST(MlirOps, Dropout, Dropout) {
  // The mask must be bit-identical: a flipped element would be off by |x|/(1-p).
  check(OpKind::Dropout, {{B, 37}, {}}, {{"p", 0.3}, {"salt", int64_t(7)}}, {{"x1", {12345, 12345}}},
        {true, false});
}
// With a batch slice ([first, rows] of a global batch) on a middle batch axis.
OP_TEST(MlirOps, DropoutBatchSlice, Dropout) {
  check(OpKind::Dropout, {{3, B, 7}, {}, {2}},
        {{"p", 0.4}, {"salt", int64_t(5)}, {"batch_axis", int64_t(1)}},
        {{"x1", {4242, 4242}}, {"x2", {0, 40, true}}}, {true, false, false});
}
OP_TEST(MlirOps, DropoutLargeSeed, Dropout) {
  check(OpKind::Dropout, {{B, 3, 11}, {}}, {{"p", 0.5}, {"salt", int64_t(0xdeadbeef)}},
        {{"x1", {16777215, 16777215}}}, {true, false});
}

// --- batch_matmul: op(A) [.., 5, 7] x op(B) [.., 7, 19], every transpose
// combination, for a shared 2-D weight ([B,L,k] x [k,n], the GEMM path), a
// shared left matrix ([k,k] x [B,k,n]), per-sample pairs, both sides
// broadcast, and static leading axes (the flattened weight-gradient GEMM).
namespace {
Shape mat(std::vector<int64_t> lead, int64_t r, int64_t c, bool transposed) {
  lead.push_back(transposed ? c : r);
  lead.push_back(transposed ? r : c);
  return Shape(lead);
}

void checkBatchMatMul(const std::vector<int64_t>& leadA, const std::vector<int64_t>& leadB) {
  for (int64_t ta : {0, 1})
    for (int64_t tb : {0, 1}) {
      SCOPED_TRACE(::testing::Message() << "ta=" << ta << " tb=" << tb);
      int64_t m = leadA.empty() ? 7 : 5;  // [k,k] x [B,k,n]: a square left matrix
      check(OpKind::BatchMatMul, {mat(leadA, m, 7, ta), mat(leadB, 7, 19, tb)}, mm(ta, tb));
    }
}
}  // namespace

OP_TEST(MlirOps, BatchMatMulSharedWeight, BatchMatMul) { checkBatchMatMul({B, 6}, {}); }
OP_TEST(MlirOps, BatchMatMulSharedLeft, BatchMatMul) { checkBatchMatMul({}, {B}); }
OP_TEST(MlirOps, BatchMatMulPerSample, BatchMatMul) { checkBatchMatMul({B}, {B}); }
OP_TEST(MlirOps, BatchMatMulBothBroadcast, BatchMatMul) { checkBatchMatMul({B, 1}, {3}); }
OP_TEST(MlirOps, BatchMatMulStaticLead, BatchMatMul) { checkBatchMatMul({4}, {}); }

OP_TEST(MlirOps, Transpose, Transpose) {
  check(OpKind::Transpose, {{B, 3, 17}}, {{"perm", std::vector<int64_t>{0, 2, 1}}});
  check(OpKind::Transpose, {{B, 2, 3, 19}}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
}

// Integer inputs in [-2, 2] tie often: the gradient must reach the same
// (first) maximum in both executors.
OP_TEST(MlirOps, ReduceMax, ReduceMax) {
  check(OpKind::ReduceMax, {{B, 37}}, axes({1}, 1));
  check(OpKind::ReduceMax, {{B, 6, 5}}, axes({0}));
  check(OpKind::ReduceMax, {{B, 4, 19}}, axes({}));
  check(OpKind::ReduceMax, {{B, 4, 19}}, axes({2}), {{"x0", {-2, 2, true}}});
  check(OpKind::ReduceMax, {{B, 4, 19}}, axes({0, 2}, 1), {{"x0", {-2, 2, true}}});
}
OP_TEST(MlirOps, ArgMaxMask, ArgMaxMask) {
  check(OpKind::ArgMaxMask, {{B, 4, 19}}, {{"axes", std::vector<int64_t>{1}}}, {{"x0", {-1, 1, true}}});
  check(OpKind::ArgMaxMask, {{B, 37}}, {{"axes", std::vector<int64_t>{}}}, {{"x0", {-1, 1, true}}});
}

// Ids -1 (padding) and depth (out of range) give zero rows.
OP_TEST(MlirOps, OneHot, OneHot) {
  check(OpKind::OneHot, {{B, 3}}, {{"depth", int64_t(6)}}, {{"x0", {-1, 6, true}}});
}
OP_TEST(MlirOps, CausalMask, CausalMask) { check(OpKind::CausalMask, {}, {{"size", int64_t(19)}}); }
OP_TEST(MlirOps, StopGradient, StopGradient) { check(OpKind::StopGradient, {{B, 37}}); }
OP_TEST(MlirOps, GradReverse, GradReverse) {
  check(OpKind::GradReverse, {{B, 37}, {}}, {}, {{"x1", {0.7, 0.7}}}, {true, false});
}

// top_k is not differentiable: only its inputs' values are compared. Integer
// vectors in [-1, 1] give exact scores and many ties (to the lower index); a
// batch smaller than k leaves -1 in the missing places.
OP_TEST(MlirOps, TopK, TopK) {
  std::vector<bool> none{false, false};
  check(OpKind::TopK, {{B, 7}, {B, 7}}, {{"k", int64_t(3)}}, {}, none, 9);
  std::map<std::string, Range> ints{{"x0", {-1, 1, true}}, {"x1", {-1, 1, true}}};
  check(OpKind::TopK, {{B, 3}, {B, 3}}, {{"k", int64_t(5)}}, ints, none, 40);
  check(OpKind::TopK, {{B, 3}, {B, 3}}, {{"k", int64_t(12)}}, ints, none, 5);
}

// A long list (k = 100 of 256) on two threads, each taking half of the rows:
// every position of the binary search and of the shifts, with ties and without.
OP_TEST(MlirOps, TopKLongListsTwoThreads, TopK) {
  JitOptions o;
  o.threads = 2;
  std::map<std::string, Range> ints{{"x0", {-2, 2, true}}, {"x1", {-2, 2, true}}};
  for (const auto& ranges : {std::map<std::string, Range>{}, ints}) {
    Graph g = opGraph(OpKind::TopK, {{B, 4}, {B, 4}}, {{"k", int64_t(100)}}, false);
    Mismatch m = compareWithReference(g, 256, ranges, o);
    EXPECT_TRUE(m.ok) << m.where << " (score " << m.worst << ")";
  }
}

// Ids -1..4 over 37 rows into 4 matrices: several rows per matrix, and ids
// outside [0, 4) that select nothing. Widths 19 and 21 leave peeled remainders.
OP_TEST(MlirOps, GatherMatMul, GatherMatMul) {
  std::map<std::string, Range> ids{{"x2", {-1, 4, true}}};
  check(OpKind::GatherMatMul, {{B, 19}, {4, 19, 21}, {B, 1}}, {}, ids, {true, true, false}, 37);
  check(OpKind::GatherMatMul, {{B, 7}, {3, 7, 1}, {B}}, {}, ids, {true, true, false}, 9);
  // Seventy matrices, most with no rows or one.
  std::map<std::string, Range> many{{"x2", {-1, 70, true}}};
  check(OpKind::GatherMatMul, {{B, 5}, {70, 5, 9}, {B, 1}}, {}, many, {true, true, false}, 37);
}

// From 64 rows per matrix (of 16 x 16 or more, 4096 entries or more) the rows
// are grouped by matrix (products of 32 rows): groups of every size, ids outside [0, V) that select nothing, one
// and two threads (each taking half of the positions, or of every matrix).
OP_TEST(MlirOps, GroupedRoutedMatMul, GatherMatMul) {
  for (int threads : {1, 2}) {
    SCOPED_TRACE(::testing::Message() << threads << " thread(s)");
    JitOptions o;
    o.threads = threads;
    for (const auto& [depth, rows] : {std::pair<int64_t, int64_t>{4, 300}, {9, 600}, {2, 517}}) {
      std::map<std::string, Range> ids{{"x2", {-1, double(depth), true}}};
      for (bool grad : {false, true}) {
        Graph gather = opGraph(OpKind::GatherMatMul, {{B, 64}, {depth, 64, 80}, {B, 1}}, {}, grad,
                               {true, true, false});
        Mismatch m = compareWithReference(gather, rows, ids, o);
        EXPECT_TRUE(m.ok) << "gather, " << rows << " rows: " << m.where << " (score " << m.worst << ")";
        Graph scatter = opGraph(OpKind::ScatterMatMul, {{B, 64}, {B, 81}, {B, 1}},
                                {{"depth", depth}}, grad, {true, true, false});
        m = compareWithReference(scatter, rows, ids, o);
        EXPECT_TRUE(m.ok) << "scatter, " << rows << " rows: " << m.where << " (score " << m.worst << ")";
      }
    }
  }
}

// matmul(one_hot(ids), w) (a parameter `by` an id) is lowered as a gather of
// w's rows: ids -1..7 into 6 rows (ids outside [0, 6) pick zeros), with and
// without the reshape GraphBuilder::oneHot adds, one and two threads, and the
// gradient of w (a transposed-A product with the one-hot).
OP_TEST(MlirOps, OneHotProductPicksRows, OneHot) {
  for (bool reshaped : {false, true}) {
    for (bool grad : {false, true}) {
      Graph g;
      Shape idShape = reshaped ? Shape{{kBatchDim, 1}} : Shape{{kBatchDim}};
      NodeId ids = g.add(OpKind::Input, {}, {{"shape", idShape.dims}}, {}, "ids");
      g.addInput(ids, ValueRole::Feature, "ids");
      NodeId w = g.add(grad ? OpKind::Param : OpKind::Input, {}, {{"shape", std::vector<int64_t>{6, 37}}},
                       {}, "w");
      g.addInput(w, grad ? ValueRole::Param : ValueRole::Feature, "w");
      NodeId oh = g.add(OpKind::OneHot, {ids}, {{"depth", int64_t(6)}});
      if (reshaped) oh = g.add(OpKind::Reshape, {oh}, {{"shape", std::vector<int64_t>{kBatchDim, 6}}});
      NodeId y = g.add(OpKind::MatMul, {oh, w}, {{"transpose_a", int64_t(0)}, {"transpose_b", int64_t(0)}},
                       {}, "y");
      g.addOutput(y, ValueRole::Output, "y");
      DiagnosticEngine diag;
      ASSERT_TRUE(inferShapes(g, diag)) << diag.render();
      if (grad) {
        NodeId loss = g.add(OpKind::ReduceSum, {g.add(OpKind::Mul, {y, y})},
                            {{"axes", std::vector<int64_t>{}}});
        g.addOutput(loss, ValueRole::Loss, "loss");
        ASSERT_TRUE(inferShapes(g, diag)) << diag.render();
        g.markForwardEnd();
        differentiate(g);
        ASSERT_TRUE(inferShapes(g, diag)) << diag.render();
      }
      for (int threads : {1, 2}) {
        JitOptions o;
        o.threads = threads;
        Mismatch m = compareWithReference(g, 301, {{"ids", {-1, 7, true}}}, o);
        EXPECT_TRUE(m.ok) << (reshaped ? "reshaped, " : "") << (grad ? "with gradients, " : "")
                          << threads << " thread(s): " << m.where << " (score " << m.worst << ")";
      }
    }
  }
}

OP_TEST(MlirOps, ScatterMatMul, ScatterMatMul) {
  std::map<std::string, Range> ids{{"x2", {-1, 4, true}}};
  check(OpKind::ScatterMatMul, {{B, 19}, {B, 21}, {B, 1}}, {{"depth", int64_t(4)}}, ids,
        {true, true, false}, 37);
  std::map<std::string, Range> many{{"x2", {-1, 70, true}}};
  check(OpKind::ScatterMatMul, {{B, 5}, {B, 9}, {B, 1}}, {{"depth", int64_t(70)}}, many,
        {true, true, false}, 37);
}

// Ids 0..3 over 37 rows: several rows per group.
OP_TEST(MlirOps, GroupSum, GroupSum) {
  std::map<std::string, Range> ids{{"x1", {0, 3, true}}};
  check(OpKind::GroupSum, {{B, 3, 7}, {B, 1}}, {}, ids, {true, false}, 37);
  check(OpKind::GroupSum, {{B, 19}, {B}}, {}, ids, {true, false}, 37);
}
