// Registry sweep: every op in OpList.def has a shape rule, a reference kernel,
// and exactly one of a gradient rule, noGradient (zero gradient) or
// notDifferentiable (no gradient at all), and names round-trip. (MLIR
// lowerings are swept in tests/mlir/ops_test.cpp, as this library builds
// without MLIR; finite-difference and backend-agreement cases are swept in
// grad_test.cpp and tests/mlir/ops_test.cpp.)
#include "compiler/ops/OpDef.h"

#include <gtest/gtest.h>

using namespace recc;

TEST(Registry, EveryOpIsComplete) {
  for (size_t k = 0; k < kNumOps; ++k) {
    OpKind kind = (OpKind)k;
    const OpDef& def = opDef(kind);
    SCOPED_TRACE(std::string(opName(kind)));
    EXPECT_EQ(def.kind, kind);
    EXPECT_NE(def.infer, nullptr);
    EXPECT_NE(def.eval, nullptr);
    EXPECT_EQ((def.grad != nullptr) + def.noGradient + def.notDifferentiable, 1)
        << "needs exactly one of a gradient rule, noGradient or notDifferentiable";
    OpKind back;
    ASSERT_TRUE(opFromName(opName(kind), back));
    EXPECT_EQ(back, kind);
  }
}

TEST(Registry, BroadcastRejectsBatchPairedWithItself) {
  EXPECT_THROW(broadcastShapes(Shape{kBatchDim, 1}, Shape{kBatchDim}, "multiply"), ShapeError);
  EXPECT_EQ(broadcastShapes(Shape{kBatchDim, 4}, Shape{4}, "add"), (Shape{kBatchDim, 4}));
  EXPECT_EQ(broadcastShapes(Shape{kBatchDim, 1}, Shape{kBatchDim, 4}, "x"),
            (Shape{kBatchDim, 4}));
  EXPECT_THROW(broadcastShapes(Shape{kBatchDim, 3}, Shape{kBatchDim, 4}, "add"), ShapeError);
}

// group_sum: x [B,...] grouped by one id per row of the same batch.
TEST(Registry, GroupSumShapeRule) {
  auto infer = [](std::vector<Shape> in) {
    Attrs attrs;
    return opDef(OpKind::GroupSum).infer(ShapeCtx{in, attrs});
  };
  EXPECT_EQ(infer({Shape{kBatchDim, 32, 32}, Shape{kBatchDim, 1}}), (Shape{kBatchDim, 32, 32}));
  EXPECT_EQ(infer({Shape{kBatchDim, 1}, Shape{kBatchDim}}), (Shape{kBatchDim, 1}));
  EXPECT_THROW(infer({Shape{4}, Shape{kBatchDim, 1}}), ShapeError);                  // not batched
  EXPECT_THROW(infer({Shape{kBatchDim, 8}, Shape{kBatchDim, 5}}), ShapeError);       // ids [B,5]
  EXPECT_THROW(infer({Shape{kBatchDim, 8}, Shape{streamBatchDim(1), 1}}), ShapeError);  // stream
}
