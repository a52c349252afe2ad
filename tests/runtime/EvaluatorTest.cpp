// Ranking metrics through the Evaluator: a fake eval step returns a fixed
// top-3 list per user (as float ids, the way compiled steps hand them over),
// and recall/hitrate/mrr are checked against values worked out by hand. The
// batch size (3) splits a user's rows over batches, so requests must be
// pooled over the whole data set, not per batch.
#include "runtime/Evaluator.h"

#include "TestUtil.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;

// Retrieved items of each user, best first; -1 is padding, user 1 repeats
// item 1 (counted once).
const std::map<int, std::vector<float>> kTop = {
    {0, {5, 2, 7}}, {1, {1, 1, 3}}, {2, {4, -1, -1}}, {3, {9, 8, 6}}};

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

class TopKStep : public StepFunction {
public:
  void run(int64_t n, float* const* buf) override {
    for (int64_t i = 0; i < n; ++i) {
      // Padded rows of a last batch carry id -1: still write the whole row.
      auto it = kTop.find(int(buf[0][i]));
      for (int j = 0; j < 3; ++j)
        buf[1][i * 3 + j] = it == kTop.end() ? -1.0f : it->second[j];
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
  // Per user, T = distinct items of its rows: u0 {2,7,3} finds 2,7 of
  // [5,2,7] -> 2/3; u1 {3,1} finds both -> 1; u2 {0} -> 0; u3 {6} -> 1.
  EXPECT_DOUBLE_EQ(r.metrics["recall3"], (2.0 / 3 + 1 + 0 + 1) / 4);
  // Each row alone, top 2: only row 0 (2 in [5,2]) and row 6 (1 in [1,1]).
  EXPECT_DOUBLE_EQ(r.metrics["hit2"], 2.0 / 7);
  // Clicked rows only: u0 {2,3} -> 1/2, u1 {3} -> 1, u2 {0} -> 0.
  EXPECT_DOUBLE_EQ(r.metrics["recall3_click"], (0.5 + 1 + 0) / 3);
  // k = 0 means the whole list; first-hit ranks 2, 3, -, 3, -, 3, 1.
  EXPECT_DOUBLE_EQ(r.metrics["mrr"], (0.5 + 1.0 / 3 + 1.0 / 3 + 1.0 / 3 + 1) / 7);
  EXPECT_TRUE(r.notes.empty());
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

} // namespace
} // namespace recc::rt
