// Two input streams through the compiler, both backends and the runtime:
//  - a tiny two-stream model whose losses over the source batch (B = 4) and
//    the target batch (B1 = 3) are computed by hand: the loss terms, the total
//    and the gradients equal the hand values on both backends, each term a
//    mean over its own stream's rows (Eq. 8), not one mean over all 7 rows;
//  - its eval step feeds every stream the same rows (one batch size);
//  - models/damcar.rec's generator (EMA teacher on the target rows) trains six
//    steps from the same seed on both backends with batches of 16 source and 8
//    target rows, and their losses agree step by step.
#include "CompileHelpers.h"
#include "compiler/passes/CompileModel.h"
#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/StepRunner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sstream>

using namespace recc;

namespace {

using e2etest::Backend;
using e2etest::compile;
using e2etest::stepFor;

const char* kTwoStreams = R"(model two {
  input x : dense
  label y
  stream tgt batch = 3 {
    input xt from "x" : dense
  }
  block lin(v) { return dense(v, 1) }
  a = lin(x)
  b = lin(xt, share = a)
  loss ce = bce_logits(a, y)
  loss dom = mean(softplus(b))
  sa = sigmoid(a)
  sb = sigmoid(b)
  output sa, sb
  train { optimizer = sgd(lr = 0.1)  batch = 4 }
})";

double sigmoid(double z) { return 1 / (1 + std::exp(-z)); }
double softplus(double z) { return std::log1p(std::exp(z)); }

/// The parameter whose name ends in `suffix`.
int paramIndex(const rt::ModelState& s, const std::string& suffix) {
  for (int i = 0; i < s.params.size(); ++i)
    if (s.params.name(i).ends_with(suffix)) return i;
  throw std::runtime_error("no parameter ending in " + suffix);
}

class StreamsTest : public ::testing::TestWithParam<Backend> {};

TEST_P(StreamsTest, LossesAndGradientsOfTwoBatchesEqualHandValues) {
  CompiledModel m = compile(kTwoStreams);
  ASSERT_EQ(rt::trainBatches(m.plan), rt::BatchSizes({4, 3}));
  rt::ModelState state(m.plan);
  const int w = paramIndex(state, ".w"), c = paramIndex(state, ".b");
  state.params.value(w).data()[0] = 0.5f;
  state.params.value(c).data()[0] = -0.25f;
  const double xs[4] = {1, -2, 0.5, 3}, ys[4] = {1, 0, 0, 1}, xt[3] = {2, -1, 0.25};
  rt::DataSet src(m.plan, 4), tgt(m.plan, 3);
  for (int i = 0; i < 4; ++i) src.dense(0)[i] = float(xs[i]), src.label(0)[i] = float(ys[i]);
  for (int j = 0; j < 3; ++j) tgt.dense(1)[j] = float(xt[j]);

  auto fn = stepFor(m.trainGraph, rt::trainBatches(m.plan), GetParam());
  rt::StepRunner runner(m.plan.trainStep, state, *fn, rt::trainBatches(m.plan), "train step");
  std::vector<int64_t> four{0, 1, 2, 3}, three{0, 1, 2};
  std::vector<rt::StepRunner::StreamRows> in{{&src, four}, {&tgt, three}};
  runner.run(in, 1);

  // By hand: a = 0.5 x - 0.25 on the 4 source rows, b on the 3 target rows.
  double ce = 0, dom = 0, gw = 0, gc = 0;
  for (int i = 0; i < 4; ++i) {
    double a = 0.5 * xs[i] - 0.25;
    ce += (softplus(a) - a * ys[i]) / 4;
    gw += (sigmoid(a) - ys[i]) * xs[i] / 4;
    gc += (sigmoid(a) - ys[i]) / 4;
  }
  for (int j = 0; j < 3; ++j) {
    double b = 0.5 * xt[j] - 0.25;
    dom += softplus(b) / 3;
    gw += sigmoid(b) * xt[j] / 3;
    gc += sigmoid(b) / 3;
  }
  auto terms = runner.lossTerms();
  ASSERT_EQ(terms.size(), 2u);
  EXPECT_EQ(terms[0].first, "ce");
  EXPECT_NEAR(terms[0].second, ce, 1e-6);
  EXPECT_EQ(terms[1].first, "dom");
  EXPECT_NEAR(terms[1].second, dom, 1e-6);
  EXPECT_NEAR(runner.loss(), ce + dom, 1e-6);
  EXPECT_NEAR(state.params.grad(w).data()[0], gw, 1e-6);
  EXPECT_NEAR(state.params.grad(c).data()[0], gc, 1e-6);
  // One mean over the 7 rows would give another value.
  double pooled = 0;
  for (int j = 0; j < 3; ++j) pooled += softplus(0.5 * xt[j] - 0.25);
  EXPECT_GT(std::fabs(pooled / 7 - dom), 0.05);
  // Each stream's outputs cover its own batch.
  auto outs = runner.outputs();
  ASSERT_EQ(outs.size(), 2u);
  EXPECT_EQ(outs[0].stream, 0);
  EXPECT_EQ(outs[1].stream, 1);
  for (int j = 0; j < 3; ++j) EXPECT_NEAR(outs[1].data[j], sigmoid(0.5 * xt[j] - 0.25), 1e-6);
}

// Evaluation: every stream reads the same rows, so with the shared weights
// the source path and the target path score each row alike.
TEST_P(StreamsTest, EvalStepFeedsEveryStreamTheSameRows) {
  CompiledModel m = compile(kTwoStreams);
  rt::ModelState state(m.plan);
  rt::DataSet data(m.plan, 5);
  for (int i = 0; i < 5; ++i) data.dense(0)[i] = data.dense(1)[i] = float(i) - 2;
  auto fn = stepFor(m.evalGraph, 5, GetParam());
  rt::StepRunner runner(m.plan.evalStep, state, *fn, 5, "eval step");
  std::vector<int64_t> rows{0, 1, 2, 3, 4};
  runner.run(data, rows, 0);
  auto outs = runner.outputs();
  ASSERT_EQ(outs.size(), 2u);
  for (int i = 0; i < 5; ++i) EXPECT_FLOAT_EQ(outs[0].data[i], outs[1].data[i]) << "row " << i;
}

INSTANTIATE_TEST_SUITE_P(Backends, StreamsTest,
                         ::testing::Values(Backend::Reference, Backend::Mlir),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param == Backend::Mlir ? "Mlir" : "Reference");
                         });

/// Random data of one stream of `plan`: its features filled, ids < 500.
rt::DataSet streamData(const rt::ModelPlan& plan, int64_t stream, int64_t rows, uint64_t seed) {
  rt::DataSet data(plan, rows);
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  for (size_t f = 0; f < plan.features.size(); ++f) {
    if (plan.features[f].stream != stream) continue;
    if (plan.features[f].kind == rt::FeatureSpec::Kind::Dense)
      for (auto& v : data.dense((int)f)) v = normal(rng);
    else
      for (auto& id : data.ids((int)f)) id = int64_t(rng() % 500);
  }
  for (size_t l = 0; l < plan.labels.size(); ++l)
    for (auto& y : data.label((int)l)) y = float(rng() % 2);
  return data;
}

std::vector<double> damcarLosses(const CompiledModel& m, Backend backend) {
  constexpr int kSteps = 6;
  const rt::BatchSizes batches = rt::trainBatches(m.plan);
  rt::ModelState state(m.plan);
  rt::DataSet src = streamData(m.plan, 0, 16 * kSteps, 1), tgt = streamData(m.plan, 1, 40, 2);
  auto fn = stepFor(m.trainGraph, batches, backend);
  rt::StepRunner runner(m.plan.trainStep, state, *fn, batches, "train step");
  std::vector<double> losses;
  for (int s = 0; s < kSteps; ++s) {
    std::vector<int64_t> rs(16), rt_(8);
    std::iota(rs.begin(), rs.end(), int64_t(s) * 16);
    std::iota(rt_.begin(), rt_.end(), int64_t(s) * 8 % 32);
    std::vector<rt::StepRunner::StreamRows> in{{&src, rs}, {&tgt, rt_}};
    runner.setProgress(double(s) / kSteps);
    runner.run(in, uint32_t(100 + s));
    losses.push_back(runner.loss());
    runner.applyGradients();
  }
  return losses;
}

TEST(Damcar, BackendsAgreeOnTwoStreamsOfTheirOwnSizes) {
  std::ifstream in(std::string(RECC_SOURCE_DIR) + "/models/damcar.rec");
  std::stringstream text;
  text << in.rdbuf();
  DiagnosticEngine diag(&std::cerr);
  auto m = compileModelSource("damcar.rec", text.str(), "damcar", diag);
  ASSERT_TRUE(m) << diag.render();
  m->plan.batchSize = 16;
  ASSERT_EQ(m->plan.streams.size(), 1u);
  m->plan.streams[0].batchSize = 8;
  for (auto& t : m->plan.tables) t.rows = std::min<int64_t>(t.rows, 1000);
  for (auto& f : m->plan.features) f.vocab = std::min<int64_t>(f.vocab, 1000);
  for (auto& s : m->plan.states) if (s.table) s.shape[0] = std::min<int64_t>(s.shape[0], 1000);
  auto ref = damcarLosses(*m, Backend::Reference);
  auto jit = damcarLosses(*m, Backend::Mlir);
  for (size_t s = 0; s < ref.size(); ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    EXPECT_TRUE(std::isfinite(ref[s]));
    EXPECT_NEAR(jit[s], ref[s], 2e-3 * std::fabs(ref[s]));
  }
}

} // namespace
