// One line per op: the Autodiff gradient of each op against central finite
// differences in double precision on the reference executor.
#include "GradCheck.h"

#include <gtest/gtest.h>

using namespace recc;
using recc::testing::Arg;
using recc::testing::gradCheckError;

namespace {
constexpr int64_t B = kBatchDim;
constexpr double kTol = 1e-6;
const std::vector<int64_t> kAll{};

Attrs axes(std::vector<int64_t> a, int64_t keep = 0) { return {{"axes", a}, {"keepdims", keep}}; }
} // namespace

TEST(Grad, Neg) { EXPECT_LT(gradCheckError(OpKind::Neg, {{{B, 3}}}), kTol); }
TEST(Grad, Relu) { EXPECT_LT(gradCheckError(OpKind::Relu, {{{B, 4}}}), kTol); }
TEST(Grad, Sigmoid) { EXPECT_LT(gradCheckError(OpKind::Sigmoid, {{{B, 4}, true, -4, 4}}), kTol); }
TEST(Grad, Tanh) { EXPECT_LT(gradCheckError(OpKind::Tanh, {{{B, 4}, true, -2, 2}}), kTol); }
TEST(Grad, Exp) { EXPECT_LT(gradCheckError(OpKind::Exp, {{{B, 2}}}), kTol); }
TEST(Grad, Log) { EXPECT_LT(gradCheckError(OpKind::Log, {{{B, 2}, true, 0.5, 2}}), kTol); }
TEST(Grad, Softplus) { EXPECT_LT(gradCheckError(OpKind::Softplus, {{{B, 3}, true, -5, 5}}), kTol); }
TEST(Grad, Clamp) {
  EXPECT_LT(gradCheckError(OpKind::Clamp, {{{B, 8}, true, -1, 1}}, {{"lo", -0.5}, {"hi", 0.5}}), kTol);
}
TEST(Grad, ScaleShift) {
  EXPECT_LT(gradCheckError(OpKind::ScaleShift, {{{B, 3}}}, {{"scale", -2.5}, {"shift", 1.0}}), kTol);
}
TEST(Grad, Add) { EXPECT_LT(gradCheckError(OpKind::Add, {{{B, 3}}, {{B, 3}}}), kTol); }
TEST(Grad, AddBias) { EXPECT_LT(gradCheckError(OpKind::Add, {{{B, 3}}, {{3}}}), kTol); }
TEST(Grad, SubScalar) { EXPECT_LT(gradCheckError(OpKind::Sub, {{{}}, {{B, 2}}}), kTol); }
TEST(Grad, MulColumn) { EXPECT_LT(gradCheckError(OpKind::Mul, {{{B, 1}}, {{B, 4}}}), kTol); }
TEST(Grad, Div) { EXPECT_LT(gradCheckError(OpKind::Div, {{{B, 3}}, {{B, 3}, true, 0.5, 2}}), kTol); }
TEST(Grad, MatMul) { EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{4, 3}}}), kTol); }
TEST(Grad, MatMulTransposeB) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{3, 4}}}, {{"transpose_b", int64_t(1)}}), kTol);
}
TEST(Grad, MatMulTransposeA) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{B, 4}}, {{B, 3}}}, {{"transpose_a", int64_t(1)}}), kTol);
}
TEST(Grad, MatMulTransposeBoth) {
  EXPECT_LT(gradCheckError(OpKind::MatMul, {{{4, B}}, {{3, 4}}},
                           {{"transpose_a", int64_t(1)}, {"transpose_b", int64_t(1)}}),
            kTol);
}
TEST(Grad, Concat) {
  EXPECT_LT(gradCheckError(OpKind::Concat, {{{B, 2}}, {{B, 3}}, {{B, 1}}}, {{"axis", int64_t(1)}}), kTol);
}
TEST(Grad, Slice) {
  EXPECT_LT(gradCheckError(OpKind::Slice, {{{B, 5}}},
                           {{"axis", int64_t(1)}, {"start", int64_t(1)}, {"size", int64_t(3)}}),
            kTol);
}
TEST(Grad, Pad) {
  EXPECT_LT(gradCheckError(OpKind::Pad, {{{B, 2}}},
                           {{"axis", int64_t(-1)}, {"before", int64_t(2)}, {"after", int64_t(1)}}),
            kTol);
}
TEST(Grad, Reshape) {
  EXPECT_LT(gradCheckError(OpKind::Reshape, {{{B, 2, 3}}}, {{"shape", std::vector<int64_t>{B, 6}}}), kTol);
}
TEST(Grad, BroadcastLike) {
  EXPECT_LT(gradCheckError(OpKind::BroadcastLike, {{{3}}, {{B, 3}, false}}), kTol);
}
TEST(Grad, SumTo) { EXPECT_LT(gradCheckError(OpKind::SumTo, {{{B, 3}}, {{1, 3}, false}}), kTol); }
TEST(Grad, ReduceSumAll) { EXPECT_LT(gradCheckError(OpKind::ReduceSum, {{{B, 3}}}, axes(kAll)), kTol); }
TEST(Grad, ReduceSumRows) { EXPECT_LT(gradCheckError(OpKind::ReduceSum, {{{B, 3}}}, axes({1}, 1)), kTol); }
TEST(Grad, ReduceMeanBatch) { EXPECT_LT(gradCheckError(OpKind::ReduceMean, {{{B, 3}}}, axes({0})), kTol); }
TEST(Grad, ExpandMean) {
  EXPECT_LT(gradCheckError(OpKind::Expand, {{{3}}, {{B, 3}, false}},
                           {{"axes", std::vector<int64_t>{0}}, {"mean", int64_t(1)}}),
            kTol);
}
TEST(Grad, Dropout) {
  EXPECT_LT(gradCheckError(OpKind::Dropout, {{{B, 16}}, {{}, false, 7, 7}},
                           {{"p", 0.5}, {"salt", int64_t(3)}}),
            kTol);
}
