// Tests of batching: reproducible per-epoch shuffles, and the fixed-batch
// rules (training drops the partial batch, evaluation pads it with row 0).
#include "runtime/Batcher.h"

#include "TestUtil.h"

#include <algorithm>
#include <set>

namespace recc::rt {
namespace {

std::vector<int64_t> epochOrder(Batcher& b, int64_t epoch) {
  b.startEpoch(epoch);
  std::vector<int64_t> rows;
  for (int64_t i = 0; i < b.numBatches(); ++i) {
    Batcher::Batch batch = b.batch(i);
    rows.insert(rows.end(), batch.rows.begin(), batch.rows.end());
  }
  return rows;
}

TEST(Batcher, TrainingShufflesReproduciblyPerEpoch) {
  Batcher a = Batcher::forTraining(1000, 64, 0, 42);
  Batcher b = Batcher::forTraining(1000, 64, 0, 42);
  EXPECT_EQ(a.numBatches(), 16);  // last batch of 40 rows is kept
  std::vector<int64_t> e0 = epochOrder(a, 0), e1 = epochOrder(a, 1);
  EXPECT_EQ(e0, epochOrder(b, 0));
  EXPECT_NE(e0, e1);
  std::vector<int64_t> sorted = e0;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 1000; ++i)
    ASSERT_EQ(sorted[i], i);
  Batcher otherSeed = Batcher::forTraining(1000, 64, 0, 7);
  EXPECT_NE(e0, epochOrder(otherSeed, 0));
  a.startEpoch(0);
  EXPECT_EQ(a.batch(15).valid, 40);
}

TEST(Batcher, FixedBatchTrainingDropsThePartialBatch) {
  Batcher b = Batcher::forTraining(1000, 256, 64, 1);
  EXPECT_EQ(b.batchSize(), 64);
  EXPECT_EQ(b.numBatches(), 15);
  EXPECT_EQ(b.droppedRows(), 40);
  std::vector<int64_t> rows = epochOrder(b, 3);
  EXPECT_EQ(rows.size(), 960u);
  EXPECT_EQ(std::set<int64_t>(rows.begin(), rows.end()).size(), 960u);
}

TEST(Batcher, FixedBatchEvaluationPadsWithRowZero) {
  Batcher b = Batcher::forEvaluation(10, 256, 4);
  ASSERT_EQ(b.numBatches(), 3);
  b.startEpoch(5);  // evaluation never shuffles
  Batcher::Batch first = b.batch(0);
  EXPECT_EQ(std::vector<int64_t>(first.rows.begin(), first.rows.end()),
            (std::vector<int64_t>{0, 1, 2, 3}));
  Batcher::Batch last = b.batch(2);
  EXPECT_EQ(last.valid, 2);
  EXPECT_EQ(std::vector<int64_t>(last.rows.begin(), last.rows.end()),
            (std::vector<int64_t>{8, 9, 0, 0}));
  Batcher any = Batcher::forEvaluation(10, 4, 0);
  EXPECT_EQ(any.batch(2).rows.size(), 2u);
  EXPECT_EQ(any.droppedRows(), 0);
}

} // namespace
} // namespace recc::rt
