// Tests of the Fairness Coefficient (paper Eq. 1 with spec 7.11's rules): the ratio of an
// item's mean prediction to its scenario's, 1 below 10 impressions, clipped to [0.1, 10].
#include "examples/sarnet/Fairness.h"

#include <gtest/gtest.h>

#include <cmath>

namespace recc::sarnet {
namespace {

TEST(FairnessTest, EquationOneIsTheRatioOfMeanPredictions) {
  FairnessTable t(3, 2);
  for (int k = 0; k < 10; ++k) t.add(0, 0, 0.2);  // item 0: 10 impressions at 0.2
  for (int k = 0; k < 30; ++k) t.add(1, 0, 0.1);  // item 1: 30 at 0.1
  t.finish();
  // Scenario 0: F = 2 + 3 = 5 over PV = 40. Item 0: (2/5) / (10/40) = 1.6.
  EXPECT_NEAR(t.fc(0, 0), 1.6, 1e-12);
  EXPECT_NEAR(t.fc(1, 0), (3.0 / 5) / (30.0 / 40), 1e-12);
}

TEST(FairnessTest, FewerThanTenImpressionsGiveOne) {
  FairnessTable t(2, 1);
  for (int k = 0; k < 9; ++k) t.add(0, 0, 0.9);
  for (int k = 0; k < 100; ++k) t.add(1, 0, 0.01);
  t.finish();
  EXPECT_EQ(t.fc(0, 0), 1.0);
  EXPECT_TRUE(std::isnan(t.rawRatio(0, 0)));
  t = FairnessTable(2, 1);
  for (int k = 0; k < 10; ++k) t.add(0, 0, 0.9);
  for (int k = 0; k < 100; ++k) t.add(1, 0, 0.01);
  t.finish();
  EXPECT_GT(t.fc(0, 0), 1.0);  // the tenth impression makes it count
}

TEST(FairnessTest, ClippedToATenthAndTen) {
  FairnessTable t(3, 1);
  for (int k = 0; k < 10; ++k) t.add(0, 0, 0.5);     // far above the mean
  for (int k = 0; k < 10; ++k) t.add(1, 0, 0.0001);  // far below
  for (int k = 0; k < 10000; ++k) t.add(2, 0, 0.01);
  t.finish();
  EXPECT_GT(t.rawRatio(0, 0), 10);
  EXPECT_EQ(t.fc(0, 0), 10.0);
  EXPECT_LT(t.rawRatio(1, 0), 0.1);
  EXPECT_EQ(t.fc(1, 0), 0.1);
  EXPECT_NEAR(t.fc(2, 0), 0.01 / ((5 + 0.001 + 100) / 10020), 1e-9);  // not clipped
}

TEST(FairnessTest, ScenariosAreSeparate) {
  FairnessTable t(2, 2);
  for (int k = 0; k < 20; ++k) t.add(0, 0, 0.1), t.add(1, 0, 0.1);  // scenario 0: all alike
  for (int k = 0; k < 20; ++k) t.add(0, 1, 0.3), t.add(1, 1, 0.1);  // scenario 1: 0 is better
  t.finish();
  EXPECT_NEAR(t.fc(0, 0), 1.0, 1e-12);
  EXPECT_NEAR(t.fc(0, 1), 1.5, 1e-12);
  EXPECT_NEAR(t.fc(1, 1), 0.5, 1e-12);
}

} // namespace
} // namespace recc::sarnet
