// Composite graphs through the JIT: a small ESMM-like model, forward and with
// its Autodiff gradients, against the reference executor; single- and
// two-thread code; a batch large enough for the tiled, OpenMP-split GEMMs.
#include "JitCompare.h"
#include "TestModels.h"

#include "runtime/OutputReady.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <map>
#include <random>
#include <set>

using namespace recc;
using namespace recc::mlirtest;

namespace {
// Weights at a Glorot-like scale: with [-1, 1] weights the sigmoids saturate
// and log(1 - p) near p = 1 turns f32 rounding of p into percent-level
// gradient differences (ill-conditioning, not a compiler error).
const std::map<std::string, Range> kRanges{
    {"w1", {-0.1, 0.1}}, {"w2", {-0.1, 0.1}}, {"w3", {-0.1, 0.1}},
    {"y1", {0, 1}}, {"y2", {0, 1}}, {"seed", {4242, 4242}}};
}

TEST(MlirModel, EsmmForward) {
  Mismatch m = compareWithReference(esmmLikeGraph(false), 7, kRanges);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, EsmmGradients) {
  Mismatch m = compareWithReference(esmmLikeGraph(true), 7, kRanges);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, EsmmGradientsLargeTwoThreads) {
  // 200 x 96 x 256 GEMMs: cache tiles, register tiles and the 2-way split.
  JitOptions o;
  o.threads = 2;
  Mismatch m = compareWithReference(esmmLikeGraph(true, 96, 256), 200, kRanges, o,
                                    Tolerance{1e-5, 2e-4});
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, WrongBatchIsRejected) {
  auto step = compileJit(esmmLikeGraph(false), 4);
  EXPECT_EQ(step->fixedBatch(), 4);
  EXPECT_THROW(step->run(5, nullptr), std::runtime_error);
}

TEST(MlirModel, LargeElementwiseTwoThreads) {
  // 600 x 256 elements: elementwise ops are split across the two threads,
  // the bias gradient (a reduction over the batch) must not be.
  JitOptions o;
  o.threads = 2;
  Graph g = opGraph(OpKind::Add, {{kBatchDim, 256}, {256}}, {}, true);
  Mismatch m = compareWithReference(g, 600, {}, o, Tolerance{1e-5, 2e-4});
  EXPECT_TRUE(m.ok) << m.where;
  g = opGraph(OpKind::Sigmoid, {{kBatchDim, 250}}, {}, true);
  m = compareWithReference(g, 601, {{"x0", {-6, 6}}}, o);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, BatchOfOne) {
  Mismatch m = compareWithReference(esmmLikeGraph(true), 1, kRanges);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, OutputsThatAreInputsConstantsOrRepeated) {
  Graph g;
  NodeId x = g.add(OpKind::Input, {}, {{"shape", std::vector<int64_t>{kBatchDim, 3}}}, {}, "x");
  g.addInput(x, ValueRole::Feature, "x");
  NodeId c = g.add(OpKind::Constant, {}, {{"shape", std::vector<int64_t>{2}}, {"value", 1.5}});
  NodeId y = g.add(OpKind::Exp, {x});
  for (NodeId n : {x, c, y}) g.node(n).shape = n == c ? Shape{2} : Shape{kBatchDim, 3};
  g.addOutput(x, ValueRole::Output, "x_again");
  g.addOutput(c, ValueRole::Output, "c");
  g.addOutput(y, ValueRole::Output, "y");
  g.addOutput(y, ValueRole::Output, "y_again");
  Mismatch m = compareWithReference(g, 4);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirModel, NaiveLoopsBaseline) {
  // The unvectorized baseline (recc_gemm_bench's "naive" column) is correct too.
  JitOptions o;
  o.vectorize = false;
  Mismatch m = compareWithReference(esmmLikeGraph(true), 7, kRanges, o);
  EXPECT_TRUE(m.ok) << m.where;
}

// Under mpirun a train step says when each gradient buffer is final
// (recc-notify-outputs, runtime/OutputReady.h), and the ranks start summing it
// then: every gradient buffer is announced exactly once, nothing else is, and
// what a buffer holds when announced is what it holds when the step ends.
TEST(MlirModel, AnnouncedGradientsAreFinal) {
  JitOptions o;
  o.threads = 2;
  o.notifyGradients = true;
  const Graph g = esmmLikeGraph(true, 96, 256);
  const int64_t batch = 200;
  auto step = compileJit(g, batch, o);
  std::vector<std::vector<float>> buffers;
  std::mt19937 rng(5);
  std::uniform_real_distribution<float> value(-0.1f, 0.1f);
  for (const Binding& b : g.inputs()) {
    buffers.emplace_back(g.node(b.node).shape.numElements(batch));
    for (float& v : buffers.back()) v = b.name == "seed" ? 4242.0f : value(rng);
  }
  for (const Binding& b : g.outputs())
    buffers.emplace_back(g.node(b.node).shape.numElements(batch), NAN);
  std::vector<float*> ptrs;
  for (auto& b : buffers) ptrs.push_back(b.data());
  std::set<int64_t> gradients;
  for (size_t k = 0; k < g.outputs().size(); ++k)
    if (g.outputs()[k].role == ValueRole::Gradient) gradients.insert(int64_t(g.inputs().size() + k));
  std::map<int64_t, std::vector<float>> announced;
  std::vector<int64_t> order;
  int64_t unwrittenAtFirst = -1;  // gradient buffers still all NaN at the first call
  {
    rt::OutputReadyReceiver receiver([&](int64_t i) {
      if (order.empty()) {
        unwrittenAtFirst = 0;
        for (int64_t k : gradients)
          unwrittenAtFirst += std::isnan(buffers[size_t(k)].front()) ? 1 : 0;
      }
      order.push_back(i);
      announced[i] = buffers.at(size_t(i));
    });
    step->run(batch, ptrs.data());
  }
  ASSERT_GE(gradients.size(), 4u);
  EXPECT_EQ(order.size(), gradients.size()) << "each gradient once";
  for (int64_t i : gradients) {
    ASSERT_TRUE(announced.count(i)) << "buffer " << i << " not announced";
    EXPECT_EQ(std::memcmp(announced[i].data(), buffers[size_t(i)].data(),
                          announced[i].size() * sizeof(float)), 0)
        << "buffer " << i << " changed after it was announced";
  }
  // The announcements come as the backward pass goes, not all at its end:
  // at the first, other gradients are not written yet.
  EXPECT_GT(unwrittenAtFirst, 0);
  // Without a receiver the calls do nothing, and the step computes the same.
  std::vector<std::vector<float>> again = buffers;
  std::vector<float*> againPtrs;
  for (auto& b : again) againPtrs.push_back(b.data());
  step->run(batch, againPtrs.data());
  for (int64_t i : gradients)
    EXPECT_EQ(std::memcmp(again[size_t(i)].data(), buffers[size_t(i)].data(),
                          again[size_t(i)].size() * sizeof(float)), 0);
}
