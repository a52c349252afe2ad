// Tests of AUC, GAUC and logloss against values computed by hand, including
// tied scores, one-class data (NaN with a note) and label filters.
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

} // namespace
} // namespace recc::rt
