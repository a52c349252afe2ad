// Model state in the runtime, with hand-written step functions: states start
// per their spec, StateUpdate outputs replace running statistics after a
// train step, EMA shadows of a parameter and of a table follow the update rule
// (hand-computed over 3 SGD steps, with the lazy catch-up of an untouched
// row), the training progress is fed, and checkpoints keep all of it (a
// checkpoint without a state tensor is refused, naming it).
#include "runtime/Checkpoint.h"
#include "runtime/SafeTensors.h"
#include "runtime/StepRunner.h"
#include "runtime/Trainer.h"

#include "TestUtil.h"

#include <algorithm>
#include <cstring>
#include <numeric>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;
using test::contains;
using test::errorOf;

/// One dense feature x, one id feature `user` (table user_emb [4,2]), a
/// parameter w [2], running statistics bn.mean/bn.var (per id: [4,2]), and
/// EMA shadows (decay 0.5) of w and of user_emb.
ModelPlan statePlan() {
  ModelPlan p;
  p.model = "stateful";
  using K = FeatureSpec::Kind;
  p.features = {{"x", "x", K::Dense, 0, 0, "", "none"},
                {"user", "user", K::Categorical, 4, 0, "user_emb", "none"}};
  p.labels = {{"y", "y"}};
  p.tables = {{"user_emb", 4, 2, {"uniform", 0.5}}};
  p.params = {{"w", {2}, {"zeros", 0}}};
  p.optimizer.kind = "sgd";
  p.optimizer.lr = 1;
  p.batchSize = 1;
  p.states = {{"bn.mean", "running_stat", {4, 2}, "", false, 0.9, {"zeros", 0}},
              {"bn.var", "running_stat", {4, 2}, "", false, 0.9, {"ones", 0}},
              {"w.ema", "ema", {2}, "w", false, 0.5},
              {"user_emb.ema", "ema", {4, 2}, "user_emb", true, 0.5}};
  const std::vector<BufferSpec> reads = {{Role::Feature, "x", {-1, 1}},
                                         {Role::Feature, "user", {-1}},
                                         {Role::State, "bn.mean", {4, 2}},
                                         {Role::State, "bn.var", {4, 2}},
                                         {Role::State, "w.ema", {2}},
                                         {Role::State, "user_emb.ema[user]", {-1, 2}, "user"},
                                         {Role::Param, "w", {2}}};
  p.trainStep = {"train_step", reads};
  for (BufferSpec b : std::vector<BufferSpec>{{Role::EmbeddingRows, "user", {-1, 2}},
                                              {Role::Progress, "progress", {}},
                                              {Role::Loss, "loss", {}},
                                              {Role::StateUpdate, "bn.mean", {4, 2}},
                                              {Role::StateUpdate, "bn.var", {4, 2}},
                                              {Role::Gradient, "w", {2}},
                                              {Role::Gradient, "user", {-1, 2}}})
    p.trainStep.buffers.push_back(b);
  p.evalStep = {"eval_step", reads};
  p.evalStep.buffers.push_back({Role::Output, "shadow", {-1, 2}});
  p.evalStep.buffers.push_back({Role::Output, "stats", {-1, 2}});
  return p;
}

/// Train: per-id statistics — each row's id gets mean += x and var *= 2
/// (others unchanged); gradients of 1 for w and for each row's embedding;
/// records the progress and the shadow rows it was fed. Eval: outputs each
/// row's shadow row and its id's running mean.
class StateStep : public StepFunction {
public:
  explicit StateStep(bool train) : Train(train) {}
  void run(const BatchSizes& batch, float* const* buf) override {
    const int64_t n = batch.source();
    const float *x = buf[0], *user = buf[1], *mean = buf[2], *var = buf[3], *rows = buf[5];
    if (!Train) {
      for (int64_t i = 0; i < n; ++i)
        for (int k = 0; k < 2; ++k) {
          buf[7][i * 2 + k] = rows[i * 2 + k];
          buf[8][i * 2 + k] = mean[int64_t(user[i]) * 2 + k];
        }
      return;
    }
    Progress.push_back(*buf[8]);
    Shadows.push_back({rows[0], rows[1]});
    *buf[9] = 0;
    std::memcpy(buf[10], mean, 8 * sizeof(float));
    std::memcpy(buf[11], var, 8 * sizeof(float));
    for (int64_t i = 0; i < n; ++i)
      for (int k = 0; k < 2; ++k) {
        const int64_t u = int64_t(user[i]);
        buf[10][u * 2 + k] += x[i];
        buf[11][u * 2 + k] *= 2;
        buf[13][i * 2 + k] = 1;
      }
    buf[12][0] = buf[12][1] = 1;
  }
  bool Train;
  std::vector<float> Progress;
  std::vector<std::vector<float>> Shadows;
};

DataSet stateData(const ModelPlan& plan, std::vector<int64_t> users) {
  DataSet d(plan, int64_t(users.size()));
  for (size_t r = 0; r < users.size(); ++r) {
    d.dense(0)[r] = float(r + 1);
    d.ids(1)[r] = users[r];
  }
  return d;
}

/// Three SGD steps (lr 1) on rows of users 0, 1, 0.
void trainThreeSteps(ModelState& state, StateStep& fn) {
  DataSet data = stateData(state.plan(), {0, 1, 0});
  StepRunner runner(state.plan().trainStep, state, fn, 1, "train step");
  for (int64_t r = 0; r < 3; ++r) {
    runner.run(data, std::vector<int64_t>{r}, 0);
    runner.applyGradients();
  }
}

std::vector<float> values(const Tensor& t) { return {t.data(), t.data() + t.numel()}; }

TEST(StateTest, StatesStartPerTheirSpec) {
  ModelState state(statePlan());
  const StateStore& s = state.states;
  ASSERT_EQ(s.size(), 4);
  EXPECT_EQ(values(s.value(0)), std::vector<float>(8, 0.0f));
  EXPECT_EQ(values(s.value(1)), std::vector<float>(8, 1.0f));
  EXPECT_EQ(values(s.value(2)), values(state.params.value(0)));
  EXPECT_EQ(values(s.value(3)), values(state.tables[0].weights()));
}

TEST(StateTest, RunningStatisticsFollowTheStateUpdates) {
  ModelState state(statePlan());
  StateStep fn(true);
  trainThreeSteps(state, fn);
  // Per id: user 0 saw x = 1 and 3, user 1 saw x = 2; ids 2 and 3 none.
  EXPECT_EQ(values(state.states.value(0)), (std::vector<float>{4, 4, 2, 2, 0, 0, 0, 0}));
  EXPECT_EQ(values(state.states.value(1)), (std::vector<float>{4, 4, 2, 2, 1, 1, 1, 1}));
  // Evaluation reads them (and does not change them).
  StateStep eval(false);
  DataSet data = stateData(state.plan(), {1, 0});
  StepRunner runner(state.plan().evalStep, state, eval, 2, "eval step");
  runner.run(data, std::vector<int64_t>{0, 1}, 0);
  const float* stats = runner.outputs()[1].data;
  EXPECT_EQ(std::vector<float>(stats, stats + 4), (std::vector<float>{2, 2, 4, 4}));
  EXPECT_EQ(values(state.states.value(0))[0], 4);
}

TEST(StateTest, EmaShadowsOfParameterAndTable) {
  ModelState state(statePlan());
  const std::vector<float> w0 = values(state.tables[0].weights());
  StateStep fn(true);
  trainThreeSteps(state, fn);
  // w: 0 -> -1 -> -2 -> -3; shadow (decay 0.5): -0.5, -1.25, -2.125.
  EXPECT_EQ(values(state.params.value(0)), (std::vector<float>{-3, -3}));
  EXPECT_EQ(values(state.states.value(2)), (std::vector<float>{-2.125f, -2.125f}));
  // Row 0 (steps 1 and 3): row w0-1, shadow w0-0.5; untouched at step 2,
  // where a dense EMA moves it to w0-0.75; step 3: row w0-2, shadow w0-1.375.
  // Row 1 (step 2): shadow w1-0.5. Rows 2, 3 never change.
  const std::vector<float> shadow = values(state.states.value(3));
  for (int k = 0; k < 2; ++k) {
    EXPECT_FLOAT_EQ(shadow[k], w0[k] - 1.375f);
    EXPECT_FLOAT_EQ(shadow[2 + k], w0[2 + k] - 0.5f);
  }
  for (int k = 4; k < 8; ++k)
    EXPECT_EQ(shadow[k], w0[k]);
  // The step read the shadow rows as of the step before: row 0 at step 1
  // (its initial copy), row 1 at step 2, row 0 at step 3 caught up (w0-0.75).
  ASSERT_EQ(fn.Shadows.size(), 3u);
  EXPECT_EQ(fn.Shadows[0], (std::vector<float>{w0[0], w0[1]}));
  EXPECT_EQ(fn.Shadows[1], (std::vector<float>{w0[2], w0[3]}));
  EXPECT_FLOAT_EQ(fn.Shadows[2][0], w0[0] - 0.75f);
  // Row 1 untouched at step 3: read caught up to w1-1 + 0.5*0.5 = w1-0.75.
  float row[2];
  const int64_t id = 1;
  state.states.rowsAt(3, state.tables[0], {&id, 1}, state.step, row);
  EXPECT_FLOAT_EQ(row[0], w0[2] - 0.75f);
  EXPECT_FLOAT_EQ(shadow[2], w0[2] - 0.5f);  // stored lazily
}

TEST(StateTest, ProgressIsStepOverTotalSteps) {
  ModelPlan plan = statePlan();
  plan.epochs = 2;
  ModelState state(plan);
  StateStep train(true), eval(false);
  Trainer trainer(state, train, eval, {.log = nullptr});
  trainer.train(stateData(plan, {0, 1, 2, 3}));
  EXPECT_EQ(train.Progress,
            (std::vector<float>{0, 1.f / 8, 2.f / 8, 3.f / 8, 4.f / 8, 5.f / 8, 6.f / 8, 7.f / 8}));
}

TEST(StateTest, CheckpointKeepsStateAndEvalIsBitIdentical) {
  test::TempDir dir;
  const std::string path = dir.file("s.safetensors");
  ModelState state(statePlan());
  StateStep train(true), eval(false);
  trainThreeSteps(state, train);
  DataSet data = stateData(state.plan(), {0, 1, 2, 3});
  auto outputs = [&](ModelState& s) {
    StepRunner runner(s.plan().evalStep, s, eval, 4, "eval step");
    runner.run(data, std::vector<int64_t>{0, 1, 2, 3}, 0);
    std::vector<float> out;
    for (const StepRunner::Output& o : runner.outputs())
      out.insert(out.end(), o.data, o.data + 4 * o.perRow);
    return out;
  };
  const std::vector<float> before = outputs(state);
  saveCheckpoint(path, state);
  ModelState loaded(statePlan());
  loadCheckpoint(path, loaded);
  const std::vector<float> after = outputs(loaded);
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(0, std::memcmp(before.data(), after.data(), before.size() * sizeof(float)));
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(values(loaded.states.value(i)), values(state.states.value(i)));
  // The table shadow's lazy state (rows as held, each row's step) comes back
  // too, so training on after the reload continues bit for bit: a catch-up
  // split at the save would round differently.
  EXPECT_EQ(values(loaded.states.value(3)), values(state.states.value(3)));
  EXPECT_TRUE(std::ranges::equal(loaded.states.rowSteps(3), state.states.rowSteps(3)));
  StateStep more(true);
  trainThreeSteps(state, more);
  trainThreeSteps(loaded, more);
  EXPECT_EQ(values(loaded.states.value(3)), values(state.states.value(3)));
  EXPECT_EQ(values(loaded.tables[0].weights()), values(state.tables[0].weights()));
}

/// `path` rewritten without tensor `drop` and with tensor `name`'s I64
/// elements replaced by `i64` where given.
void rewrite(const std::string& path, const std::string& out, const std::string& drop,
             const std::string& name = "", std::vector<int64_t> i64 = {}) {
  SafeTensorsReader in(path);
  std::vector<std::vector<char>> bytes;
  std::vector<TensorRef> refs;
  for (const std::string& n : in.names()) {
    if (n == drop)
      continue;
    const int64_t count = numElements(in.shape(n));
    bytes.emplace_back(size_t(count) * 8);
    in.readRange(n, 0, count, bytes.back().data());
    if (n == name)
      std::memcpy(bytes.back().data(), i64.data(), i64.size() * sizeof(int64_t));
    const char* data = bytes.back().data();
    const size_t width = in.dtype(n) == DType::I64 ? 8 : 4;
    refs.push_back({n, in.shape(n), nullptr, in.dtype(n),
                    [data, width](int64_t first, int64_t c, void* to) {
                      std::memcpy(to, data + first * width, size_t(c) * width);
                    }});
  }
  std::map<std::string, std::string> meta = in.metadata();
  meta.erase("crc32");
  writeSafeTensors(out, refs, meta);
}

TEST(StateTest, LazyShadowStateIsChecked) {
  test::TempDir dir;
  const std::string path = dir.file("s.safetensors"), bad = dir.file("bad.safetensors");
  ModelState state(statePlan());
  StateStep train(true);
  trainThreeSteps(state, train);
  saveCheckpoint(path, state);
  ModelState loaded(statePlan());
  rewrite(path, bad, "ema_step/user_emb.ema");
  EXPECT_EQ(errorOf([&] { loadCheckpoint(bad, loaded); }),
            bad + ": tensor 'ema_raw/user_emb.ema' is there without 'ema_step/user_emb.ema' "
                  "(the lazy state of EMA shadow 'user_emb.ema' needs both)");
  rewrite(path, bad, "", "ema_step/user_emb.ema", {0, 4, 0, 0});
  EXPECT_EQ(errorOf([&] { loadCheckpoint(bad, loaded); }),
            bad + ": tensor 'ema_step/user_emb.ema' element 1: step 4 is outside [0, 3] (the "
                  "checkpoint's step)");
  EXPECT_EQ(loaded.step, 0);  // nothing was loaded
  // Without both tensors (an older checkpoint) the caught-up rows load.
  rewrite(path, bad, "ema_raw/user_emb.ema");
  rewrite(bad, bad, "ema_step/user_emb.ema");
  loadCheckpoint(bad, loaded);
  EXPECT_EQ(loaded.states.tableAt(3, loaded.tables[0], 3),
            state.states.tableAt(3, state.tables[0], 3));
}

TEST(StateTest, CheckpointWithoutAStateTensorIsRefused) {
  test::TempDir dir;
  const std::string path = dir.file("old.safetensors");
  ModelPlan old = statePlan();
  old.states.pop_back();  // written by a model without the table shadow
  old.trainStep.buffers.clear();
  old.evalStep.buffers.clear();
  saveCheckpoint(path, ModelState(old));
  ModelState state(statePlan());
  EXPECT_EQ(errorOf([&] { loadCheckpoint(path, state); }),
            path + ": missing tensor 'state/user_emb.ema' (model state the model keeps "
                   "across steps)");
  // A transfer load starts the shadow again from its (loaded) source.
  loadCheckpoint(path, state, {.transfer = true});
  EXPECT_EQ(values(state.states.value(3)), values(state.tables[0].weights()));
}

TEST(StateTest, BadStateBuffersAndSpecsAreNamed) {
  ModelPlan plan = statePlan();
  plan.evalStep.buffers[2].shape = {2};
  ModelState state(plan);
  StateStep eval(false);
  EXPECT_EQ(errorOf([&] { StepRunner(plan.evalStep, state, eval, 1, "eval step"); }),
            "eval step buffer 2 'bn.mean' (state): shape [2] but the state is [4,2]");
  plan = statePlan();
  plan.states[2].of = "nothing";
  EXPECT_EQ(errorOf([&] { ModelState bad(plan); }),
            "model plan: state 'w.ema' shadows unknown parameter 'nothing'");
  plan = statePlan();
  plan.states[3].shape = {4, 3};
  EXPECT_EQ(errorOf([&] { ModelState bad(plan); }),
            "model plan: state 'user_emb.ema' has shape [4,3] but its source 'user_emb' has "
            "[4,2]");
}

TEST(StateTest, PlanJsonCarriesStateBuffers) {
  ModelPlan plan = statePlan();
  ModelPlan back = planFromJson(toJson(plan));
  ASSERT_EQ(back.trainStep.buffers.size(), plan.trainStep.buffers.size());
  for (size_t i = 0; i < plan.trainStep.buffers.size(); ++i) {
    EXPECT_EQ(back.trainStep.buffers[i].role, plan.trainStep.buffers[i].role);
    EXPECT_EQ(back.trainStep.buffers[i].ids, plan.trainStep.buffers[i].ids);
  }
  EXPECT_EQ(back.states.size(), 4u);
  EXPECT_TRUE(back.states[3].table);
}

} // namespace
} // namespace recc::rt
