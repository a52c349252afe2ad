// Two input streams in the Trainer: which rows of each stream every step
// sees. Source 10 rows in batches of 4 (an epoch of 3 steps: 4, 4, 2 rows),
// target 3 rows in batches of 2, cycled through fresh permutations; all of it
// reproducible from the seed. The step records the rows it was given (each
// row's feature value is its row number).
#include "runtime/DataSet.h"
#include "runtime/Error.h"
#include "runtime/ModelState.h"
#include "runtime/StepRunner.h"
#include "runtime/StreamCycle.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;

/// x (source, batch B = -1) and xt (stream 1, batch B1 = -2); the loss is a
/// constant, the one parameter gets a zero gradient.
ModelPlan twoStreamPlan(uint64_t seed) {
  ModelPlan p;
  p.model = "two";
  p.features = {{"x", "x"}, {"xt", "x"}};
  p.features[1].stream = 1;
  p.streams = {{"target", 2}};
  p.params = {{"w", {1}, {"zeros", 0}}};
  p.optimizer.kind = "sgd";
  p.batchSize = 4;
  p.seed = seed;
  p.trainStep = {"train",
                 {{Role::Feature, "x", {-1, 1}},
                  {Role::Feature, "xt", {-2, 1}},
                  {Role::Param, "w", {1}},
                  {Role::Loss, "loss", {}},
                  {Role::Gradient, "w", {1}}}};
  p.evalStep = {"eval", {{Role::Feature, "x", {-1, 1}}, {Role::Feature, "xt", {-2, 1}},
                         {Role::Param, "w", {1}}, {Role::Loss, "loss", {}}}};
  return p;
}

/// Records each step's rows of both streams.
class RecordingStep : public StepFunction {
public:
  void run(const BatchSizes& batch, float* const* buf) override {
    std::vector<int64_t> s, t;
    for (int64_t i = 0; i < batch.source(); ++i) s.push_back(int64_t(buf[0][i]));
    for (int64_t i = 0; i < batch.stream(1); ++i) t.push_back(int64_t(buf[1][i]));
    Source.push_back(s);
    Target.push_back(t);
    *buf[3] = 0.5f;
    if (Spec == 5) buf[4][0] = 0;
  }
  int Spec = 5;  // buffers in the train step
  std::vector<std::vector<int64_t>> Source, Target;
};

DataSet rowsNumbered(const ModelPlan& plan, int64_t rows, int feature) {
  DataSet d(plan, rows, false, false);
  for (int64_t r = 0; r < rows; ++r) d.dense(feature)[r] = float(r);
  return d;
}

struct Rows {
  std::vector<std::vector<int64_t>> source, target;
};

Rows train(uint64_t seed, int64_t epochs) {
  ModelPlan plan = twoStreamPlan(seed);
  ModelState state(plan);
  DataSet src = rowsNumbered(plan, 10, 0), tgt = rowsNumbered(plan, 3, 1);
  RecordingStep step, eval;
  eval.Spec = 4;
  Trainer trainer(state, step, eval, {.epochs = epochs, .log = nullptr});
  trainer.train(src, nullptr, {&tgt});
  return {step.Source, step.Target};
}

TEST(Streams, EpochIsOnePassOverTheSourceAndTheTargetCycles) {
  Rows r = train(7, 2);
  // 2 epochs of ceil(10 / 4) = 3 steps; each epoch sees every source row once.
  ASSERT_EQ(r.source.size(), 6u);
  for (int e = 0; e < 2; ++e) {
    std::vector<int64_t> seen;
    for (int s = 0; s < 3; ++s) seen.insert(seen.end(), r.source[e * 3 + s].begin(),
                                            r.source[e * 3 + s].end());
    EXPECT_EQ(r.source[e * 3 + 2].size(), 2u);  // the short last batch
    std::sort(seen.begin(), seen.end());
    EXPECT_EQ(seen, (std::vector<int64_t>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9})) << "epoch " << e;
  }
  // Every step draws 2 target rows; 6 steps are 12 rows = 4 whole cycles of
  // the 3 rows, each cycle a permutation of {0, 1, 2}, crossing batches.
  std::vector<int64_t> flat;
  for (const auto& t : r.target) {
    ASSERT_EQ(t.size(), 2u);
    flat.insert(flat.end(), t.begin(), t.end());
  }
  std::vector<std::vector<int64_t>> cycles;
  for (int c = 0; c < 4; ++c) {
    std::vector<int64_t> cyc(flat.begin() + 3 * c, flat.begin() + 3 * c + 3);
    cycles.push_back(cyc);
    std::sort(cyc.begin(), cyc.end());
    EXPECT_EQ(cyc, (std::vector<int64_t>{0, 1, 2})) << "cycle " << c;
  }
  // Reshuffled on exhaustion: not every cycle repeats the first order.
  EXPECT_TRUE(std::any_of(cycles.begin() + 1, cycles.end(),
                          [&](const auto& c) { return c != cycles[0]; }));
  // The StreamCycle the trainer used, step by step.
  StreamCycle cycle(3, 2, 7, 1);
  for (int s = 0; s < 6; ++s) {
    auto rows = cycle.batch(s);
    EXPECT_EQ(std::vector<int64_t>(rows.begin(), rows.end()), r.target[s]) << "step " << s;
  }
}

TEST(Streams, SameSeedSameRowsOtherSeedOtherRows) {
  Rows a = train(7, 2), b = train(7, 2), c = train(8, 2);
  EXPECT_EQ(a.source, b.source);
  EXPECT_EQ(a.target, b.target);
  EXPECT_NE(a.target, c.target);
}

// A second run of one epoch resumed from the first (the state keeps the step
// count) sees the target rows a two-epoch run sees in its second epoch.
TEST(Streams, ResumedTrainingContinuesTheCycle) {
  Rows whole = train(3, 2);
  ModelPlan plan = twoStreamPlan(3);
  ModelState state(plan);
  DataSet src = rowsNumbered(plan, 10, 0), tgt = rowsNumbered(plan, 3, 1);
  RecordingStep step, eval;
  eval.Spec = 4;
  Trainer first(state, step, eval, {.epochs = 1, .log = nullptr});
  first.train(src, nullptr, {&tgt});
  Trainer second(state, step, eval, {.epochs = 1, .log = nullptr});
  second.train(src, nullptr, {&tgt});
  EXPECT_EQ(step.Target, whole.target);
  EXPECT_EQ(step.Source, whole.source);
}

TEST(Streams, BatchLargerThanTheStreamRepeatsRowsAcrossCycles) {
  StreamCycle cycle(2, 5, 1, 1);
  auto rows = cycle.batch(0);
  std::multiset<int64_t> seen(rows.begin(), rows.end());
  EXPECT_EQ(seen.count(0) + seen.count(1), 5u);
  EXPECT_GE(seen.count(0), 2u);
  EXPECT_GE(seen.count(1), 2u);
}

TEST(Streams, MissingStreamDataIsAnError) {
  ModelPlan plan = twoStreamPlan(1);
  ModelState state(plan);
  DataSet src = rowsNumbered(plan, 10, 0);
  RecordingStep step, eval;
  Trainer trainer(state, step, eval, {.epochs = 1, .log = nullptr});
  try {
    trainer.train(src, nullptr, {});
    FAIL() << "trained without the target stream's data";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("reads 1 other input streams, 0 given"),
              std::string::npos) << e.what();
  }
}

// A buffer batched by a stream its feature is not read from is refused
// when the step is bound, naming the buffer and both streams.
TEST(Streams, BufferOfTheWrongStreamIsRefused) {
  ModelPlan plan = twoStreamPlan(1);
  plan.trainStep.buffers[1].shape = {-1, 1};  // xt is stream 1's
  ModelState state(plan);
  RecordingStep step;
  try {
    StepRunner runner(plan.trainStep, state, step, BatchSizes({4, 2}), "train step");
    FAIL() << "bound xt to the source's batch";
  } catch (const RuntimeError& e) {
    EXPECT_NE(std::string(e.what()).find("'xt' (feature): shape [-1,1] is batched by stream 0, "
                                         "but the feature is read from stream 1"),
              std::string::npos) << e.what();
  }
}

} // namespace
} // namespace recc::rt
