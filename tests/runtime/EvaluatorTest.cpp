// Ranking metrics through the Evaluator: a fake eval step returns top_k
// positions in the batch's rows (as floats, the way compiled steps hand them
// over), the evaluator maps them to those rows' item ids, and recall/hitrate/
// mrr are checked against values worked out by hand. The batch size (3)
// splits a user's rows over batches, so requests must be pooled over the
// whole data set, not per batch. Also: the eval loss of a padded last batch
// is the mean over the real rows.
#include "runtime/Evaluator.h"
#include "runtime/Metrics.h"

#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;

// (user, relevant item, click) per row.
struct Row {
  int64_t user, item;
  float click;
};
const std::vector<Row> kRows = {{0, 2, 1}, {0, 7, 0}, {0, 3, 1}, {1, 3, 1},
                                {2, 0, 1}, {3, 6, 0}, {1, 1, 0}};

MetricSpec ranking(const std::string& name, const std::string& kind, int64_t k,
                   const std::string& by, const std::string& where = "") {
  MetricSpec m;
  m.name = name;
  m.kind = kind;
  m.output = "top";
  m.filterLabel = where;
  m.groupColumn = by;
  m.targetColumn = "item_id";
  m.k = k;
  return m;
}

ModelPlan rankingPlan() {
  ModelPlan p;
  p.model = "retrieval";
  using K = FeatureSpec::Kind;
  p.features = {{"user", "user", K::Categorical, 4, 0, "user_emb", "none"},
                {"item", "item_id", K::Categorical, 10, 0, "item_emb", "none"}};
  p.labels = {{"click", "click"}};
  p.tables = {{"user_emb", 4, 2, {"uniform", 0.05}}, {"item_emb", 10, 2, {"uniform", 0.05}}};
  p.batchSize = 3;
  p.metrics = {ranking("recall3", "recall", 3, "user"),
               ranking("hit2", "hitrate", 2, ""),
               ranking("recall3_click", "recall", 3, "user", "click"),
               ranking("mrr", "mrr", 0, "")};
  p.evalStep = {"eval_step", {{Role::Feature, "user", {-1, 1}}, {Role::Output, "top", {-1, 3}}}};
  return p;
}

/// A hand-made top_k output: like the op, it returns positions in the corpus
/// it ranked, the batch's rows. Row i of a batch of n retrieves the rows
/// (i+1) % n, i, then padding (-1).
class TopKStep : public StepFunction {
public:
  void run(const BatchSizes& batch, float* const* buf) override {
    const int64_t n = batch.source();
    for (int64_t i = 0; i < n; ++i) {
      buf[1][i * 3] = float((i + 1) % n);
      buf[1][i * 3 + 1] = float(i);
      buf[1][i * 3 + 2] = -1;
    }
  }
};

DataSet rankingData(const ModelPlan& plan) {
  DataSet d(plan, int64_t(kRows.size()));
  for (size_t r = 0; r < kRows.size(); ++r) {
    d.ids(0)[r] = kRows[r].user;
    d.ids(1)[r] = kRows[r].item;
    d.label(0)[r] = kRows[r].click;
    d.groupsMut("user")[r] = kRows[r].user;
  }
  return d;
}

TEST(EvaluatorTest, RankingMetricsOfTopKOutputs) {
  ModelPlan plan = rankingPlan();
  ModelState state(plan);
  TopKStep step;
  EvalResult r = evaluate(state, step, rankingData(plan));
  EXPECT_EQ(r.rows, 7);
  EXPECT_TRUE(std::isnan(r.loss));
  // Batches (items) [2,7,3] [3,0,6] [1]: the rows retrieve the items
  //   r0 [7,2] r1 [3,7] r2 [2,3] | r3 [0,3] r4 [6,0] r5 [3,6] | r6 [1,1].
  // Per user, T = distinct items of its rows, list = its first row's:
  // u0 {2,7,3} finds 7,2 -> 2/3; u1 {3,1} finds 3 of [0,3] -> 1/2;
  // u2 {0} finds 0 in [6,0] -> 1; u3 {6} finds 6 in [3,6] -> 1.
  EXPECT_DOUBLE_EQ(r.metrics["recall3"], (2.0 / 3 + 0.5 + 1 + 1) / 4);
  // Each row alone, top 2: every row finds its own item.
  EXPECT_DOUBLE_EQ(r.metrics["hit2"], 1.0);
  // Clicked rows only: u0 {2,3} -> 1/2 (2 in [7,2]), u1 {3} -> 1, u2 {0} -> 1.
  EXPECT_DOUBLE_EQ(r.metrics["recall3_click"], (0.5 + 1 + 1) / 3);
  // k = 0 means the whole list; first-hit ranks 2, 2, 2, 2, 2, 2, 1.
  EXPECT_DOUBLE_EQ(r.metrics["mrr"], (6 * 0.5 + 1) / 7);
  EXPECT_TRUE(r.notes.empty());
}

TEST(EvaluatorTest, TopKPositionsMapToTheItemIdsOfTheBatchRows) {
  // Two rows retrieving 3 positions each in a corpus of 4 batch rows.
  const std::vector<float> top = {3, 0, -1, 2, 2, 1};
  const std::vector<int64_t> corpus = {40, 41, 42, 43};
  EXPECT_EQ(itemIdsAt(top, 3, corpus, "metric 'r': output 'top'"),
            (std::vector<int64_t>{43, 40, -1, 42, 42, 41}));
  const std::vector<float> bad = {1, 4};
  EXPECT_EQ(test::errorOf([&] { itemIdsAt(bad, 2, corpus, "metric 'r': output 'top'"); }),
            "metric 'r': output 'top' holds position 4 at row 0, but the batch it ranked has "
            "4 item rows");
}

TEST(EvaluatorTest, RankingMetricErrors) {
  ModelPlan plan = rankingPlan();
  plan.metrics = {ranking("r5", "recall", 5, "user")};
  ModelState state(plan);
  TopKStep step;
  EXPECT_EQ(test::errorOf([&] { evaluate(state, step, rankingData(plan)); }),
            "metric 'r5' has k = 5, but output 'top' retrieves only 3 items per row");

  plan.metrics = {ranking("r3", "recall", 3, "user")};
  plan.metrics[0].targetColumn = "click";
  EXPECT_EQ(test::errorOf([&] { ModelState bad(plan); }),
            "model plan: ranking metric 'r3' needs target column 'click' to be the column of "
            "a single-id categorical feature");
}

/// loss = the batch mean of x_i^2, plus 0.25 (a term independent of the rows).
class SquareLossStep : public StepFunction {
public:
  explicit SquareLossStep(int64_t fixed) : Fixed(fixed) {}
  int64_t fixedBatch() const override { return Fixed; }
  void run(const BatchSizes& batch, float* const* buf) override {
    const int64_t n = batch.source();
    double sum = 0;
    for (int64_t i = 0; i < n; ++i) {
      sum += double(buf[0][i]) * buf[0][i];
      buf[1][i] = buf[0][i];
    }
    *buf[2] = float(sum / double(n) + 0.25);
  }
  int64_t Fixed;
};

TEST(EvaluatorTest, LossOfAPaddedLastBatchIsTheMeanOverRealRows) {
  ModelPlan plan;
  plan.model = "square";
  plan.features = {{"x", "x", FeatureSpec::Kind::Dense, 0, 0, "", "none"}};
  plan.labels = {{"y", "y"}};
  plan.batchSize = 4;
  plan.evalStep = {"eval_step",
                   {{Role::Feature, "x", {-1, 1}},
                    {Role::Output, "p", {-1, 1}},
                    {Role::Loss, "loss", {}}}};
  ModelState state(plan);
  DataSet data(plan, 6);
  for (int r = 0; r < 6; ++r)
    data.dense(0)[r] = float(r + 1);
  // 6 rows in batches of 4: the fixed-batch step pads the second with 2
  // copies of row 0; the loss still is the mean over the 6 real rows.
  const double want = (1 + 4 + 9 + 16 + 25 + 36) / 6.0 + 0.25;
  for (int64_t fixed : {0, 4}) {
    SquareLossStep step(fixed);
    EvalResult r = evaluate(state, step, data);
    EXPECT_EQ(r.rows, 6);
    EXPECT_NEAR(r.loss, want, 1e-5) << "fixed batch " << fixed;
  }
}

} // namespace
} // namespace recc::rt
