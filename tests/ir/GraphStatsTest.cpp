// peakLiveBytes: the estimate of a step's activations that `recc check` and
// the reference backend give the up-front memory check.
#include "compiler/ir/GraphStats.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace recc {
namespace {

/// x -> relu -> relu -> relu (output), every value [B, 8].
Graph chain() {
  Graph g;
  NodeId x = g.add(OpKind::Input, {});
  g.addInput(x, ValueRole::Feature, "x");
  NodeId a = g.add(OpKind::Relu, {x});
  NodeId b = g.add(OpKind::Relu, {a});
  NodeId c = g.add(OpKind::Relu, {b});
  g.addOutput(c, ValueRole::Output, "c");
  for (NodeId n : {x, a, b, c}) g.node(n).shape = Shape({kBatchDim, 8});
  return g;
}

TEST(PeakLiveBytes, InputsOutputsAndTwoIntermediatesAtOnce) {
  // x and c live throughout; b is computed while a is still live.
  EXPECT_EQ(peakLiveBytes(chain(), 100, 4), 4 * 100 * 8 * 4);
  EXPECT_EQ(peakLiveBytes(chain(), 100, 8), 4 * 100 * 8 * 8);
}

TEST(PeakLiveBytes, ScalesWithTheBatch) {
  EXPECT_EQ(peakLiveBytes(chain(), 1'000'000, 4), int64_t(4) * 1'000'000 * 8 * 4);
}

TEST(PeakLiveBytes, OverflowIsRefusedNamingTheShape) {
  Graph g = chain();
  g.node(1).shape = Shape({kBatchDim, int64_t(1) << 40});
  try {
    peakLiveBytes(g, int64_t(1) << 24, 4);
    FAIL() << "no overflow reported";
  } catch (const std::overflow_error& e) {
    EXPECT_NE(std::string(e.what()).find("[B,1099511627776]"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace recc
