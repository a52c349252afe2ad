// One line per op: the Autodiff gradient of each op against central finite
// differences in double precision on the reference executor. OP_TEST records
// the op, and Grad.EveryDifferentiableOpHasACase requires every op with a
// gradient rule to have at least one line.
#include "GradCheck.h"
#include "tests/OpCoverage.h"

#include "compiler/ops/OpDef.h"
#include "compiler/passes/Autodiff.h"
#include "compiler/passes/ShapeInference.h"

#include <gtest/gtest.h>

using namespace recc;
using recc::testing::Arg;
using recc::testing::gradCheckError;

namespace {
constexpr int64_t B = kBatchDim;
constexpr double kTol = 1e-6;
const std::vector<int64_t> kAll{};

Attrs axes(std::vector<int64_t> a, int64_t keep = 0) { return {{"axes", a}, {"keepdims", keep}}; }
Attrs mm(int64_t ta, int64_t tb) { return {{"transpose_a", ta}, {"transpose_b", tb}}; }

/// Leading axes `lead`, then an r x c matrix (stored c x r when transposed).
Shape mat(std::vector<int64_t> lead, int64_t r, int64_t c, bool transposed) {
  lead.push_back(transposed ? c : r);
  lead.push_back(transposed ? r : c);
  return Shape(lead);
}
} // namespace

OP_TEST(Grad, Neg, Neg) { EXPECT_LT(gradCheckError(OpKind::Neg, {{{B, 3}}}), kTol); }
OP_TEST(Grad, Relu, Relu) { EXPECT_LT(gradCheckError(OpKind::Relu, {{{B, 4}}}), kTol); }
OP_TEST(Grad, Sigmoid, Sigmoid) {
  EXPECT_LT(gradCheckError(OpKind::Sigmoid, {{{B, 4}, true, -4, 4}}), kTol);
}
OP_TEST(Grad, Tanh, Tanh) {
  EXPECT_LT(gradCheckError(OpKind::Tanh, {{{B, 4}, true, -2, 2}}), kTol);
}
OP_TEST(Grad, Exp, Exp) { EXPECT_LT(gradCheckError(OpKind::Exp, {{{B, 2}}}), kTol); }
OP_TEST(Grad, Log, Log) { EXPECT_LT(gradCheckError(OpKind::Log, {{{B, 2}, true, 0.5, 2}}), kTol); }
OP_TEST(Grad, Softplus, Softplus) {
  EXPECT_LT(gradCheckError(OpKind::Softplus, {{{B, 3}, true, -5, 5}}), kTol);
}
OP_TEST(Grad, Clamp, Clamp) {
  EXPECT_LT(gradCheckError(OpKind::Clamp, {{{B, 8}, true, -1, 1}}, {{"lo", -0.5}, {"hi", 0.5}}), kTol);
}
OP_TEST(Grad, ScaleShift, ScaleShift) {
  EXPECT_LT(gradCheckError(OpKind::ScaleShift, {{{B, 3}}}, {{"scale", -2.5}, {"shift", 1.0}}), kTol);
}
OP_TEST(Grad, Add, Add) { EXPECT_LT(gradCheckError(OpKind::Add, {{{B, 3}}, {{B, 3}}}), kTol); }
OP_TEST(Grad, AddBias, Add) { EXPECT_LT(gradCheckError(OpKind::Add, {{{B, 3}}, {{3}}}), kTol); }
OP_TEST(Grad, SubScalar, Sub) { EXPECT_LT(gradCheckError(OpKind::Sub, {{{}}, {{B, 2}}}), kTol); }
OP_TEST(Grad, MulColumn, Mul) {
  EXPECT_LT(gradCheckError(OpKind::Mul, {{{B, 1}}, {{B, 4}}}), kTol);
}
OP_TEST(Grad, Div, Div) {
  EXPECT_LT(gradCheckError(OpKind::Div, {{{B, 3}}, {{B, 3}, true, 0.5, 2}}), kTol);
}
OP_TEST(Grad, MatMul, MatMul) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{4, 3}}}), kTol);
}
OP_TEST(Grad, MatMulTransposeB, MatMul) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{3, 4}}}, {{"transpose_b", int64_t(1)}}), kTol);
}
OP_TEST(Grad, MatMulTransposeA, MatMul) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{B, 3}}}, {{"transpose_a", int64_t(1)}}), kTol);
}
OP_TEST(Grad, MatMulTransposeBoth, MatMul) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{4, B}}, {{3, 4}}},
                           {{"transpose_a", int64_t(1)}, {"transpose_b", int64_t(1)}}),
            kTol);
}
OP_TEST(Grad, Concat, Concat) {
  EXPECT_LT(gradCheckError(OpKind::Concat, {{{B, 2}}, {{B, 3}}, {{B, 1}}}, {{"axis", int64_t(1)}}), kTol);
}
OP_TEST(Grad, Slice, Slice) {
  EXPECT_LT(gradCheckError(OpKind::Slice, {{{B, 5}}},
                           {{"axis", int64_t(1)}, {"start", int64_t(1)}, {"size", int64_t(3)}}),
            kTol);
}
OP_TEST(Grad, Pad, Pad) {
  EXPECT_LT(gradCheckError(OpKind::Pad, {{{B, 2}}},
                           {{"axis", int64_t(-1)}, {"before", int64_t(2)}, {"after", int64_t(1)}}),
            kTol);
}
OP_TEST(Grad, Reshape, Reshape) {
  EXPECT_LT(gradCheckError(OpKind::Reshape, {{{B, 2, 3}}}, {{"shape", std::vector<int64_t>{B, 6}}}), kTol);
}
OP_TEST(Grad, BroadcastLike, BroadcastLike) {
  EXPECT_LT(gradCheckError(OpKind::BroadcastLike, {{{3}}, {{B, 3}, false}}), kTol);
}
OP_TEST(Grad, SumTo, SumTo) {
  EXPECT_LT(gradCheckError(OpKind::SumTo, {{{B, 3}}, {{1, 3}, false}}), kTol);
}
OP_TEST(Grad, ReduceSumAll, ReduceSum) {
  EXPECT_LT(gradCheckError(OpKind::ReduceSum, {{{B, 3}}}, axes(kAll)), kTol);
}
OP_TEST(Grad, ReduceSumRows, ReduceSum) {
  EXPECT_LT(gradCheckError(OpKind::ReduceSum, {{{B, 3}}}, axes({1}, 1)), kTol);
}
OP_TEST(Grad, ReduceMeanBatch, ReduceMean) {
  EXPECT_LT(gradCheckError(OpKind::ReduceMean, {{{B, 3}}}, axes({0})), kTol);
}
OP_TEST(Grad, ExpandMean, Expand) {
  EXPECT_LT(gradCheckError(OpKind::Expand, {{{3}}, {{B, 3}, false}},
                           {{"axes", std::vector<int64_t>{0}}, {"mean", int64_t(1)}}),
            kTol);
}
OP_TEST(Grad, Dropout, Dropout) {
  EXPECT_LT(gradCheckError(OpKind::Dropout, {{{B, 16}}, {{}, false, 7, 7}},
                           {{"p", 0.5}, {"salt", int64_t(3)}}),
            kTol);
}

// op(A) [.., 2, 3] x op(B) [.., 3, 4] with every transpose combination, for
// each way the leading axes broadcast: a shared 2-D weight ([B,L,k] x [k,n]),
// a shared left matrix ([k,k] x [B,k,n]), per-sample pairs, both sides
// broadcast ([B,1,m,k] x [2,k,n]) and static leading axes (the flattened 2-D
// weight-gradient GEMM).
OP_TEST(Grad, BatchMatMul, BatchMatMul) {
  const std::vector<std::pair<std::vector<int64_t>, std::vector<int64_t>>> leads{
      {{B, 5}, {}}, {{}, {B}}, {{B}, {B}}, {{B, 1}, {2}}, {{4}, {}}};
  for (const auto& [la, lb] : leads)
    for (int64_t ta : {0, 1})
      for (int64_t tb : {0, 1}) {
        int64_t m = la.empty() ? 3 : 2;  // [k,k] x [B,k,n]: a square left matrix
        Shape a = mat(la, m, 3, ta), b = mat(lb, 3, 4, tb);
        EXPECT_LT(gradCheckError(OpKind::BatchMatMul, {{a}, {b}}, mm(ta, tb)), kTol)
            << a.str() << " x " << b.str() << " ta=" << ta << " tb=" << tb;
      }
}
OP_TEST(Grad, Transpose, Transpose) {
  Attrs perm{{"perm", std::vector<int64_t>{0, 2, 3, 1}}};
  EXPECT_LT(gradCheckError(OpKind::Transpose, {{{B, 2, 3, 4}}}, perm), kTol);
  EXPECT_LT(gradCheckError(OpKind::Transpose, {{{3, 2}}}, {{"perm", std::vector<int64_t>{1, 0}}}),
            kTol);
}
// Random inputs have no ties, so the max is differentiable where sampled.
OP_TEST(Grad, ReduceMax, ReduceMax) {
  EXPECT_LT(gradCheckError(OpKind::ReduceMax, {{{B, 5}}}, axes({1})), kTol);
  EXPECT_LT(gradCheckError(OpKind::ReduceMax, {{{B, 3, 4}}}, axes({1, 2}, 1)), kTol);
  EXPECT_LT(gradCheckError(OpKind::ReduceMax, {{{B, 3}}}, axes(kAll)), kTol);
  EXPECT_LT(gradCheckError(OpKind::ReduceMax, {{{B, 3}}}, axes({0})), kTol);
}
// stop_gradient's gradient is zero by definition (finite differences see the
// identity), grad_reverse's is -coeff times the identity's.
OP_TEST(Grad, StopGradient, StopGradient) {
  EXPECT_LT(gradCheckError(OpKind::StopGradient, {{{B, 3}}}, {}, 3, 1, 0.0), kTol);
}
OP_TEST(Grad, GradReverse, GradReverse) {
  EXPECT_LT(gradCheckError(OpKind::GradReverse, {{{B, 3}}, {{}, false, 0.7, 0.7}}, {}, 3, 1, -0.7),
            kTol);
}
// Ids 0..2 over 7 rows: groups of several rows, and [B] ids as well as [B,1].
OP_TEST(Grad, GroupSum, GroupSum) {
  EXPECT_LT(gradCheckError(OpKind::GroupSum, {{{B, 2, 3}}, {{B, 1}, false, 0, 2, true}}, {}, 7),
            kTol);
  EXPECT_LT(gradCheckError(OpKind::GroupSum, {{{B, 4}}, {{B}, false, 0, 2, true}}, {}, 7), kTol);
}

// Ids -1..2 over 7 rows into 2 matrices: rows sharing a matrix, ids that select nothing.
OP_TEST(Grad, GatherMatMul, GatherMatMul) {
  EXPECT_LT(gradCheckError(OpKind::GatherMatMul,
                           {{{B, 3}}, {{2, 3, 4}}, {{B, 1}, false, -1, 2, true}}, {}, 7),
            kTol);
}
OP_TEST(Grad, ScatterMatMul, ScatterMatMul) {
  EXPECT_LT(gradCheckError(OpKind::ScatterMatMul, {{{B, 3}}, {{B, 2}}, {{B}, false, -1, 2, true}},
                           {{"depth", int64_t(2)}}, 7),
            kTol);
}

TEST(Grad, EveryDifferentiableOpHasACase) {
  for (size_t k = 0; k < kNumOps; ++k) {
    const OpDef& def = opDef((OpKind)k);
    if (def.noGradient || def.notDifferentiable) continue;
    EXPECT_TRUE(recc::testing::coveredOps().count((OpKind)k))
        << "no finite-difference case (OP_TEST(Grad, ...)) for '" << opName((OpKind)k) << "'";
  }
}

// A loss that depends on top_k through a parameter cannot be differentiated:
// Autodiff names the op's source location.
TEST(Autodiff, RefusesNotDifferentiableOpAtItsLocation) {
  Graph g;
  NodeId q = g.add(OpKind::Param, {}, {{"shape", std::vector<int64_t>{B, 4}}}, {}, "q");
  g.addInput(q, ValueRole::Param, "q");
  NodeId items = g.add(OpKind::Input, {}, {{"shape", std::vector<int64_t>{B, 4}}}, {}, "items");
  g.addInput(items, ValueRole::Feature, "items");
  NodeId top = g.add(OpKind::TopK, {q, items}, {{"k", int64_t(2)}}, SourceLoc{"m.rec", 7, 9});
  NodeId loss = g.add(OpKind::ReduceSum, {top}, {{"axes", std::vector<int64_t>{}}});
  g.addOutput(loss, ValueRole::Loss, "loss");
  DiagnosticEngine diag;
  ASSERT_TRUE(inferShapes(g, diag)) << diag.render();
  try {
    differentiate(g);
    FAIL() << "differentiated through top_k";
  } catch (const AutodiffError& e) {
    EXPECT_EQ(e.loc.line, 7);
    EXPECT_EQ(e.loc.col, 9);
    EXPECT_NE(std::string(e.what()).find("'top_k'"), std::string::npos) << e.what();
  }
}

// Behind stop_gradient, top_k needs no gradient: differentiating succeeds.
TEST(Autodiff, StopGradientCutsANotDifferentiablePath) {
  Graph g;
  NodeId q = g.add(OpKind::Param, {}, {{"shape", std::vector<int64_t>{B, 4}}}, {}, "q");
  g.addInput(q, ValueRole::Param, "q");
  NodeId top = g.add(OpKind::TopK, {q, q}, {{"k", int64_t(4)}});  // [B,4], like q
  NodeId cut = g.add(OpKind::StopGradient, {top});
  NodeId loss = g.add(OpKind::ReduceSum, {g.add(OpKind::Mul, {cut, q})},
                      {{"axes", std::vector<int64_t>{}}});
  g.addOutput(loss, ValueRole::Loss, "loss");
  DiagnosticEngine diag;
  ASSERT_TRUE(inferShapes(g, diag)) << diag.render();
  EXPECT_NO_THROW(differentiate(g));
}
