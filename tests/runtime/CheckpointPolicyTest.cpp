// Tests of the pieces of mid-epoch resume and keep-best that need no
// training: the best file's name, metric directions, the position metadata
// and the data fingerprint (training itself: tests/e2e/midepoch_resume_test.sh
// and keep_best_test.sh).
#include "runtime/CheckpointPolicy.h"
#include "runtime/TrainPosition.h"

#include "TestUtil.h"

namespace recc::rt {
namespace {

using test::contains;
using test::errorOf;

TEST(CheckpointPolicyTest, BestFileSitsBesideOut) {
  EXPECT_EQ(bestPath("runs/m.safetensors"), "runs/m.best.safetensors");
  EXPECT_EQ(bestPath("m"), "m.best.safetensors");
  EXPECT_EQ(bestPath("m.ckpt"), "m.ckpt.best.safetensors");
}

TEST(CheckpointPolicyTest, LossAndLoglossAreMinimizedTheRestMaximized) {
  ModelPlan plan = test::smallPlan();
  EXPECT_FALSE(higherIsBetter(plan, "loss"));
  EXPECT_FALSE(higherIsBetter(plan, "logloss"));
  EXPECT_TRUE(higherIsBetter(plan, "auc"));
  EXPECT_TRUE(higherIsBetter(plan, "gauc"));
  EXPECT_TRUE(contains(errorOf([&] { higherIsBetter(plan, "ctcvr_auc"); }),
                       "--keep-best ctcvr_auc: model 'tiny' has no metric 'ctcvr_auc' (it "
                       "has: loss, auc, gauc, logloss)"));
}

TrainPosition samplePosition() {
  return {2, 7, 19, 42, 16, {{300, 0x9f3a0c1d2e4b5a67ULL}, {40, 1}}};
}

TEST(CheckpointPolicyTest, PositionRoundTripsThroughMetadata) {
  const TrainPosition p = samplePosition();
  auto back = readPosition({{kPositionKey, positionJson(p)}}, "c.safetensors");
  ASSERT_TRUE(back);
  EXPECT_EQ(back->lastEpoch, 2);
  EXPECT_EQ(back->epochStep, 7);
  EXPECT_EQ(back->epochBatches, 19);
  EXPECT_EQ(back->seed, 42u);
  EXPECT_EQ(back->batch, 16);
  EXPECT_EQ(back->data, p.data);
  EXPECT_FALSE(readPosition({}, "c.safetensors"));
}

TEST(CheckpointPolicyTest, MalformedPositionIsNamed) {
  EXPECT_TRUE(contains(errorOf([] { readPosition({{kPositionKey, "[1]"}}, "c.safetensors"); }),
                       "c.safetensors: malformed metadata 'position'"));
  TrainPosition p = samplePosition();
  p.epochStep = 19;
  EXPECT_TRUE(contains(errorOf([&] { readPosition({{kPositionKey, positionJson(p)}}, "c"); }),
                       "c: malformed metadata 'position': epoch_step 19 of 19 batches"));
}

TEST(CheckpointPolicyTest, MidEpochResumeNamesWhatDiffers) {
  const TrainPosition saved = samplePosition();
  TrainPosition now = saved;
  EXPECT_EQ(errorOf([&] { checkMidEpochResume(saved, now, 1, "c", {"a.csv", "b.csv"}); }),
            "<no error>");
  now.data[1].rows = 41;
  EXPECT_TRUE(contains(errorOf([&] { checkMidEpochResume(saved, now, 1, "c", {"a.csv", "b.csv"}); }),
                       "--init c: the checkpoint stopped mid-epoch (epoch 2, after step 7 of "
                       "19) on data of 40 rows, but b.csv has 41 rows"));
  now = saved;
  now.seed = 7;
  EXPECT_TRUE(contains(errorOf([&] { checkMidEpochResume(saved, now, 1, "c", {}); }),
                       "with seed 42, this run has seed 7"));
  now = saved;
  now.batch = 32;
  now.epochBatches = 10;
  EXPECT_TRUE(contains(errorOf([&] { checkMidEpochResume(saved, now, 1, "c", {}); }),
                       "in batches of 16 (19 per epoch), this run has batches of 32 (10 per "
                       "epoch)"));
}

TEST(CheckpointPolicyTest, FingerprintSeesEveryValueAndTheRowOrder) {
  ModelPlan plan = test::smallPlan();
  DataSet data(plan, 5);
  for (int64_t r = 0; r < 5; ++r) {
    data.ids(0)[r] = r;
    data.dense(2)[r] = float(r) / 2;
  }
  const DataFingerprint base = fingerprint(plan, data);
  EXPECT_EQ(base.rows, 5);
  EXPECT_EQ(fingerprint(plan, data), base);  // deterministic
  data.dense(2)[4] = 7;
  EXPECT_NE(fingerprint(plan, data).hash, base.hash);
  data.dense(2)[4] = 2;
  EXPECT_EQ(fingerprint(plan, data), base);
  std::swap(data.ids(0)[1], data.ids(0)[2]);
  EXPECT_NE(fingerprint(plan, data).hash, base.hash);
  std::swap(data.ids(0)[1], data.ids(0)[2]);
  data.label(0)[3] = 1;
  EXPECT_NE(fingerprint(plan, data).hash, base.hash);
}

} // namespace
} // namespace recc::rt
