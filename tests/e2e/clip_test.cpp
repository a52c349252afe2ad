// clip_norm (runtime/GradientClip.h) on both backends, against hand-computed
// values. The model p = w·x + b + e[u] under mse on two rows, from w = b = 0
// and a zero table:
//   x = [1, 2], u = [3, 3] (one id twice), targets x + 2y = [3, 4]
//   dL/dp = p - t = [-3, -4]   (mse = mean of squares over the 2 rows)
//   grad w = -3·1 - 4·2 = -11, grad b = -7,
//   table e: row 3's gradient is the sum over its two occurrences, -7
//   (PyTorch's nn.Embedding gradient; counting each occurrence alone would
//   give 9 + 16 = 25 instead of 49 in the sum of squares)
//   global norm = sqrt(121 + 49 + 49) = sqrt(219)
// SGD with lr 1 then moves w, b, e[3] by 11·f, 7·f, 7·f with
// f = min(1, clip / (sqrt(219) + 1e-6)).
#include "CompileHelpers.h"
#include "runtime/ModelPlan.h"
#include "runtime/StepRunner.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

using namespace recc;

namespace {

using e2etest::Backend;
using e2etest::compile;
using e2etest::stepFor;

std::string model(const std::string& clip) {
  return R"(model clip {
  input x : dense
  input u : id(4)
  label y
  table e[4, 1]
  p = dense(x, 1) + embed(e, u)
  loss l = mse(p, x + 2 * y)
  output p
  train { optimizer = sgd(lr = 1)  batch = 2  )" + clip + R"( }
})";
}

float param(rt::ModelState& s, const std::string& suffix) {
  for (int i = 0; i < s.params.size(); ++i)
    if (s.params.name(i).ends_with(suffix)) return s.params.value(i).data()[0];
  throw std::runtime_error("no parameter ending in " + suffix);
}

struct Case {
  Backend backend;
  double clip;  // 0: no clip_norm setting
};

class ClipTest : public ::testing::TestWithParam<Case> {};

TEST_P(ClipTest, OneStepMatchesHandComputedUpdate) {
  const Case c = GetParam();
  CompiledModel m = compile(model(c.clip > 0 ? "clip_norm = " + std::to_string(c.clip) : ""));
  EXPECT_EQ(m.plan.clipNorm, c.clip);
  rt::ModelState state(m.plan);
  for (int i = 0; i < state.params.size(); ++i) state.params.value(i).fill(0.0f);
  state.tables[state.tableIndex("e")].weights().fill(0.0f);
  rt::DataSet data(m.plan, 2);
  data.dense(0)[0] = 1, data.dense(0)[1] = 2;
  data.ids(1)[0] = 3, data.ids(1)[1] = 3;
  data.label(0)[0] = 1, data.label(0)[1] = 1;
  auto train = stepFor(m.trainGraph, 2, c.backend);
  rt::StepRunner runner(m.plan.trainStep, state, *train, 2, "train step");
  const std::vector<int64_t> rows{0, 1};
  runner.run(data, rows, 1);
  runner.applyGradients();
  const double norm = std::sqrt(219.0);
  const double f = c.clip > 0 ? std::min(1.0, c.clip / (norm + 1e-6)) : 1.0;
  if (c.clip > 0) EXPECT_NEAR(runner.lastGradientNorm(), norm, 1e-5);
  else EXPECT_TRUE(std::isnan(runner.lastGradientNorm()));
  EXPECT_NEAR(param(state, ".w"), 11 * f, 1e-5);
  EXPECT_NEAR(param(state, ".b"), 7 * f, 1e-5);
  const float* e = state.tables[state.tableIndex("e")].weights().data();
  EXPECT_NEAR(e[3], 7 * f, 1e-5);
  EXPECT_EQ(e[0], 0.0f);
}

INSTANTIATE_TEST_SUITE_P(
    Backends, ClipTest,
    ::testing::Values(Case{Backend::Reference, 0}, Case{Backend::Reference, 1},
                      Case{Backend::Reference, 100}, Case{Backend::Mlir, 0},
                      Case{Backend::Mlir, 1}, Case{Backend::Mlir, 100}),
    [](const auto& info) {
      return std::string(info.param.backend == Backend::Mlir ? "Mlir" : "Reference") +
             (info.param.clip > 0 ? "Clip" + std::to_string(int(info.param.clip)) : "NoClip");
    });

TEST(ClipPlan, SurvivesTheStandaloneTrainersJson) {
  CompiledModel m = compile(model("clip_norm = 2.5"));
  EXPECT_EQ(rt::planFromJson(rt::toJson(m.plan)).clipNorm, 2.5);
  CompiledModel none = compile(model(""));
  EXPECT_EQ(rt::toJson(none.plan).find("clipNorm"), std::string::npos);
  std::string bad = rt::toJson(m.plan);
  bad.replace(bad.find("2.5"), 3, "-1");
  try {
    rt::planFromJson(bad);
    FAIL() << "a negative clipNorm was accepted";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("'clipNorm'"), std::string::npos) << e.what();
  }
}

} // namespace
