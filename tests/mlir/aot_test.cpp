// The AOT object (written by aot_gen at build time) linked into a plain
// program without MLIR: both step symbols give the reference's numbers.
#include "JitCompare.h"
#include "TestModels.h"

#include <gtest/gtest.h>

extern "C" void aot_train_step(float** buffers);
extern "C" void aot_eval_step(float** buffers);
extern "C" void aot_train_step_mt(float** buffers);

using namespace recc;
using namespace recc::mlirtest;

namespace {
// Weights at a Glorot-like scale: with [-1, 1] weights the sigmoids saturate
// and log(1 - p) near p = 1 turns f32 rounding of p into percent-level
// gradient differences (ill-conditioning, not a compiler error).
const std::map<std::string, Range> kRanges{
    {"w1", {-0.1, 0.1}}, {"w2", {-0.1, 0.1}}, {"w3", {-0.1, 0.1}},
    {"y1", {0, 1}}, {"y2", {0, 1}}, {"seed", {99, 99}}};
constexpr int64_t kBatch = 9;  // must match aot_gen
}  // namespace

TEST(MlirAot, TrainStep) {
  Mismatch m = compareRun(esmmLikeGraph(true), kBatch,
                          [](float* const* b) { aot_train_step(const_cast<float**>(b)); }, kRanges);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirAot, EvalStep) {
  Mismatch m = compareRun(esmmLikeGraph(false), kBatch,
                          [](float* const* b) { aot_eval_step(const_cast<float**>(b)); }, kRanges);
  EXPECT_TRUE(m.ok) << m.where;
}

TEST(MlirAot, TwoThreadTrainStep) {
  Mismatch m = compareRun(esmmLikeGraph(true, 96, 256), 200,
                          [](float* const* b) { aot_train_step_mt(const_cast<float**>(b)); },
                          kRanges, Tolerance{1e-5, 2e-4});
  EXPECT_TRUE(m.ok) << m.where;
}
