// Tests of AUC, GAUC (and its EasyRec reductions), logloss, NE, calibration,
// ctr and pctr against values computed by hand, including tied scores,
// one-class data (NaN with a note), label filters and per-group breakdowns;
// and of the
// ranking metrics (recall, precision, hitrate, ndcg, mrr, map @k) per row and
// per request, with repeated ids, padding, k below the width and |T| > k.
#include "runtime/Metrics.h"

#include "TestUtil.h"

#include <cmath>

namespace recc::rt {
namespace {

using V = std::vector<float>;

TEST(Metrics, AucCountsCorrectlyOrderedPairs) {
  // Pairs (pos, neg): (0.35,0.1) ok, (0.35,0.4) wrong, (0.8,*) ok -> 3/4.
  EXPECT_DOUBLE_EQ(auc(V{0.1f, 0.4f, 0.35f, 0.8f}, V{0, 0, 1, 1}), 0.75);
  EXPECT_DOUBLE_EQ(auc(V{0.9f, 0.8f, 0.1f}, V{1, 1, 0}), 1.0);
  EXPECT_DOUBLE_EQ(auc(V{0.1f, 0.8f, 0.9f}, V{1, 1, 0}), 0.0);
}

TEST(Metrics, AucTiesCountHalf) {
  // Positives 0.5 and 0.9, negatives 0.5, 0.5: 0.9 beats both (2), the tied
  // positive ties with both (2 x 0.5) -> 3 / 4.
  EXPECT_DOUBLE_EQ(auc(V{0.5f, 0.5f, 0.5f, 0.9f}, V{0, 1, 0, 1}), 0.75);
  EXPECT_DOUBLE_EQ(auc(V{0.3f, 0.3f, 0.3f}, V{1, 0, 1}), 0.5);
  // Two positives and three negatives with ties across the classes:
  // scores  pos {0.2, 0.6}, neg {0.2, 0.6, 0.6}:
  // 0.2 vs (0.2 tie .5, 0.6 0, 0.6 0) = .5; 0.6 vs (0.2 1, 0.6 .5, 0.6 .5) = 2.
  EXPECT_DOUBLE_EQ(auc(V{0.2f, 0.6f, 0.2f, 0.6f, 0.6f}, V{1, 1, 0, 0, 0}), 2.5 / 6);
}

TEST(Metrics, SingleClassIsNaNWithANote) {
  EXPECT_TRUE(std::isnan(auc(V{0.1f, 0.2f}, V{1, 1})));
  MetricSpec m{"auc", "auc", "p", "click", "", ""};
  MetricResult r = computeMetric(m, V{0.1f, 0.2f, 0.3f}, V{0, 0, 0}, {}, {});
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.note, "undefined: 0 positives and 3 negatives among 3 rows");
}

TEST(Metrics, GaucAveragesGroupsWithBothClasses) {
  // Group 7: AUC 1. Group 3: the positive scores below both negatives: 0.
  // Group 5: only positives, skipped. GAUC = (1 + 0) / 2.
  const V scores{0.9f, 0.2f, 0.1f, 0.8f, 0.5f, 0.4f, 0.6f};
  const V labels{1, 1, 0, 0, 0, 1, 1};
  const std::vector<int64_t> groups{7, 3, 7, 3, 3, 5, 5};
  int64_t skipped = -1;
  EXPECT_DOUBLE_EQ(gauc(scores, labels, groups, &skipped), 0.5);
  EXPECT_EQ(skipped, 1);
  MetricSpec m{"gauc", "gauc", "p", "click", "", "user"};
  MetricResult r = computeMetric(m, scores, labels, {}, groups);
  EXPECT_DOUBLE_EQ(r.value, 0.5);
  EXPECT_EQ(r.note, "1 one-class groups skipped");
  const std::vector<int64_t> one{1, 2, 3, 4, 5, 6, 7};
  EXPECT_EQ(computeMetric(m, scores, labels, {}, one).note,
            "undefined: none of the 7 groups has both classes");
}

TEST(Metrics, GaucReportsEveryGroupWithItsRowsAndPositives) {
  // As above: group 3 AUC 0, group 5 only positives (undefined, not 0.5),
  // group 7 AUC 1; groups come in increasing id.
  const V scores{0.9f, 0.2f, 0.1f, 0.8f, 0.5f, 0.4f, 0.6f};
  const V labels{1, 1, 0, 0, 0, 1, 1};
  const std::vector<int64_t> groups{7, 3, 7, 3, 3, 5, 5};
  MetricResult r = computeMetric({"gauc", "gauc", "p", "click", "", "user"}, scores, labels, {},
                                 groups);
  ASSERT_EQ(r.byGroup.size(), 3u);
  EXPECT_EQ(r.byGroup[0].group, 3);
  EXPECT_EQ(r.byGroup[0].rows, 3);
  EXPECT_EQ(r.byGroup[0].positives, 1);
  EXPECT_DOUBLE_EQ(r.byGroup[0].value, 0.0);
  EXPECT_EQ(r.byGroup[1].group, 5);
  EXPECT_EQ(r.byGroup[1].rows, 2);
  EXPECT_EQ(r.byGroup[1].positives, 2);
  EXPECT_TRUE(std::isnan(r.byGroup[1].value));
  EXPECT_EQ(r.byGroup[2].group, 7);
  EXPECT_DOUBLE_EQ(r.byGroup[2].value, 1.0);
  // The filter applies before grouping: without row 0, group 7 has one class.
  const V filter{0, 1, 1, 1, 1, 1, 1};
  MetricResult f = computeMetric({"gauc", "gauc", "p", "click", "buy", "user"}, scores, labels,
                                 filter, groups);
  ASSERT_EQ(f.byGroup.size(), 3u);
  EXPECT_EQ(f.byGroup[2].rows, 1);
  EXPECT_TRUE(std::isnan(f.byGroup[2].value));
  EXPECT_DOUBLE_EQ(f.value, 0.0);
}

TEST(Metrics, LoglossIsClampedCrossEntropy) {
  EXPECT_NEAR(logloss(V{0.8f, 0.3f}, V{1, 0}), -(std::log(0.8) + std::log(0.7)) / 2, 1e-7);
  EXPECT_NEAR(logloss(V{0.0f}, V{1}), -std::log(1e-7), 1e-6);
  EXPECT_NEAR(logloss(V{1.0f}, V{0}), -std::log(1e-7), 1e-3);
  // Soft label 0.25 at p = 0.5 costs ln 2 whatever the label.
  EXPECT_NEAR(logloss(V{0.5f}, V{0.25f}), std::log(2.0), 1e-7);
}

TEST(Metrics, FilterKeepsRowsWhereTheFilterLabelIsOne) {
  // CVR AUC on clicked rows only: rows 1 and 3 are not clicked; with them
  // the AUC would be 1/4 (only 0.9 > 0.2 of the four pairs is ordered).
  MetricSpec m{"cvr_auc", "auc", "pcvr", "buy", "click", ""};
  const V scores{0.9f, 0.1f, 0.2f, 0.95f};
  const V buy{1, 1, 0, 0};
  const V click{1, 0, 1, 0};
  MetricResult r = computeMetric(m, scores, buy, click, {});
  EXPECT_DOUBLE_EQ(r.value, 1.0);
  EXPECT_EQ(r.rows, 2);
  EXPECT_DOUBLE_EQ(auc(scores, buy), 0.25);
}

TEST(Metrics, NaNScoresAreReportedNotSorted) {
  MetricSpec m{"auc", "auc", "p", "click", "", ""};
  MetricResult r = computeMetric(m, V{0.1f, NAN, 0.3f}, V{0, 1, 1}, {}, {});
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.note, "undefined: output 'p' has 1 NaN scores");
}

TEST(Metrics, GaucReductionsAsEasyRecDefinesThem) {
  // EasyRec's own test case (easy_rec/python/test/metrics_test.py): group 1
  // labels 1,0,1,1,0 with scores .9,.8,.7,.6,.5: 4 of 6 pairs ordered, AUC
  // 2/3; group 2 labels 1,0,0,1 with .9,.8,.7,.6: 2 of 4, AUC 1/2.
  //   mean                 (2/3 + 1/2) / 2          = 0.583333
  //   mean_by_sample_num   (5 * 2/3 + 4 * 1/2) / 9  = 0.592593
  //   mean_by_positive_num (3 * 2/3 + 2 * 1/2) / 5  = 0.6
  const V scores{0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.9f, 0.8f, 0.7f, 0.6f};
  const V labels{1, 0, 1, 1, 0, 1, 0, 0, 1};
  const std::vector<int64_t> groups{1, 1, 1, 1, 1, 2, 2, 2, 2};
  EXPECT_NEAR(gauc(scores, labels, groups, nullptr, GaucReduce::Mean), 7.0 / 12, 1e-12);
  EXPECT_NEAR(gauc(scores, labels, groups, nullptr, GaucReduce::BySampleNum), 16.0 / 27, 1e-12);
  EXPECT_NEAR(gauc(scores, labels, groups, nullptr, GaucReduce::ByPositiveNum), 0.6, 1e-12);
  // One-class groups get no weight under any reduction: add a group of 10
  // negatives and nothing moves.
  V s2 = scores, y2 = labels;
  std::vector<int64_t> g2 = groups;
  for (int i = 0; i < 10; ++i)
    s2.push_back(0.1f * float(i)), y2.push_back(0), g2.push_back(3);
  MetricSpec m{"g", "gauc", "p", "click", "", "user"};
  m.reduce = "mean_by_sample_num";
  MetricResult r = computeMetric(m, s2, y2, {}, g2);
  EXPECT_NEAR(r.value, 16.0 / 27, 1e-12);
  EXPECT_EQ(r.note, "1 one-class groups skipped");
  ASSERT_EQ(r.byGroup.size(), 3u);
  EXPECT_EQ(r.byGroup[2].note, "undefined: one class (0 positives in 10 rows)");
  GaucReduce parsed;
  EXPECT_TRUE(parseGaucReduce("", parsed) && parsed == GaucReduce::Mean);
  EXPECT_TRUE(parseGaucReduce("mean_by_positive_num", parsed) && parsed == GaucReduce::ByPositiveNum);
  EXPECT_FALSE(parseGaucReduce("median", parsed));
}

TEST(Metrics, NormalizedEntropyIsLoglossOverTheBaseRateEntropy) {
  // Base rate 1/2: entropy ln 2. logloss = -(ln .8 + ln .7 + ln .6 + ln .9) / 4
  // = 0.299002, so NE = 0.431368.
  const V scores{0.8f, 0.3f, 0.6f, 0.1f};
  const V labels{1, 0, 1, 0};
  const double ll = -(std::log(0.8) + std::log(0.7) + std::log(0.6) + std::log(0.9)) / 4;
  EXPECT_NEAR(normalizedEntropy(scores, labels), ll / std::log(2.0), 1e-7);
  EXPECT_NEAR(normalizedEntropy(scores, labels), 0.431368, 1e-6);
  // Base rate 1/4: predicting 1/4 everywhere scores exactly 1.
  EXPECT_NEAR(normalizedEntropy(V{0.25f, 0.25f, 0.25f, 0.25f}, V{1, 0, 0, 0}), 1.0, 1e-7);
  // One class: the base rate's entropy is 0, NE is undefined.
  MetricSpec m{"ne", "ne", "p", "click", "", ""};
  MetricResult r = computeMetric(m, V{0.1f, 0.2f}, V{0, 0}, {}, {});
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.note, "undefined: the base rate is 0 (0 positives among 2 rows), whose entropy is 0");
}

TEST(Metrics, CalibrationCtrAndPctr) {
  const V scores{0.2f, 0.4f, 0.6f};
  const V labels{0, 1, 0};
  auto value = [&](const char* kind) {
    return computeMetric({kind, kind, "p", "click", "", ""}, scores, labels, {}, {}).value;
  };
  EXPECT_NEAR(value("calibration"), 1.2, 1e-7);  // (0.2 + 0.4 + 0.6) / 1
  EXPECT_NEAR(value("ctr"), 1.0 / 3, 1e-12);
  EXPECT_NEAR(value("pctr"), 0.4, 1e-7);
  MetricResult none = computeMetric({"c", "calibration", "p", "click", "", ""}, scores,
                                    V{0, 0, 0}, {}, {});
  EXPECT_TRUE(std::isnan(none.value));
  EXPECT_EQ(none.note, "undefined: the labels of the 3 rows sum to 0");
  // The filter applies first: CVR's ctr over clicked rows (rows 0 and 1).
  MetricResult cvr = computeMetric({"cvr", "ctr", "p", "buy", "click", ""}, scores, labels,
                                   V{1, 1, 0}, {});
  EXPECT_DOUBLE_EQ(cvr.value, 0.5);
  EXPECT_EQ(cvr.rows, 2);
  EXPECT_EQ(cvr.positives, 1);
  // No rows left: every kind is undefined, with the same note.
  for (const char* kind : {"auc", "logloss", "ne", "calibration", "ctr", "pctr"}) {
    MetricResult empty =
        computeMetric({kind, kind, "p", "buy", "click", ""}, scores, labels, V{0, 0, 0}, {});
    EXPECT_TRUE(std::isnan(empty.value)) << kind;
    EXPECT_EQ(empty.note, "undefined: no rows") << kind;
  }
}

TEST(Metrics, BreakdownReportsTheMetricOverEachGroupsRows) {
  // Scenario 0: rows 0-2, scenario 4: rows 3-5. The value stays the metric
  // over all rows; each group's is the metric over its rows alone.
  const V scores{0.9f, 0.1f, 0.5f, 0.2f, 0.3f, 0.8f};
  const V labels{1, 0, 0, 0, 0, 0};
  const std::vector<int64_t> scenario{0, 0, 0, 4, 4, 4};
  MetricSpec m{"a", "auc", "p", "click", "", "scenario"};
  MetricResult r = computeMetric(m, scores, labels, {}, scenario);
  EXPECT_DOUBLE_EQ(r.value, 1.0);  // the positive (0.9) is above all five negatives
  ASSERT_EQ(r.byGroup.size(), 2u);
  EXPECT_EQ(r.byGroup[0].group, 0);
  EXPECT_EQ(r.byGroup[0].rows, 3);
  EXPECT_EQ(r.byGroup[0].positives, 1);
  EXPECT_DOUBLE_EQ(r.byGroup[0].value, 1.0);
  EXPECT_TRUE(std::isnan(r.byGroup[1].value));  // scenario 4 has no positive
  EXPECT_EQ(r.byGroup[1].note, "undefined: 0 positives and 3 negatives among 3 rows");
  // ctr by scenario: 1/3 and 0; calibration by scenario: 1.5 / 1 and undefined.
  MetricResult c = computeMetric({"c", "ctr", "p", "click", "", "s"}, scores, labels, {}, scenario);
  EXPECT_DOUBLE_EQ(c.value, 1.0 / 6);
  EXPECT_DOUBLE_EQ(c.byGroup[0].value, 1.0 / 3);
  EXPECT_DOUBLE_EQ(c.byGroup[1].value, 0.0);
  MetricResult k =
      computeMetric({"k", "calibration", "p", "click", "", "s"}, scores, labels, {}, scenario);
  EXPECT_NEAR(k.byGroup[0].value, 1.5, 1e-7);
  EXPECT_TRUE(std::isnan(k.byGroup[1].value));
  // The filter applies before grouping: only rows 0 and 5 are kept.
  MetricResult f = computeMetric({"c", "ctr", "p", "click", "buy", "s"}, scores, labels,
                                 V{1, 0, 0, 0, 0, 1}, scenario);
  ASSERT_EQ(f.byGroup.size(), 2u);
  EXPECT_EQ(f.byGroup[0].rows, 1);
  EXPECT_EQ(f.byGroup[1].rows, 1);
}

TEST(Metrics, BreakdownOfTooManyGroupsIsLeftOutWithANote) {
  const int64_t n = kMaxBreakdownGroups + 1;
  V scores(n, 0.5f), labels(n, 0.0f);
  labels[0] = 1;
  std::vector<int64_t> groups(n);
  for (int64_t i = 0; i < n; ++i)
    groups[i] = i;
  MetricResult r = computeMetric({"c", "ctr", "p", "click", "", "u"}, scores, labels, {}, groups);
  EXPECT_TRUE(r.byGroup.empty());
  EXPECT_DOUBLE_EQ(r.value, 1.0 / double(n));
  EXPECT_EQ(r.note, "no breakdown: more than 4096 groups");
}

using I = std::vector<int64_t>;

MetricSpec ranking(const std::string& kind, int64_t k) {
  MetricSpec m;
  m.name = kind;
  m.kind = kind;
  m.output = "top";
  m.targetColumn = "item_id";
  m.k = k;
  return m;
}

double rank(const std::string& kind, int64_t k, const I& top, int64_t width, const I& targets,
            const V& filter = {}, const I& groups = {}) {
  return computeRankingMetric(ranking(kind, k), top, width, targets, filter, groups).value;
}

TEST(RankingMetrics, EachRowIsARequestByDefault) {
  // k = 3 of width 4. Row 0 finds its target at rank 2, row 1 at rank 4
  // (past k: a miss), row 2 at rank 1.
  I top{5, 2, 9, 1, /**/ 7, 8, 3, 4, /**/ 3, 1, 2, 0};
  I tgt{2, 4, 3};
  EXPECT_DOUBLE_EQ(rank("recall", 3, top, 4, tgt), 2.0 / 3);
  EXPECT_DOUBLE_EQ(rank("precision", 3, top, 4, tgt), 2.0 / 9);
  EXPECT_DOUBLE_EQ(rank("hitrate", 3, top, 4, tgt), 2.0 / 3);
  EXPECT_DOUBLE_EQ(rank("mrr", 3, top, 4, tgt), (0.5 + 0 + 1) / 3);
  EXPECT_DOUBLE_EQ(rank("ndcg", 3, top, 4, tgt), (1 / std::log2(3.0) + 0 + 1) / 3);
  EXPECT_DOUBLE_EQ(rank("map", 3, top, 4, tgt), (0.5 + 0 + 1) / 3);
  // k = 0 means the whole width: row 1's rank-4 target now counts.
  EXPECT_DOUBLE_EQ(rank("recall", 0, top, 4, tgt), 1.0);
  EXPECT_DOUBLE_EQ(rank("mrr", 0, top, 4, tgt), (0.5 + 0.25 + 1) / 3);
}

TEST(RankingMetrics, RequestsPoolTheirTargetsAndUseTheFirstRowsList) {
  // User 10: rows 0-2, row 2 filtered out, so T = {2, 9}; the list is row 0's.
  // User 20: rows 3-4, T = {4} (row 4 has no target); its list repeats 4,
  // which counts once.
  I top{5, 2, 9, 1, /**/ 0, 0, 0, 0, /**/ 7, 7, 7, 7, /**/ 4, 4, 6, 8, /**/ 6, 8, 4, 4};
  I tgt{2, 9, 7, 4, -1};
  V filter{1, 1, 0, 1, 1};
  I groups{10, 10, 10, 20, 20};
  auto r = [&](const char* kind) { return rank(kind, 4, top, 4, tgt, filter, groups); };
  // User 10: hits at ranks 2 and 3. User 20: a hit at rank 1.
  EXPECT_DOUBLE_EQ(r("recall"), 1.0);
  EXPECT_DOUBLE_EQ(r("precision"), (2.0 / 4 + 1.0 / 4) / 2);
  EXPECT_DOUBLE_EQ(r("hitrate"), 1.0);
  EXPECT_DOUBLE_EQ(r("mrr"), (0.5 + 1) / 2);
  double ndcg10 = (1 / std::log2(3.0) + 1 / std::log2(4.0)) / (1 + 1 / std::log2(3.0));
  EXPECT_DOUBLE_EQ(r("ndcg"), (ndcg10 + 1) / 2);
  EXPECT_DOUBLE_EQ(r("map"), ((1.0 / 2 + 2.0 / 3) / 2 + 1) / 2);
  MetricResult res = computeRankingMetric(ranking("recall", 4), top, 4, tgt, filter, groups);
  EXPECT_EQ(res.rows, 4);
}

TEST(RankingMetrics, MoreTargetsThanK) {
  // T = {1, 2, 3}, k = 2, only id 1 retrieved (rank 1): the ideal DCG and the
  // AP denominator stop at k.
  I top{1, 5, 2};
  I tgt{1, 2, 3};
  I groups{0, 0, 0};
  I top3{1, 5, 2, 1, 5, 2, 1, 5, 2};
  EXPECT_DOUBLE_EQ(rank("recall", 2, top3, 3, tgt, {}, groups), 1.0 / 3);
  EXPECT_DOUBLE_EQ(rank("precision", 2, top3, 3, tgt, {}, groups), 0.5);
  EXPECT_DOUBLE_EQ(rank("ndcg", 2, top3, 3, tgt, {}, groups), 1 / (1 + 1 / std::log2(3.0)));
  EXPECT_DOUBLE_EQ(rank("map", 2, top3, 3, tgt, {}, groups), 0.5);
  // A duplicate target is one relevant item.
  EXPECT_DOUBLE_EQ(rank("recall", 3, I{1, 5, 2, 1, 5, 2}, 3, I{2, 2}, {}, I{7, 7}), 1.0);
  (void)top;
}

TEST(RankingMetrics, PaddingIsNeverAHitAndNoTargetIsNaN) {
  // A corpus smaller than k pads the list with -1; a target of -1 is none.
  EXPECT_DOUBLE_EQ(rank("hitrate", 3, I{-1, -1, -1, 4, -1, -1}, 3, I{-1, 4}), 1.0);
  EXPECT_DOUBLE_EQ(rank("precision", 3, I{4, -1, -1}, 3, I{4}), 1.0 / 3);
  MetricResult r = computeRankingMetric(ranking("ndcg", 2), I{1, 2}, 2, I{-1}, {}, {});
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.note, "undefined: none of the 1 requests has a relevant item");
  r = computeRankingMetric(ranking("ndcg", 2), I{1, 2}, 2, I{1}, V{0}, {});
  EXPECT_TRUE(std::isnan(r.value));
  EXPECT_EQ(r.note, "undefined: none of the 0 requests has a relevant item");
  EXPECT_TRUE(isRankingMetric("mrr"));
  EXPECT_FALSE(isRankingMetric("auc"));
}

} // namespace
} // namespace recc::rt
