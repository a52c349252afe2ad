// End-to-end tests of the Trainer with a hand-written StepFunction: logistic
// regression over a dense feature, an item embedding and a mean-pooled
// multi-valued history sharing the item table, with analytic gradients. It
// checks that loss goes down and AUC clearly beats chance, that fixed-batch
// steps drop/pad correctly, that a NaN loss stops training without touching
// the last checkpoint, and that predict/metrics files are written.
#include "runtime/Checkpoint.h"
#include "runtime/Random.h"
#include "runtime/StreamSurvey.h"
#include "runtime/TouchedRows.h"
#include "runtime/Trainer.h"

#include "TestUtil.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <sstream>

namespace recc::rt {
namespace {

using Role = BufferSpec::Role;
using test::contains;

StepSpec logRegStep(bool train) {
  StepSpec s{train ? "train_step" : "eval_step",
             {{Role::Feature, "x", {-1, 1}},
              {Role::EmbeddingRows, "item", {-1, 2}},
              {Role::EmbeddingRows, "hist", {-1, 3, 2}},
              {Role::Feature, "hist", {-1, 3}},
              {Role::Label, "click", {-1}},
              {Role::Param, "w", {1}},
              {Role::Param, "b", {1}},
              {Role::Param, "v", {2}},
              {Role::Param, "u", {2}}}};
  if (train)
    s.buffers.push_back({Role::Seed, "seed", {}});
  s.buffers.push_back({Role::Output, "p", {-1, 1}});
  s.buffers.push_back({Role::Loss, "loss", {}});
  if (!train)
    return s;
  s.buffers.push_back({Role::LossTerm, "bce", {}});
  for (const char* p : {"w", "b", "v", "u"})
    s.buffers.push_back({Role::Gradient, p, {p[0] == 'v' || p[0] == 'u' ? 2 : 1}});
  s.buffers.push_back({Role::Gradient, "item", {-1, 2}});
  s.buffers.push_back({Role::Gradient, "hist", {-1, 3, 2}});
  return s;
}

ModelPlan logRegPlan() {
  ModelPlan p;
  p.model = "logreg";
  using K = FeatureSpec::Kind;
  p.features = {{"x", "x", K::Dense, 0, 0, "", "tanh_zscore"},
                {"item", "item", K::Categorical, 60, 0, "item_emb", "none"},
                {"hist", "hist", K::MultiCategorical, 60, 3, "item_emb", "none"}};
  p.labels = {{"click", "click"}};
  p.tables = {{"item_emb", 60, 2, {"uniform", 0.05}}};
  p.params = {{"w", {1}, {"zeros", 0}}, {"b", {1}, {"zeros", 0}},
              {"v", {2}, {"ones", 0}}, {"u", {2}, {"ones", 0}}};
  p.optimizer.lr = 0.05;
  p.batchSize = 64;
  p.epochs = 3;
  p.metrics = {{"auc", "auc", "p", "click", "", ""},
               {"gauc", "gauc", "p", "click", "", "user"},
               {"logloss", "logloss", "p", "click", "", ""}};
  p.trainStep = logRegStep(true);
  p.evalStep = logRegStep(false);
  return p;
}

/// p = sigmoid(w x + b + v.e_item + u.mean(e_hist)) with mean BCE loss.
class LogRegStep : public StepFunction {
public:
  LogRegStep(const StepSpec& spec, int64_t fixed = 0) : Spec(spec), Fixed(fixed) {}
  int64_t fixedBatch() const override { return Fixed; }

  void run(const BatchSizes& batch, float* const* buf) override {
    const int64_t n = batch.source();
    EXPECT_TRUE(Fixed == 0 || n == Fixed);
    const float *x = at(buf, "x", Role::Feature), *e = at(buf, "item", Role::EmbeddingRows);
    const float *h = at(buf, "hist", Role::EmbeddingRows), *hid = at(buf, "hist", Role::Feature);
    const float *y = at(buf, "click", Role::Label), *v = at(buf, "v", Role::Param);
    const float *u = at(buf, "u", Role::Param);
    const float w = *at(buf, "w", Role::Param), b = *at(buf, "b", Role::Param);
    float* p = at(buf, "p", Role::Output);
    float* gw = at(buf, "w", Role::Gradient);
    if (float* seed = at(buf, "seed", Role::Seed))
      Seeds.push_back(*seed);
    if (at(buf, "w", Role::Gradient))
      SeenX.insert(SeenX.end(), x, x + n);
    // A step writes every output (the runtime does not clear gradients).
    if (gw) {
      gw[0] = 0;
      at(buf, "b", Role::Gradient)[0] = 0;
      std::fill_n(at(buf, "v", Role::Gradient), 2, 0.0f);
      std::fill_n(at(buf, "u", Role::Gradient), 2, 0.0f);
    }
    double loss = 0;
    for (int64_t i = 0; i < n; ++i) {
      float pooled[2] = {0, 0}, count = 0;
      for (int j = 0; j < 3; ++j)
        if (hid[i * 3 + j] >= 0)
          ++count, pooled[0] += h[(i * 3 + j) * 2], pooled[1] += h[(i * 3 + j) * 2 + 1];
      const float inv = 1.0f / std::max(count, 1.0f);
      float z = w * x[i] + b + v[0] * e[2 * i] + v[1] * e[2 * i + 1] +
                (u[0] * pooled[0] + u[1] * pooled[1]) * inv;
      p[i] = 1 / (1 + std::exp(-z));
      loss -= y[i] * std::log(p[i]) + (1 - y[i]) * std::log(1 - p[i]);
      if (!gw)
        continue;
      const float d = (p[i] - y[i]) / float(n);
      gw[0] += d * x[i];
      at(buf, "b", Role::Gradient)[0] += d;
      for (int k = 0; k < 2; ++k) {
        at(buf, "v", Role::Gradient)[k] += d * e[2 * i + k];
        at(buf, "u", Role::Gradient)[k] += d * pooled[k] * inv;
        at(buf, "item", Role::Gradient)[2 * i + k] = d * v[k];
        for (int j = 0; j < 3; ++j)
          at(buf, "hist", Role::Gradient)[(i * 3 + j) * 2 + k] = d * u[k] * inv;
      }
    }
    *at(buf, "loss", Role::Loss) = float(loss / double(n));
    if (float* term = at(buf, "bce", Role::LossTerm))
      *term = ++Calls == NanAtCall ? NAN : float(loss / double(n));
    if (gw && Calls == InfGradientAtCall)
      at(buf, "item", Role::Gradient)[3] = INFINITY;
  }

  std::vector<float> Seeds;
  std::vector<float> SeenX;  ///< the (transformed) x of every row trained on, in order
  int64_t Calls = 0, NanAtCall = -1, InfGradientAtCall = -1;

private:
  float* at(float* const* buf, const std::string& name, Role role) const {
    for (size_t i = 0; i < Spec.buffers.size(); ++i)
      if (Spec.buffers[i].name == name && Spec.buffers[i].role == role)
        return buf[i];
    return nullptr;
  }
  StepSpec Spec;
  int64_t Fixed;
};

/// Clicks depend on x (through a z-score) and on whether item < 25. Ids
/// 50..59 never occur, so their table rows must never change.
DataSet makeData(const ModelPlan& plan, int64_t rows, uint64_t seed) {
  DataSet d(plan, rows);
  for (int64_t r = 0; r < rows; ++r) {
    const double x = 100 * uniformAt(seed, 4 * r);
    const int64_t item = static_cast<int64_t>(50 * uniformAt(seed, 4 * r + 1));
    d.dense(0)[r] = float(x);
    d.ids(1)[r] = item;
    for (int64_t j = 0; j < r % 4 && j < 3; ++j)
      d.ids(2)[r * 3 + j] = (item + 7 * j) % 50;
    const double logit = 2 * std::tanh((x - 50) / 29) + (item < 25 ? 1.5 : -1.5);
    d.label(0)[r] = uniformAt(seed, 4 * r + 2) < 1 / (1 + std::exp(-logit)) ? 1.0f : 0.0f;
    d.groupsMut("user")[r] = r % 40;
  }
  return d;
}

class TrainerTest : public ::testing::Test {
protected:
  ModelPlan Plan = logRegPlan();
  DataSet Train = makeData(Plan, 3000, 11), Eval = makeData(Plan, 1000, 12);
  test::TempDir Dir;
};

TEST_F(TrainerTest, LossGoesDownAndAucBeatsChance) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  Trainer trainer(state, train, eval, {.threads = 2, .log = nullptr});
  EXPECT_TRUE(contains(test::errorOf([&] { trainer.evaluate(Eval); }),
                       "feature 'x' uses tanh_zscore but has no statistics"));
  const Tensor unused = state.tables[0].weights().clone();

  std::vector<EpochReport> reports = trainer.train(Train, &Eval);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_EQ(reports[0].steps, 47);  // ceil(3000 / 64): the partial batch is kept
  EXPECT_EQ(reports[0].droppedRows, 0);
  EXPECT_LT(reports[2].meanLoss, reports[0].meanLoss - 0.02);
  EXPECT_EQ(state.step, 141);
  EXPECT_EQ(state.epoch, 3);
  EXPECT_TRUE(state.stats[0].ready);
  EXPECT_NEAR(state.stats[0].mean, 50.0, 3.0);

  EvalResult r = trainer.evaluate(Eval);
  EXPECT_EQ(r.rows, 1000);
  EXPECT_GT(r.metrics["auc"], 0.75);
  EXPECT_GT(r.metrics["gauc"], 0.7);
  EXPECT_LT(r.metrics["logloss"], 0.6);
  EXPECT_NEAR(r.loss, r.metrics["logloss"], 1e-4);  // the eval Loss is the same BCE
  EXPECT_DOUBLE_EQ(reports[2].eval->metrics["auc"], r.metrics["auc"]);

  for (int64_t i = 50 * 2; i < 60 * 2; ++i)  // lazy updates: unused ids untouched
    ASSERT_EQ(state.tables[0].weights()[i], unused[i]);
  EXPECT_NE(state.tables[0].weights()[0], unused[0]);

  ASSERT_EQ(train.Seeds.size(), 141u);
  for (float s : train.Seeds)
    ASSERT_TRUE(s >= 0 && s < 16777216.0f && s == std::floor(s));
  EXPECT_NE(train.Seeds[0], train.Seeds[1]);
}

TEST_F(TrainerTest, FixedBatchDropsForTrainingAndPadsForEvaluation) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep, 64), eval(Plan.evalStep, 64), anyEval(Plan.evalStep);
  Trainer trainer(state, train, eval, {.epochs = 1, .log = nullptr});
  std::vector<EpochReport> reports = trainer.train(Eval);
  EXPECT_EQ(reports[0].steps, 15);
  EXPECT_EQ(reports[0].droppedRows, 40);
  EvalResult padded = trainer.evaluate(Eval);
  EvalResult exact = evaluate(state, anyEval, Eval);
  EXPECT_EQ(padded.rows, 1000);
  EXPECT_DOUBLE_EQ(padded.metrics["auc"], exact.metrics["auc"]);
  EXPECT_DOUBLE_EQ(padded.metrics["logloss"], exact.metrics["logloss"]);
}

TEST_F(TrainerTest, NaNLossStopsAndKeepsTheLastCheckpoint) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  const std::string ckpt = Dir.file("model.safetensors");
  Trainer trainer(state, train, eval, {.epochs = 1, .checkpointPath = ckpt, .log = nullptr});
  trainer.train(Train);
  const std::string good = test::readText(ckpt);
  const Tensor w = state.params.value("w").clone();

  train.NanAtCall = train.Calls + 5;
  std::string error = test::errorOf([&] { trainer.train(Train); });
  // No inspector here (as in a standalone trainer): the message says how to get the op.
  EXPECT_EQ(error, fmt::format("non-finite loss at step 52 (epoch 2, batch 5): loss term "
                               "'bce' is nan; the update was not applied and checkpoint "
                               "'{}' was not overwritten\n  this trainer has no graph to "
                               "replay the step: to name the op that went bad, run `recc "
                               "train` on the model file with the same data, --seed and "
                               "--epochs (add --init with the last good checkpoint to start "
                               "from its epoch)", ckpt));
  EXPECT_EQ(state.step, 51);
  EXPECT_EQ(test::readText(ckpt), good);
  ModelState restored(Plan);
  loadCheckpoint(ckpt, restored);
  EXPECT_EQ(restored.step, 47);
  EXPECT_EQ(restored.params.value("w")[0], w[0]);
}

// A gradient that goes infinite while the loss stays finite stops the step
// too, before its update, naming the gradient buffer and the element.
TEST_F(TrainerTest, NonFiniteGradientStopsBeforeTheUpdate) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  Trainer trainer(state, train, eval, {.epochs = 1, .log = nullptr});
  train.InfGradientAtCall = 3;
  const Tensor w = state.params.value("w").clone();
  std::string error = test::errorOf([&] { trainer.train(Train); });
  EXPECT_TRUE(error.starts_with("non-finite output at step 3 (epoch 1, batch 3): gradient "
                                "'item' [64,2] is inf at flat element 3; the update was not "
                                "applied and no checkpoint was written"))
      << error;
  EXPECT_EQ(state.step, 2);
}

TEST_F(TrainerTest, PredictAndMetricsFiles) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  Trainer trainer(state, train, eval, {.epochs = 1, .log = nullptr});
  trainer.train(Train);
  trainer.predict(Eval, Dir.file("pred.csv"));
  std::string csv = test::readText(Dir.file("pred.csv"));
  EXPECT_TRUE(csv.starts_with("p\n"));
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1001);

  EvalResult r = trainer.evaluate(Eval);
  writeMetricsJson(Dir.file("metrics.json"), state, r, "eval.csv");
  auto j = nlohmann::json::parse(test::readText(Dir.file("metrics.json")));
  EXPECT_EQ(j["model"], "logreg");
  EXPECT_EQ(j["rows"], 1000);
  EXPECT_DOUBLE_EQ(j["metrics"]["auc"].get<double>(), r.metrics["auc"]);
  EvalResult undefined;
  undefined.metrics["auc"] = NAN;
  undefined.loss = NAN;
  writeMetricsJson(Dir.file("m2.json"), state, undefined);
  auto k = nlohmann::json::parse(test::readText(Dir.file("m2.json")));
  EXPECT_TRUE(k["metrics"]["auc"].is_null());
}

TEST_F(TrainerTest, PerGroupTablesInTheMetricsFileAndPrinted) {
  ModelState state(Plan);
  EvalResult r;
  r.metrics["scenario_auc"] = 0.7;
  r.byGroup["scenario_auc"] = {
      "scenario",
      {{"2", 30, 3, 0.7}, {"17", 4, 0, NAN, "undefined: one class (0 positives in 4 rows)"}}};
  writeMetricsJson(Dir.file("m.json"), state, r);
  auto j = nlohmann::json::parse(test::readText(Dir.file("m.json")));
  EXPECT_DOUBLE_EQ(j["metrics"]["scenario_auc"].get<double>(), 0.7);  // as before: a number
  const auto& t = j["by_group"]["scenario_auc"];
  EXPECT_EQ(t["column"], "scenario");
  EXPECT_DOUBLE_EQ(t["mean"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(t["by"]["2"]["auc"].get<double>(), 0.7);
  EXPECT_EQ(t["by"]["2"]["rows"], 30);
  EXPECT_EQ(t["by"]["2"]["positives"], 3);
  EXPECT_TRUE(t["by"]["17"]["auc"].is_null());  // one class: undefined, not 0.5
  EXPECT_EQ(t["by"]["17"]["note"], "undefined: one class (0 positives in 4 rows)");
  EXPECT_EQ(formatGroupTables(r),
            "scenario_auc by scenario: mean 0.7000 over the 1 of 2 groups with both classes\n"
            "    scenario       rows  positives  auc\n"
            "           2         30          3  0.7000\n"
            "          17          4          0  n/a (one class)\n");
  // The generic keys are there too, so a reader need not know the kind.
  EXPECT_EQ(t["kind"], "gauc");
  EXPECT_DOUBLE_EQ(t["value"].get<double>(), 0.7);
  EXPECT_DOUBLE_EQ(t["by"]["2"]["value"].get<double>(), 0.7);
}

TEST_F(TrainerTest, BreakdownsAndMetricsByOutputInTheMetricsFile) {
  ModelState state(Plan);
  EvalResult r;
  r.metrics = {{"ctr_ne", 0.9}, {"ctr_cal", 1.1}, {"cvr_auc", NAN}};
  r.outputs = {{"ctr_ne", "p_ctr"}, {"ctr_cal", "p_ctr"}, {"cvr_auc", "p_cvr"}};
  r.byGroup["ctr_cal"] = {"scenario",
                          {{"0", 10, 2, 1.2}, {"1", 5, 0, NAN, "undefined: the labels of the 5 rows sum to 0"}},
                          "calibration"};
  writeMetricsJson(Dir.file("m.json"), state, r);
  auto j = nlohmann::json::parse(test::readText(Dir.file("m.json")));
  EXPECT_EQ(j["by_output"]["p_ctr"], nlohmann::json({"ctr_cal", "ctr_ne"}));
  EXPECT_EQ(j["by_output"]["p_cvr"], nlohmann::json({"cvr_auc"}));
  EXPECT_TRUE(j["metrics"]["cvr_auc"].is_null());
  const auto& t = j["by_group"]["ctr_cal"];
  EXPECT_EQ(t["kind"], "calibration");
  EXPECT_DOUBLE_EQ(t["value"].get<double>(), 1.1);
  EXPECT_FALSE(t.contains("mean"));  // gauc's key only
  EXPECT_DOUBLE_EQ(t["by"]["0"]["value"].get<double>(), 1.2);
  EXPECT_FALSE(t["by"]["0"].contains("auc"));
  EXPECT_TRUE(t["by"]["1"]["value"].is_null());
  EXPECT_EQ(t["by"]["1"]["note"], "undefined: the labels of the 5 rows sum to 0");
  EXPECT_EQ(formatGroupTables(r),
            "ctr_cal by scenario: 1.1000 over all rows; defined in 1 of 2 groups\n"
            "    scenario       rows  positives  calibration\n"
            "           0         10          2  1.2000\n"
            "           1          5          0  n/a (undefined: the labels of the 5 rows sum to 0)\n");
}

/// The JSON objects of a --log file, one per line.
std::vector<nlohmann::json> jsonLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::istringstream in(test::readText(path));
  for (std::string line; std::getline(in, line);)
    out.push_back(nlohmann::json::parse(line));
  return out;
}

TEST_F(TrainerTest, LogWritesTheTrainingCurveAsJsonLines) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  TrainLog log(Dir.file("run.jsonl"), Plan, /*everySteps=*/20);
  Trainer trainer(state, train, eval, {.epochs = 2, .log = nullptr, .trainLog = &log});
  trainer.train(Train, &Eval);
  std::vector<nlohmann::json> lines = jsonLines(Dir.file("run.jsonl"));
  // start; steps 20, 40, 47 (end of epoch 1), eval; 67, 87, 94, eval.
  ASSERT_EQ(lines.size(), 9u);
  EXPECT_EQ(lines[0]["kind"], "start");
  EXPECT_EQ(lines[0]["model"], "logreg");
  std::vector<int64_t> steps;
  for (const auto& l : lines)
    if (l["kind"] == "train")
      steps.push_back(l["step"].get<int64_t>());
  // 10 s without a line would add one; a test step takes microseconds.
  EXPECT_EQ(steps, (std::vector<int64_t>{20, 40, 47, 67, 87, 94}));
  const auto& first = lines[1];
  EXPECT_EQ(first["epoch"], 1);
  EXPECT_EQ(first["steps"], 20);
  EXPECT_DOUBLE_EQ(first["lr"].get<double>(), 0.05);
  EXPECT_GT(first["samples_per_s"].get<double>(), 0);
  // The step's one loss term is its whole loss here: the means agree.
  EXPECT_NEAR(first["loss_terms"]["bce"].get<double>(), first["loss"].get<double>(), 1e-6);
  EXPECT_EQ(lines[3]["steps"], 7);
  EXPECT_EQ(lines[4]["kind"], "eval");
  EXPECT_EQ(lines[4]["step"], 47);
  EXPECT_EQ(lines[4]["epoch"], 1);
  EXPECT_EQ(lines[4]["rows"], Eval.rows());
  EXPECT_GT(lines[8]["metrics"]["auc"].get<double>(), 0.5);
  EXPECT_EQ(lines[8]["epoch"], 2);
  // Training improves: the last train line's loss is below the first's.
  EXPECT_LT(lines[7]["loss"].get<double>(), first["loss"].get<double>());
}

TEST_F(TrainerTest, LogThatCannotBeOpenedNamesTheFlagAndPath) {
  EXPECT_EQ(test::errorOf([&] { TrainLog log(Dir.file("no/such/dir/run.jsonl"), Plan); }),
            fmt::format("--log {}: cannot open for writing: No such file or directory",
                        Dir.file("no/such/dir/run.jsonl")));
}

TEST_F(TrainerTest, LogsProgressAndEpochSummaries) {
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  std::FILE* log = std::tmpfile();
  Trainer trainer(state, train, eval,
                  {.epochs = 2, .log = log, .plainProgressInterval = 0.0});
  trainer.train(Train, &Eval);
  std::rewind(log);
  std::string text;
  for (int c; (c = std::fgetc(log)) != EOF;)
    text += static_cast<char>(c);
  std::fclose(log);
  EXPECT_TRUE(contains(text, "epoch 1/2  step 47/47  "));
  EXPECT_TRUE(contains(text, " samples/s  loss 0."));
  EXPECT_TRUE(contains(text, "  ETA 0:00\n"));
  EXPECT_TRUE(contains(text, "epoch 2/2: 47 steps, loss 0."));
  EXPECT_TRUE(contains(text, "; eval: auc 0."));
  EXPECT_EQ(text.find('\r'), std::string::npos);  // not a terminal: plain lines
}

TEST_F(TrainerTest, BufferMismatchesFailBeforeTheFirstStep) {
  ModelPlan bad = Plan;
  bad.trainStep.buffers[5].shape = {2};
  ModelState state(bad);
  LogRegStep train(bad.trainStep), eval(bad.evalStep);
  Trainer trainer(state, train, eval, {.log = nullptr});
  EXPECT_EQ(test::errorOf([&] { trainer.train(Train); }),
            "train step buffer 5 'w' (param): shape [2] but expected [1] (the model's "
            "parameter)");
  bad.trainStep.buffers[2].shape = {-1, 4, 2};
  ModelState s2(bad);
  Trainer t2(s2, train, eval, {.log = nullptr});
  EXPECT_EQ(test::errorOf([&] { t2.train(Train); }),
            "train step buffer 2 'hist' (embedding rows): shape [-1,4,2] but expected "
            "[-1,3,2]");
  EXPECT_EQ(state.step, 0);
}

/// Every row of table `t`, read the way a step reads it.
std::vector<float> tableRows(const EmbeddingTable& t) {
  std::vector<int64_t> ids(t.rows());
  for (int64_t i = 0; i < t.rows(); ++i)
    ids[i] = i;
  std::vector<float> out(ids.size() * t.dim());
  t.gather(ids, out.data());
  return out;
}

TEST_F(TrainerTest, DynamicTableTrainsLikeTheDenseTableAndResumesExactly) {
  ModelPlan dynamic = Plan;
  dynamic.tables[0].dynamic = true;
  auto trainFor = [&](const ModelPlan& plan, int64_t epochs, const std::string& init,
                      const std::string& out) {
    auto state = std::make_unique<ModelState>(plan);
    if (!init.empty())
      loadCheckpoint(init, *state);
    LogRegStep train(plan.trainStep), eval(plan.evalStep);
    Trainer trainer(*state, train, eval,
                    {.epochs = epochs, .threads = 2, .checkpointPath = out, .log = nullptr});
    trainer.train(Train);
    return state;
  };
  auto dense = trainFor(Plan, 2, "", "");
  auto whole = trainFor(dynamic, 2, "", "");
  // Same initial rows, same updates: the dense and the dynamic table agree bit for bit.
  EXPECT_EQ(tableRows(dense->tables[0]), tableRows(whole->tables[0]));
  // It holds exactly the rows the training data touches (ids 50..59 never occur).
  const int64_t held = whole->tables[0].dynamicRows()->size();
  EXPECT_EQ(held, touchedRows(dynamic, Train).at("item_emb"));
  EXPECT_LE(held, 50);

  // 1 epoch, checkpoint, then 1 more from the checkpoint: the same model.
  trainFor(dynamic, 1, "", Dir.file("one.safetensors"));
  auto resumed = trainFor(dynamic, 1, Dir.file("one.safetensors"), "");
  EXPECT_EQ(resumed->step, whole->step);
  EXPECT_EQ(tableRows(resumed->tables[0]), tableRows(whole->tables[0]));
  for (int i = 0; i < whole->params.size(); ++i)
    EXPECT_EQ(std::memcmp(whole->params.value(i).data(), resumed->params.value(i).data(),
                          whole->params.value(i).bytes()), 0) << whole->params.name(i);
  LogRegStep e1(dynamic.evalStep), e2(dynamic.evalStep);
  EXPECT_EQ(evaluate(*whole, e1, Eval).metrics, evaluate(*resumed, e2, Eval).metrics);
  // Evaluation inserts no row.
  EXPECT_EQ(whole->tables[0].dynamicRows()->size(), held);
}

/// Writes `d` (rows of logRegPlan) as a CSV file that reads back as `d`.
std::string writeCsv(const DataSet& d, const std::string& path) {
  std::string text = "x,item,hist,click,user\n";
  for (int64_t r = 0; r < d.rows(); ++r) {
    std::string hist;
    for (int j = 0; j < 3 && d.ids(2)[r * 3 + j] >= 0; ++j)
      hist += fmt::format("{}{}", j ? "|" : "", d.ids(2)[r * 3 + j]);
    text += fmt::format("{},{},{},{},{}\n", d.dense(0)[r], d.ids(1)[r], hist, d.label(0)[r],
                        d.groups("user")[r]);
  }
  test::writeText(path, text);
  return path;
}

class StreamedTrainerTest : public TrainerTest {
protected:
  /// Streamed --data of `files` after the first pass (StreamSurvey.h).
  StreamedData survey(std::vector<std::string> files, int64_t buffer, int64_t chunk) {
    StreamedData data{.files = std::move(files), .bufferRows = buffer, .chunkRows = chunk};
    DynamicRowCounts touched;
    surveyStream(Plan, data, touched);
    return data;
  }
  /// The x of every row 2 streamed epochs train on (statistics fixed, so
  /// that runs compare exactly).
  std::vector<float> seen(const StreamedData& data, uint64_t seed) {
    ModelPlan plan = Plan;
    plan.seed = seed;
    ModelState state(plan);
    state.stats[0] = {50, 29, true};
    LogRegStep train(plan.trainStep), eval(plan.evalStep);
    Trainer trainer(state, train, eval, {.epochs = 2, .threads = 2, .log = nullptr});
    std::vector<EpochReport> reports = trainer.trainStreamed(data);
    EXPECT_EQ(reports[0].steps, 47);  // as in memory: ceil(3000 / 64)
    EXPECT_EQ(state.step, 94);
    return train.SeenX;
  }
};

TEST_F(StreamedTrainerTest, FirstPassCountsRowsAndComputesStatistics) {
  const std::string a = writeCsv(Train, Dir.file("train.csv"));
  StreamedData data = survey({a}, 500, 128);
  EXPECT_EQ(data.rows, 3000);
  // The statistics of the data read back into memory, up to rounding.
  std::vector<FeatureStats> exact = computeFeatureStats(Plan, readDataFile(a, Plan));
  ASSERT_TRUE(data.stats[0].ready);
  EXPECT_NEAR(data.stats[0].mean, exact[0].mean, 1e-9 * std::abs(exact[0].mean));
  EXPECT_NEAR(data.stats[0].stddev, exact[0].stddev, 1e-9 * exact[0].stddev);
  EXPECT_FALSE(data.stats[1].ready);
}

TEST_F(StreamedTrainerTest, EveryEpochSeesEveryRowOnceInAnOrderFixedByTheSeed) {
  const std::string a = writeCsv(Train, Dir.file("train.csv"));
  const std::vector<float> streamed = seen(survey({a}, 500, 128), 7);
  ASSERT_EQ(streamed.size(), 6000u);
  // The rows of each epoch are those an in-memory epoch trains on.
  ModelState state(Plan);
  state.stats[0] = {50, 29, true};
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  Trainer(state, train, eval, {.epochs = 1, .log = nullptr}).train(readDataFile(a, Plan));
  std::vector<float> want = train.SeenX;
  std::sort(want.begin(), want.end());
  for (int e = 0; e < 2; ++e) {
    std::vector<float> epoch(streamed.begin() + 3000 * e, streamed.begin() + 3000 * (e + 1));
    EXPECT_NE(epoch, std::vector<float>(want.begin(), want.end()));  // shuffled...
    std::sort(epoch.begin(), epoch.end());
    EXPECT_EQ(epoch, want) << "epoch " << e + 1;                      // ...not lost
  }
  EXPECT_NE(std::vector<float>(streamed.begin(), streamed.begin() + 3000),
            std::vector<float>(streamed.begin() + 3000, streamed.end()));
  // The order depends on the seed and the rows only: not on the chunks, the
  // split into files, or the reader thread's timing.
  const std::string b1 = Dir.file("b1.csv"), b2 = Dir.file("b2.csv");
  const std::string text = test::readText(a);
  const size_t cut = text.find('\n', text.size() / 3) + 1;
  test::writeText(b1, text.substr(0, cut));
  test::writeText(b2, "x,item,hist,click,user\n" + text.substr(cut));
  EXPECT_EQ(seen(survey({b1, b2}, 500, 1000), 7), streamed);
  EXPECT_EQ(seen(survey({a}, 500, 1), 7), streamed);
  EXPECT_NE(seen(survey({a}, 500, 128), 8), streamed);
}

TEST_F(StreamedTrainerTest, LearnsLikeInMemoryAndFixedBatchesDropTheRest) {
  const std::string a = writeCsv(Train, Dir.file("train.csv"));
  ModelState state(Plan);
  LogRegStep train(Plan.trainStep), eval(Plan.evalStep);
  Trainer trainer(state, train, eval, {.threads = 2, .log = nullptr});
  std::vector<EpochReport> reports = trainer.trainStreamed(survey({a}, 1000, 256), &Eval);
  ASSERT_EQ(reports.size(), 3u);
  EXPECT_LT(reports[2].meanLoss, reports[0].meanLoss - 0.02);
  EXPECT_GT(reports[2].eval->metrics["auc"], 0.75);

  const std::string e = writeCsv(Eval, Dir.file("eval.csv"));
  ModelState fixedState(Plan);
  LogRegStep fixedTrain(Plan.trainStep, 64), fixedEval(Plan.evalStep, 64);
  Trainer fixed(fixedState, fixedTrain, fixedEval, {.epochs = 1, .log = nullptr});
  reports = fixed.trainStreamed(survey({e}, 100, 64));
  EXPECT_EQ(reports[0].steps, 15);
  EXPECT_EQ(reports[0].droppedRows, 40);
  EXPECT_EQ(fixedTrain.SeenX.size(), 15u * 64u);
}

} // namespace
} // namespace recc::rt
