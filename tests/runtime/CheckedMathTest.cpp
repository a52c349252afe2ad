// Tests of checked size arithmetic: helpers that report overflow, and the
// places that count sizes refusing what overflows by name instead of
// wrapping around to a small number.
#include "runtime/CheckedMath.h"
#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/SafeTensors.h"
#include "runtime/Tensor.h"

#include "TestUtil.h"

#include <limits>

namespace recc::rt {
namespace {

using test::contains;
using test::errorOf;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(CheckedMath, ReportsOverflow) {
  EXPECT_EQ(checkedMul(int64_t(1) << 31, int64_t(1) << 31), int64_t(1) << 62);
  EXPECT_EQ(checkedMul(int64_t(1) << 53, int64_t(1) << 24), std::nullopt);
  EXPECT_EQ(checkedAdd(kMax, 1), std::nullopt);
  EXPECT_EQ(checkedAdd(kMax - 1, 1), kMax);
  const std::vector<int64_t> huge{int64_t(1) << 24, int64_t(1) << 24, int64_t(1) << 24};
  EXPECT_EQ(checkedProduct(huge), std::nullopt);
  EXPECT_EQ(checkedProduct(std::vector<int64_t>{}), 1);
  EXPECT_EQ(checkedMulAdd(std::nullopt, 2, 0), std::nullopt);
  EXPECT_EQ(checkedMulAdd(3, 4, 5), 17);
}

TEST(CheckedMath, TensorSizesThatOverflowAreRefused) {
  EXPECT_EQ(errorOf([] { numElements({int64_t(1) << 40, int64_t(1) << 40}); }),
            "tensor shape [1099511627776,1099511627776] has more elements than 64-bit sizes "
            "can count");
  EXPECT_TRUE(contains(errorOf([] { Tensor t({int64_t(1) << 61, 2}); }), "too large"));
}

// The table of issue 14: 2^53 rows of 2^24 floats wrap around to a small size.
TEST(CheckedMath, HugeTablesAreRefusedByName) {
  ModelPlan plan = test::smallPlan();
  plan.tables[1].rows = int64_t(1) << 53;
  plan.tables[1].dim = int64_t(1) << 24;
  EXPECT_TRUE(contains(errorOf([&] { ModelState s(plan); }),
                       "model 'tiny': table 'item_emb' [9007199254740992, 16777216] is too "
                       "large"));
  // Each table fits, their sum does not.
  plan = test::smallPlan();
  for (int i = 0; i < 40; ++i)
    plan.tables.push_back({"t" + std::to_string(i), int64_t(1) << 53, 32, {"zeros", 0}});
  EXPECT_TRUE(contains(errorOf([&] { ModelState s(plan); }), "table 't"));
}

TEST(CheckedMath, DataSetSizesThatOverflowAreRefused) {
  ModelPlan plan = test::smallPlan();
  plan.features = {plan.features[1]};  // only 'hist': nothing is allocated first
  plan.features[0].maxLen = int64_t(1) << 40;
  EXPECT_EQ(errorOf([&] { DataSet d(plan, int64_t(1) << 30); }),
            "data set: 1073741824 rows of 1099511627776 ids of feature 'hist' overflow 64-bit "
            "sizes");
}

TEST(CheckedMath, CheckpointShapesThatOverflowAreRefused) {
  test::TempDir dir;
  std::string header =
      R"({"w":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}})";
  header.append((8 - header.size() % 8) % 8, ' ');
  std::string file(8, '\0');
  for (int i = 0; i < 8; ++i)
    file[i] = static_cast<char>(uint64_t(header.size()) >> (8 * i));
  test::writeText(dir.file("x.safetensors"), file + header);
  EXPECT_TRUE(contains(errorOf([&] { SafeTensorsReader r(dir.file("x.safetensors")); }),
                       "tensor 'w' has shape [4611686018427387904,4] whose size overflows"));
}

} // namespace
} // namespace recc::rt
