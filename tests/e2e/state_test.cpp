// Model state through the compiler, both backends and the runtime:
//  - batch_norm's running statistics (also per id, with `by`) and a
//    running_mean, after one train step on a tiny batch, equal a hand
//    computation, and evaluation reads them;
//  - a model with batch_norm, running_mean and EMA shadows of a head and a
//    table trains on both backends, and save -> reload -> eval gives
//    bit-identical scores on each;
//  - the training progress reaches a graph that reads it, on both backends;
//  - the eval loss over a data set whose size is not a multiple of the batch
//    is the mean over real rows on both backends (MLIR pads the last batch).
#include "CompileHelpers.h"
#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/mlir/Backend.h"
#include "compiler/passes/CompileModel.h"
#include "compiler/passes/ShapeInference.h"
#include "runtime/Checkpoint.h"
#include "runtime/Evaluator.h"
#include "runtime/StepRunner.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <sstream>
#include <unistd.h>

using namespace recc;

namespace {

using e2etest::Backend;
using e2etest::compile;
using e2etest::stepFor;

std::string readFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

const float* param(rt::ModelState& s, const std::string& suffix) {
  for (int i = 0; i < s.params.size(); ++i)
    if (s.params.name(i).ends_with(suffix)) return s.params.value(i).data();
  throw std::runtime_error("no parameter ending in " + suffix);
}

const char* kBatchNormModel = R"(model bn {
  input a : dense
  input b : dense
  label y
  x = concat(a, b)
  z = batch_norm(x, momentum = 0.5)
  c = running_mean(x, decay = 0.9)
  p = sigmoid(dense(z, 1) + 0.1 * sum(c, axis = 1))
  loss l = bce(p, y)
  output p
  train { optimizer = sgd(lr = 0.1)  batch = 4  epochs = 1 }
})";

class BackendTest : public ::testing::TestWithParam<Backend> {};

TEST_P(BackendTest, RunningStatisticsUpdatedByTrainingAndReadByEval) {
  CompiledModel m = compile(kBatchNormModel);
  rt::ModelState state(m.plan);
  rt::DataSet data(m.plan, 4);
  const float a[4] = {1, 2, 3, 4}, b[4] = {0, 0, 2, 2};
  for (int r = 0; r < 4; ++r) data.dense(0)[r] = a[r], data.dense(1)[r] = b[r];
  data.label(0)[0] = 1;
  auto train = stepFor(m.trainGraph, 4, GetParam());
  rt::StepRunner runner(m.plan.trainStep, state, *train, 4, "train step");
  const std::vector<int64_t> rows{0, 1, 2, 3};
  runner.run(data, rows, 1);
  runner.applyGradients();
  // Batch means [2.5, 1], population variances [1.25, 1]; momentum 0.5 from
  // means 0 and variances 1. running_mean: c - 0.1·(4c - Σx)/5 from c = 0.
  auto stateOf = [&](const std::string& name) {
    int i = state.states.indexOf(name);
    EXPECT_GE(i, 0) << name;
    return std::vector<float>(state.states.value(i).data(), state.states.value(i).data() + 2);
  };
  auto near = [](std::vector<float> got, std::vector<float> want) {
    for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got[k], want[k], 1e-6) << k;
  };
  near(stateOf("z.batch_norm0.mean"), {1.25f, 0.5f});
  near(stateOf("z.batch_norm0.var"), {1.125f, 1.0f});
  near(stateOf("c.running_mean0"), {0.2f, 0.08f});
  // Eval normalizes with the running statistics (eps 1e-3).
  auto evalFn = stepFor(m.evalGraph, 4, GetParam());
  rt::StepRunner eval(m.plan.evalStep, state, *evalFn, 4, "eval step");
  eval.run(data, rows, 1);
  const float* p = eval.outputs()[0].data;
  const float *gamma = param(state, ".gamma"), *beta = param(state, ".beta");
  const float *w = param(state, ".w"), *bias = param(state, ".b");
  const double mean[2] = {1.25, 0.5}, var[2] = {1.125, 1.0};
  for (int r = 0; r < 4; ++r) {
    double x[2] = {a[r], b[r]}, zw = bias[0] + 0.1 * (0.2 + 0.08);
    for (int k = 0; k < 2; ++k)
      zw += ((x[k] - mean[k]) / std::sqrt(var[k] + 1e-3) * gamma[k] + beta[k]) * w[k];
    EXPECT_NEAR(p[r], 1 / (1 + std::exp(-zw)), 1e-5) << "row " << r;
  }
}

const char* kPerIdModel = R"(model bnby {
  input a : dense
  input b : dense
  input s : id(3)
  label y
  z = batch_norm(concat(a, b), by = s, momentum = 0.5)
  p = sigmoid(dense(z, 1))
  loss l = bce(p, y)
  output p
  train { optimizer = sgd(lr = 0.1)  batch = 5  epochs = 1 }
})";

// batch_norm(x, by = s): per-id statistics. Runs once one_hot has a kernel
// (it is shape-only on this branch: the test then skips, saying why).
TEST_P(BackendTest, PerIdRunningStatisticsUpdatedByTrainingAndReadByEval) {
  DiagnosticEngine diag;
  auto m = compileModelSource("t.rec", kPerIdModel, "", diag);
  ASSERT_TRUE(m) << diag.render();
  rt::ModelState state(m->plan);
  rt::DataSet data(m->plan, 5);
  const float a[5] = {1, 3, 2, 6, 5}, b[5] = {0, 2, 1, 1, 7};
  const int64_t ids[5] = {0, 0, 1, 1, 2};
  for (int r = 0; r < 5; ++r) data.dense(0)[r] = a[r], data.dense(1)[r] = b[r], data.ids(2)[r] = ids[r];
  auto train = stepFor(m->trainGraph, 5, GetParam());
  rt::StepRunner runner(m->plan.trainStep, state, *train, 5, "train step");
  const std::vector<int64_t> rows{0, 1, 2, 3, 4};
  runner.run(data, rows, 1);
  runner.applyGradients();
  // id 0: mean [2,1] var [1,1]; id 1: mean [4,1] var [4,0]; id 2 has one row:
  // its statistics stay (mean 0, var 1). Momentum 0.5.
  const std::vector<float> mean = {1, 0.5f, 2, 0.5f, 0, 0}, var = {1, 1, 2.5f, 0.5f, 1, 1};
  const rt::Tensor& gotMean = state.states.value(state.states.indexOf("z.batch_norm0.mean"));
  const rt::Tensor& gotVar = state.states.value(state.states.indexOf("z.batch_norm0.var"));
  for (int k = 0; k < 6; ++k) {
    EXPECT_NEAR(gotMean[k], mean[k], 1e-6) << k;
    EXPECT_NEAR(gotVar[k], var[k], 1e-6) << k;
  }
  auto evalFn = stepFor(m->evalGraph, 5, GetParam());
  rt::StepRunner eval(m->plan.evalStep, state, *evalFn, 5, "eval step");
  eval.run(data, rows, 1);
  const float* p = eval.outputs()[0].data;
  const float *gamma = param(state, ".gamma"), *beta = param(state, ".beta");
  const float *w = param(state, ".w"), *bias = param(state, ".b");
  for (int r = 0; r < 5; ++r) {
    const int64_t s = ids[r];
    double x[2] = {a[r], b[r]}, zw = bias[0];
    for (int k = 0; k < 2; ++k)
      zw += ((x[k] - mean[s * 2 + k]) / std::sqrt(var[s * 2 + k] + 1e-3) * gamma[s * 2 + k] +
             beta[s * 2 + k]) * w[k];
    EXPECT_NEAR(p[r], 1 / (1 + std::exp(-zw)), 1e-5) << "row " << r;
  }
}

rt::DataSet stateData(const rt::ModelPlan& plan, int64_t rows) {
  rt::DataSet d(plan, rows);
  for (int64_t i = 0; i < rows; ++i) {
    d.ids(0)[i] = i % 25;  // ids 25..29 never occur: their shadow rows stay copies
    d.dense(1)[i] = float(i % 13) + 0.5f;
    d.dense(2)[i] = float(i % 7);
    d.label(0)[i] = i % 25 < 8 ? 1.0f : 0.0f;
  }
  return d;
}

std::vector<float> scores(rt::ModelState& state, rt::StepFunction& fn, const rt::DataSet& data) {
  rt::StepRunner runner(state.plan().evalStep, state, fn, state.plan().batchSize, "eval step");
  std::vector<float> out;
  std::vector<int64_t> rows(state.plan().batchSize);
  for (int64_t start = 0; start + (int64_t)rows.size() <= data.rows(); start += rows.size()) {
    std::iota(rows.begin(), rows.end(), start);
    runner.run(data, rows, 0);
    const rt::StepRunner::Output o = runner.outputs()[0];
    out.insert(out.end(), o.data, o.data + rows.size());
  }
  return out;
}

TEST_P(BackendTest, StateModelTrainsAndCheckpointRoundTripIsBitIdentical) {
  CompiledModel m = compile(readFile(std::string(RECC_SOURCE_DIR) + "/tests/e2e/inputs/state.rec"));
  ASSERT_EQ(m.plan.states.size(), 6u);  // bn mean/var, running mean, head w/b, table
  rt::ModelState state(m.plan);
  rt::DataSet data = stateData(m.plan, 160);
  auto train = stepFor(m.trainGraph, 16, GetParam());
  auto eval = stepFor(m.evalGraph, 16, GetParam());
  rt::Trainer trainer(state, *train, *eval, {.epochs = 8, .log = nullptr});
  trainer.train(data);
  // Shadows moved, but rows of ids never seen are still their rows' copies.
  int shadow = state.states.shadowOfTable("user_emb");
  ASSERT_GE(shadow, 0);
  const float* sh = state.states.value(shadow).data();
  const float* tb = state.tables[0].weights().data();
  EXPECT_NE(std::memcmp(sh, tb, 25 * 4 * sizeof(float)), 0);
  EXPECT_EQ(std::memcmp(sh + 25 * 4, tb + 25 * 4, 5 * 4 * sizeof(float)), 0);
  const std::vector<float> before = scores(state, *eval, data);

  std::string path = (std::filesystem::temp_directory_path() /
                      ("recc-state-" + std::to_string(::getpid()) + ".safetensors")).string();
  rt::saveCheckpoint(path, state);
  rt::ModelState loaded(m.plan);
  rt::loadCheckpoint(path, loaded);
  std::filesystem::remove(path);
  const std::vector<float> after = scores(loaded, *eval, data);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(std::memcmp(before.data(), after.data(), before.size() * sizeof(float)), 0);
  EXPECT_GT(rt::evaluate(loaded, *eval, data).metrics["auc"], 0.7);
}

TEST_P(BackendTest, ProgressReachesTheGraph) {
  // y = x · progress, built directly (grad_reverse's dann schedule, the
  // language's reader of progress, has no kernel on this branch).
  Graph g;
  NodeId x = g.add(OpKind::Input, {}, {{"shape", std::vector<int64_t>{kBatchDim, 1}}}, {}, "x");
  g.addInput(x, ValueRole::Feature, "x");
  NodeId p = g.add(OpKind::Input, {}, {{"shape", std::vector<int64_t>{}}}, {}, "progress");
  g.addInput(p, ValueRole::Progress, "progress");
  g.addOutput(g.add(OpKind::Mul, {x, p}), ValueRole::Output, "y");
  DiagnosticEngine diag(&std::cerr);
  ASSERT_TRUE(inferShapes(g, diag));
  rt::ModelPlan plan;
  plan.model = "progress";
  plan.features = {{"x", "x", rt::FeatureSpec::Kind::Dense, 0, 0, "", "none"}};
  plan.evalStep = stepSpecOf(g, "eval");
  ASSERT_EQ(plan.evalStep.buffers[1].role, rt::BufferSpec::Role::Progress);
  rt::ModelState state(plan);
  rt::DataSet data(plan, 2);
  data.dense(0)[0] = 2, data.dense(0)[1] = -4;
  auto fn = stepFor(g, 2, GetParam());
  rt::StepRunner runner(plan.evalStep, state, *fn, 2, "eval step");
  runner.setProgress(0.25);
  runner.run(data, std::vector<int64_t>{0, 1}, 0);
  EXPECT_EQ(runner.outputs()[0].data[0], 0.5f);
  EXPECT_EQ(runner.outputs()[0].data[1], -1.0f);
}

TEST_P(BackendTest, GradReverseScheduleScalesTheGradientByProgress) {
  // l = mean(z), z = grad_reverse(x·w + b, 2, linear warm-up over half of
  // training): dl/dw = -c(p)·mean(x) with c(p) = 2·min(1, p / 0.5).
  CompiledModel m = compile(R"(model m {
  input x : dense
  z = grad_reverse(dense(x, 1), 2, schedule = linear, warmup = 0.5)
  loss l = mean(z)
  train { optimizer = sgd(lr = 0.1)  batch = 2 }
})");
  rt::ModelState state(m.plan);
  rt::DataSet data(m.plan, 2);
  data.dense(0)[0] = 1, data.dense(0)[1] = 3;  // mean(x) = 2
  auto fn = stepFor(m.trainGraph, 2, GetParam());
  rt::StepRunner runner(m.plan.trainStep, state, *fn, 2, "train step");
  for (auto [p, c] : {std::pair{0.0, 0.0}, {0.25, 1.0}, {0.5, 2.0}, {0.9, 2.0}}) {
    runner.setProgress(p);
    runner.run(data, std::vector<int64_t>{0, 1}, 0);
    SCOPED_TRACE("progress " + std::to_string(p));
    EXPECT_NEAR(state.params.grad("z.dense0.w").data()[0], -c * 2, 1e-5);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, BackendTest,
                         ::testing::Values(Backend::Reference, Backend::Mlir),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return std::string(info.param == Backend::Mlir ? "Mlir" : "Reference");
                         });

TEST(EvalLoss, ShortLastBatchIsTheMeanOverRealRowsOnBothBackends) {
  CompiledModel m = compile(readFile(std::string(RECC_SOURCE_DIR) + "/tests/e2e/inputs/tiny.rec"));
  rt::ModelState state(m.plan);
  rt::DataSet data(m.plan, 41);  // batches of 16: the last has 9 rows
  for (int64_t i = 0; i < 41; ++i) {
    data.ids(0)[i] = i % 50;
    data.ids(1)[i] = (i * 7) % 40;
    data.dense(2)[i] = float(i % 13) - 6;
    data.label(0)[i] = i % 3 == 0;
  }
  state.stats[2] = {0.0, 4.0, true};
  auto ref = makeReferenceStep(m.evalGraph);
  auto jit = compileJit(m.evalGraph, m.plan.batchSize, {});
  double refLoss = rt::evaluate(state, *ref, data).loss;
  double jitLoss = rt::evaluate(state, *jit, data).loss;
  // Independently: mean bce over the rows, from the reference's scores.
  rt::StepRunner one(m.plan.evalStep, state, *ref, 41, "eval step");
  std::vector<int64_t> rows(41);
  std::iota(rows.begin(), rows.end(), 0);
  one.run(data, rows, 0);
  const float* p = one.outputs()[0].data;
  double sum = 0;
  for (int64_t i = 0; i < 41; ++i) {
    double y = data.label(0)[i];
    sum -= y * std::log(p[i]) + (1 - y) * std::log(1 - p[i]);
  }
  EXPECT_NEAR(refLoss, sum / 41, 1e-5);
  EXPECT_NEAR(jitLoss, sum / 41, 1e-5);
}

} // namespace
