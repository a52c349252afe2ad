// Every shipped model (ESMM, ESM² and the baselines; models with a second
// input stream read the same rows in each stream here) trains for several
// steps from the same seed on the MLIR backend and on the reference executor;
// their losses must agree. The reference computes in double and the MLIR code
// in float, so agreement is checked to a relative tolerance, step by step.
// The paper models' losses must also go down.
#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/mlir/Backend.h"
#include "compiler/passes/CompileModel.h"
#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/StepRunner.h"
#include "dsl/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <numeric>
#include <optional>
#include <random>

using namespace recc;

namespace {

constexpr int kSteps = 6;
constexpr int64_t kBatch = 64;
constexpr double kLossTolerance = 2e-3;  // relative, per step

rt::DataSet randomData(const rt::ModelPlan& plan, int64_t rows) {
  rt::DataSet data(plan, rows);
  std::mt19937_64 rng(11);
  for (size_t f = 0; f < plan.features.size(); ++f) {
    if (plan.features[f].kind == rt::FeatureSpec::Kind::Dense) {
      std::normal_distribution<float> n(3.0f, 2.0f);
      for (auto& v : data.dense((int)f)) v = n(rng);
    } else {
      std::uniform_int_distribution<int64_t> u(0, std::min<int64_t>(plan.features[f].vocab, 500) - 1);
      for (auto& id : data.ids((int)f)) id = u(rng);
    }
  }
  // Funnel-consistent labels: daction/buy only on clicks.
  int click = data.labelIndex("click");
  for (int64_t r = 0; r < rows; ++r) {
    bool clicked = rng() % 3 == 0;
    for (size_t l = 0; l < plan.labels.size(); ++l)
      data.label((int)l)[r] = (int)l == click ? clicked : (clicked && rng() % 2 == 0);
  }
  return data;
}

/// Data with a signal every model can find: z is a fixed function of the
/// first id of each categorical feature; each label is drawn with probability
/// sigmoid(z) (labels other than `click` only on clicked rows, as in a funnel),
/// and each dense feature is sigmoid(z + noise), in (0, 1) like the soft
/// targets some models read as dense inputs (DAMCAR's y_rank).
rt::DataSet plantedData(const rt::ModelPlan& plan, int64_t rows) {
  rt::DataSet data = randomData(plan, rows);
  // s_f in {-1, -0.5, 0, 0.5, 1} per row and categorical feature; z adds them
  // up and adds the product of the first two (what a two-tower dot can fit).
  std::vector<double> z(rows, 0.0), first(rows, 0.0);
  int seen = 0;
  for (size_t f = 0; f < plan.features.size(); ++f) {
    if (plan.features[f].kind == rt::FeatureSpec::Kind::Dense) continue;
    auto ids = data.ids((int)f);
    int64_t width = data.width((int)f);
    for (int64_t r = 0; r < rows; ++r) {
      double sf = ((ids[r * width] * 7919 % 5) - 2) / 2.0;
      z[r] += 0.8 * sf;
      if (seen == 0) first[r] = sf;
      if (seen == 1) z[r] += 2.0 * first[r] * sf;
    }
    ++seen;
  }
  std::mt19937_64 rng(23);
  std::uniform_real_distribution<double> u(0, 1);
  std::normal_distribution<double> noise(0, 0.5);
  auto sigmoid = [](double x) { return 1 / (1 + std::exp(-x)); };
  for (size_t f = 0; f < plan.features.size(); ++f)
    if (plan.features[f].kind == rt::FeatureSpec::Kind::Dense)
      for (int64_t r = 0; r < rows; ++r) data.dense((int)f)[r] = (float)sigmoid(z[r] + noise(rng));
  int click = data.labelIndex("click");
  for (int64_t r = 0; r < rows; ++r) {
    double p = sigmoid(z[r]);
    bool clicked = u(rng) < p;
    for (size_t l = 0; l < plan.labels.size(); ++l) {
      bool positive = (int)l == click ? clicked : u(rng) < p;
      data.label((int)l)[r] = click >= 0 && (int)l != click ? clicked && positive : positive;
    }
  }
  return data;
}

std::vector<double> lossCurve(const CompiledModel& model, std::unique_ptr<rt::StepFunction> fn,
                              int steps = kSteps, bool planted = false) {
  rt::ModelState state(model.plan);
  rt::DataSet data = planted ? plantedData(model.plan, kBatch * steps)
                             : randomData(model.plan, kBatch * steps);
  // Standardized features (zscore, tanh_zscore) use the data's statistics,
  // as training computes them before its first step.
  state.stats = rt::computeFeatureStats(model.plan, data);
  rt::StepRunner runner(model.plan.trainStep, state, *fn, kBatch, "train step");
  std::vector<int64_t> rows(kBatch);
  std::vector<double> losses;
  for (int s = 0; s < steps; ++s) {
    std::iota(rows.begin(), rows.end(), (int64_t)s * kBatch);
    runner.run(data, rows, (uint32_t)(100 + s));
    losses.push_back(runner.loss());
    runner.applyGradients();
  }
  return losses;
}

std::string modelPath(const std::string& file) {
  return std::string(RECC_SOURCE_DIR) + "/models/" + file;
}

/// A shipped model compiled for batches of kBatch rows. Paper-sized tables
/// (ZEUS: 10^8 rows) would not fit; the steps only see the rows the data uses
/// (ids < 500), so tables shrink to 1000 rows.
std::optional<CompiledModel> testModel(const std::string& file, const std::string& name) {
  DiagnosticEngine diag(&std::cerr);
  auto model = compileModelFile(modelPath(file), name, diag);
  EXPECT_TRUE(model) << diag.render();
  if (!model) return std::nullopt;
  model->plan.batchSize = kBatch;
  for (auto& t : model->plan.tables) t.rows = std::min<int64_t>(t.rows, 1000);
  for (auto& f : model->plan.features) f.vocab = std::min<int64_t>(f.vocab, 1000);
  // A table's EMA shadow is shaped like the table.
  for (auto& st : model->plan.states)
    if (st.table) st.shape[0] = std::min<int64_t>(st.shape[0], 1000);
  return model;
}

std::vector<double> agreeingLosses(const std::string& file, const std::string& name) {
  auto model = testModel(file, name);
  if (!model) return {};
  auto ref = lossCurve(*model, makeReferenceStep(model->trainGraph));
  auto jit = lossCurve(*model, compileJit(model->trainGraph, kBatch, {}));
  for (int s = 0; s < kSteps; ++s) {
    SCOPED_TRACE("step " + std::to_string(s));
    EXPECT_TRUE(std::isfinite(ref[s]));
    EXPECT_NEAR(jit[s], ref[s], kLossTolerance * std::fabs(ref[s]));
  }
  return ref;
}

void expectBackendsAgree(const std::string& file) {
  auto ref = agreeingLosses(file, "");
  ASSERT_EQ(ref.size(), (size_t)kSteps);
  EXPECT_LT(ref.back(), ref.front()) << "the loss should go down over " << kSteps << " steps";
}

struct ModelRef {
  std::string file, model;
};

/// How gtest (and so ctest's test list) shows a case: "file.rec:model".
void PrintTo(const ModelRef& r, std::ostream* os) { *os << r.file << ":" << r.model; }

/// (file, model) of every shipped model other than ESMM/ESM² that compiles,
/// in name order.
std::vector<ModelRef> runnableBaselines() {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(std::string(RECC_SOURCE_DIR) + "/models"))
    if (e.path().extension() == ".rec") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  std::vector<ModelRef> out;
  for (const auto& f : files) {
    if (f == "esm2.rec" || f == "esmm.rec") continue;
    std::ifstream in(modelPath(f));
    std::stringstream text;
    text << in.rdbuf();
    DiagnosticEngine diag;
    auto prog = parseProgram(f, text.str(), diag);
    for (const auto& d : prog->decls) {
      auto* m = ast::dynCast<ast::ModelDecl>(d.get());
      if (!m) continue;
      DiagnosticEngine quiet;
      auto model = compileModelFile(modelPath(f), m->name.name, quiet);
      if (model) out.push_back({f, m->name.name});
    }
  }
  return out;
}

class RunnableModel : public ::testing::TestWithParam<ModelRef> {};

TEST_P(RunnableModel, BackendsAgree) { agreeingLosses(GetParam().file, GetParam().model); }

/// A few hundred MLIR steps on planted data: the mean loss of the last 30
/// steps is below that of the first 30.
TEST_P(RunnableModel, LossGoesDownOnPlantedData) {
  constexpr int kLongSteps = 300, kWindow = 30;
  auto model = testModel(GetParam().file, GetParam().model);
  ASSERT_TRUE(model);
  auto losses = lossCurve(*model, compileJit(model->trainGraph, kBatch, {}), kLongSteps, true);
  auto mean = [&](int from) {
    return std::accumulate(losses.begin() + from, losses.begin() + from + kWindow, 0.0) / kWindow;
  };
  for (double l : losses) ASSERT_TRUE(std::isfinite(l));
  std::cerr << GetParam().model << ": mean loss of the first " << kWindow << " steps "
            << mean(0) << ", of the last " << mean(kLongSteps - kWindow) << "\n";
  EXPECT_LT(mean(kLongSteps - kWindow), mean(0));
}

} // namespace

TEST(BackendsAgree, Esmm) { expectBackendsAgree("esmm.rec"); }
TEST(BackendsAgree, Esm2) { expectBackendsAgree("esm2.rec"); }

INSTANTIATE_TEST_SUITE_P(Models, RunnableModel, ::testing::ValuesIn(runnableBaselines()),
                         [](const ::testing::TestParamInfo<ModelRef>& info) {
                           return info.param.model;
                         });
