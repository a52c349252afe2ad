// The shipped models (models/esm2.rec, models/esmm.rec) parse, check and build
// in both modes with the expected parameters, shapes, bindings and plan; the
// parameter naming rule holds; and the builtins compute what they claim
// (checked numerically with the reference executor).
#include "DslTestUtil.h"

#include "compiler/exec/ReferenceExecutor.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>

namespace recc::test {
namespace {

int countLines(const std::string& text) { return (int)std::count(text.begin(), text.end(), '\n'); }

BuiltModel buildOk(const std::string& file, const std::string& text, GraphMode mode) {
  DiagnosticEngine diag;
  auto m = compile(file, text, diag, mode);
  EXPECT_TRUE(m.has_value()) << diag.render();
  EXPECT_FALSE(diag.hasErrors()) << diag.render();
  return m ? std::move(*m) : BuiltModel{};
}

const Node* namedNode(const Graph& g, const std::string& name) {
  for (const Node& n : g.nodes())
    if (n.name == name) return &n;
  return nullptr;
}

int countOps(const Graph& g, OpKind kind) {
  int n = 0;
  for (const Node& node : g.nodes()) n += node.kind == kind;
  return n;
}

int countRole(const std::vector<Binding>& bs, ValueRole role) {
  int n = 0;
  for (const Binding& b : bs) n += b.role == role;
  return n;
}

struct ModelCase {
  const char* file;
  size_t params, losses;
};

class ShippedModelTest : public ::testing::TestWithParam<ModelCase> {};

TEST_P(ShippedModelTest, BuildsInBothModes) {
  const ModelCase& c = GetParam();
  std::string text = readFile(repoPath(c.file));
  ASSERT_FALSE(text.empty()) << c.file;
  EXPECT_LT(countLines(text), 60) << c.file << " should read like the paper, in under 60 lines";

  for (GraphMode mode : {GraphMode::Train, GraphMode::Eval}) {
    SCOPED_TRACE(mode == GraphMode::Train ? "train" : "eval");
    BuiltModel m = buildOk(c.file, text, mode);
    const Graph& g = m.graph;
    EXPECT_EQ(m.plan.params.size(), c.params);
    EXPECT_EQ(countRole(g.inputs(), ValueRole::Param), (int)c.params);
    EXPECT_EQ(g.forwardSize(), g.size());

    const Node* shared = namedNode(g, "g");
    ASSERT_NE(shared, nullptr);
    EXPECT_EQ(shared->shape, Shape({kBatchDim, 696}));

    for (const char* out : {"p_ctr", "p_cvr", "p_ctcvr"}) {
      NodeId id = g.findOutput(ValueRole::Output, out);
      ASSERT_NE(id, kNoNode) << out;
      EXPECT_EQ(g.node(id).shape, Shape({kBatchDim, 1})) << out;
    }
    EXPECT_EQ(countRole(g.outputs(), ValueRole::LossTerm), (int)c.losses);
    NodeId loss = g.findOutput(ValueRole::Loss, "loss");
    ASSERT_NE(loss, kNoNode);
    EXPECT_TRUE(g.node(loss).shape.isScalar());

    // 8 embedded ids ([B,128] x5, [B,16] x3) and 8 dense features.
    EXPECT_EQ(countRole(g.inputs(), ValueRole::EmbeddingRows), 8);
    EXPECT_EQ(countRole(g.inputs(), ValueRole::Feature), 8);
    EXPECT_EQ(g.node(g.findInput(ValueRole::EmbeddingRows, "item_id")).shape, Shape({kBatchDim, 128}));
    EXPECT_EQ(g.node(g.findInput(ValueRole::EmbeddingRows, "power")).shape, Shape({kBatchDim, 16}));

    size_t towers = c.params / 10;
    if (mode == GraphMode::Train) {
      EXPECT_EQ(countOps(g, OpKind::Dropout), (int)(4 * towers));
      EXPECT_NE(g.findInput(ValueRole::Seed, "seed"), kNoNode);
      EXPECT_NE(g.findInput(ValueRole::BatchSlice, "batch_slice"), kNoNode);
    } else {
      EXPECT_EQ(g.findInput(ValueRole::BatchSlice, "batch_slice"), kNoNode);
      EXPECT_EQ(countOps(g, OpKind::Dropout), 0);
      EXPECT_EQ(g.findInput(ValueRole::Seed, "seed"), kNoNode);
    }

    const rt::ModelPlan& p = m.plan;
    EXPECT_EQ(p.features.size(), 16u);
    EXPECT_EQ(p.tables.size(), 8u);
    EXPECT_EQ(p.features[0].name, "user_id");
    EXPECT_EQ(p.features[0].column, "user_id");
    EXPECT_EQ(p.features[0].kind, rt::FeatureSpec::Kind::Categorical);
    EXPECT_EQ(p.features[0].table, "user_emb");
    EXPECT_EQ(p.features[8].transform, "tanh_zscore");
    EXPECT_EQ(p.tables[0].name, "user_emb");
    EXPECT_EQ(p.tables[0].rows, 100000);
    EXPECT_EQ(p.tables[0].dim, 128);
    EXPECT_EQ(p.tables[0].init.kind, "uniform");
    EXPECT_EQ(p.optimizer.kind, "adam");
    EXPECT_DOUBLE_EQ(p.optimizer.lr, 0.0005);
    EXPECT_EQ(p.batchSize, 1000);
    EXPECT_EQ(p.epochs, 1);
    ASSERT_EQ(p.metrics.size(), 3u);
    EXPECT_EQ(p.metrics[0].kind, "auc");
    EXPECT_EQ(p.metrics[0].output, "p_cvr");
    EXPECT_EQ(p.metrics[0].label, "buy");
    EXPECT_EQ(p.metrics[0].filterLabel, "click");
    EXPECT_EQ(p.metrics[2].kind, "gauc");
    EXPECT_EQ(p.metrics[2].groupColumn, "user_id");
  }
}

INSTANTIATE_TEST_SUITE_P(Models, ShippedModelTest,
                         ::testing::Values(ModelCase{"models/esm2.rec", 40, 3},
                                           ModelCase{"models/esmm.rec", 20, 2}),
                         [](const ::testing::TestParamInfo<ModelCase>& info) {
                           return std::string(info.param.params == 40 ? "esm2" : "esmm");
                         });

TEST(ShippedModels, Esm2ParameterNames) {
  BuiltModel m = buildOk("esm2.rec", readFile(repoPath("models/esm2.rec")), GraphMode::Train);
  std::vector<std::string> names;
  for (const auto& p : m.plan.params) names.push_back(p.name);
  ASSERT_EQ(names.size(), 40u);
  EXPECT_EQ(names[0], "y1.mlp0.l0.w");
  EXPECT_EQ(names[1], "y1.mlp0.l0.b");
  EXPECT_EQ(names[8], "y1.dense0.w");
  EXPECT_EQ(names[9], "y1.dense0.b");
  EXPECT_EQ(names[39], "y4.dense0.b");
  EXPECT_EQ(m.plan.params[0].shape, (std::vector<int64_t>{696, 512}));
  EXPECT_EQ(m.plan.params[0].init.kind, "glorot_uniform");
  EXPECT_EQ(m.plan.params[1].init.kind, "zeros");
  BuiltModel e = buildOk("esm2.rec", readFile(repoPath("models/esm2.rec")), GraphMode::Eval);
  for (size_t i = 0; i < names.size(); ++i) EXPECT_EQ(e.plan.params[i].name, names[i]);
}

TEST(ParameterNames, FollowTheDocumentedRule) {
  const char* src = R"(
block inner(x) { return dense(x, 2) }
block outer(x) {
  u = dense(x, 4)
  return inner(u) + inner(u)
}
model m {
  input n : dense
  label y
  a = outer(n)
  h = dense(dense(n, 8), 1)
  loss l = bce(sigmoid(h + dense(a, 1)), y)
}
)";
  BuiltModel m = buildOk("names.rec", src, GraphMode::Train);
  std::vector<std::string> names;
  for (const auto& p : m.plan.params)
    if (p.name.back() == 'w') names.push_back(p.name);
  EXPECT_EQ(names, (std::vector<std::string>{"a.u.dense0.w", "a.inner0.dense0.w",
                                             "a.inner1.dense0.w", "h.dense0.w", "h.dense1.w",
                                             "l.dense0.w"}));
}

TEST(TopLevelTables, AreSharedByName) {
  const char* src = R"(
table ids_emb[100, 4]
model a { input u : id(100)  label y  loss l = bce(sigmoid(dense(embed(ids_emb, u), 1)), y) }
model b { input v : id(50)   label y  loss l = bce(sigmoid(dense(embed(ids_emb, v), 1)), y) }
)";
  DiagnosticEngine diag;
  auto prog = parseProgram("shared.rec", src, diag);
  ASSERT_TRUE(checkProgram(*prog, diag)) << diag.render();
  auto a = buildGraph(*prog, "a", GraphMode::Train, diag);
  auto b = buildGraph(*prog, "b", GraphMode::Train, diag);
  ASSERT_TRUE(a && b) << diag.render();
  ASSERT_EQ(a->plan.tables.size(), 1u);
  ASSERT_EQ(b->plan.tables.size(), 1u);
  EXPECT_EQ(a->plan.tables[0].name, b->plan.tables[0].name);
  EXPECT_EQ(b->plan.features[0].table, "ids_emb");
  EXPECT_FALSE(buildGraph(*prog, "c", GraphMode::Train, diag));
  EXPECT_NE(diag.render().find("no model named 'c' in this file (models: a, b)"), std::string::npos);
}

TEST(Tables, StorageIsDynamicAboveOneGibOrAsDeclared) {
  const char* src = R"(
table big[100000000, 32]
table forced_dense[100000000, 32] dense
table small[1000, 4] init normal(0.1) dynamic
table plain[1000, 4]
model m {
  input a : id(100000000)  input b from "a" : id(100000000)
  input c : id(1000)  input d from "c" : id(1000)
  label y
  z = concat(embed(big, a), embed(forced_dense, b), embed(small, c), embed(plain, d))
  loss l = bce(sigmoid(dense(z, 1)), y)
}
)";
  DiagnosticEngine diag;
  auto prog = parseProgram("storage.rec", src, diag);
  ASSERT_TRUE(prog && checkProgram(*prog, diag)) << diag.render();
  auto m = buildGraph(*prog, "m", GraphMode::Train, diag);
  ASSERT_TRUE(m) << diag.render();
  std::map<std::string, bool> dynamic;
  for (const auto& t : m->plan.tables) dynamic[t.name] = t.dynamic;
  EXPECT_EQ(dynamic, (std::map<std::string, bool>{
                         {"big", true}, {"forced_dense", false}, {"small", true}, {"plain", false}}));
  EXPECT_EQ(m->plan.tables[2].init.kind, "normal");  // `dynamic` follows the initializer
}

/// Builds `src` in Eval mode and runs it on one batch with the reference
/// executor; inputs are given by binding name.
std::map<std::string, RefTensor> run(const std::string& src,
                                     const std::map<std::string, RefTensor>& feed, int64_t batch) {
  BuiltModel m = buildOk("run.rec", src, GraphMode::Eval);
  std::vector<RefTensor> inputs;
  for (const Binding& b : m.graph.inputs()) {
    auto it = feed.find(b.name);
    if (it != feed.end()) {
      inputs.push_back(it->second);
    } else {  // parameters: a fixed pattern
      RefTensor t(m.graph.node(b.node).shape.concrete(batch));
      for (size_t i = 0; i < t.data.size(); ++i) t.data[i] = 0.1 * (double)(i % 7) - 0.2;
      inputs.push_back(t);
    }
  }
  ReferenceExecutor exec(m.graph);
  std::vector<RefTensor> outs = exec.run(batch, inputs);
  std::map<std::string, RefTensor> named;
  for (size_t i = 0; i < outs.size(); ++i) named[m.graph.outputs()[i].name] = outs[i];
  return named;
}

RefTensor column(std::vector<double> v) {
  RefTensor t({(int64_t)v.size(), 1});
  t.data = std::move(v);
  return t;
}

TEST(Builtins, ComputeWhatTheyClaim) {
  const char* src = R"(
model m {
  input a, b : dense
  label y
  comp = a * (1 - b) + 2 * b / 4 - -a
  loss p = bce(a, y)
  loss z = bce_logits(b, y, weight = 2)
  loss s = sum(a * b) weight 3
  output comp
}
)";
  std::vector<double> a = {0.2, 0.9, 1.0}, b = {-1.0, 0.5, 3.0}, y = {0.0, 1.0, 1.0};
  auto out = run(src, {{"a", column(a)}, {"b", column(b)}, {"y", column(y)}}, 3);
  double bceP = 0, bceZ = 0, sum = 0;
  for (int i = 0; i < 3; ++i) {
    double pc = std::clamp(a[i], 1e-7, 1 - 1e-7);
    bceP -= (y[i] * std::log(pc) + (1 - y[i]) * std::log(1 - pc)) / 3;
    bceZ += 2 * (std::log1p(std::exp(b[i])) - b[i] * y[i]) / 3;
    sum += a[i] * b[i];
    EXPECT_NEAR(out["comp"].data[i], a[i] * (1 - b[i]) + 2 * b[i] / 4 + a[i], 1e-12);
  }
  EXPECT_NEAR(out["p"].data[0], bceP, 1e-9);
  EXPECT_NEAR(out["z"].data[0], bceZ, 1e-9);
  EXPECT_NEAR(out["s"].data[0], sum, 1e-12);
  EXPECT_NEAR(out["loss"].data[0], bceP + bceZ + 3 * sum, 1e-9);
}

/// running_mean: both graphs read the state as it was; the train graph also
/// outputs ESAM's update c - (1-decay)·Σ m_j (c - x_j) / (1 + Σ m_j).
TEST(Builtins, RunningMeanKeepsStateAcrossSteps) {
  const char* src = R"(
model m {
  input a, b : dense
  label y
  x = concat(a, b)
  c = running_mean(x, decay = 0.75, where = y)
  all = running_mean(x)
  none = running_mean(x, where = y * 0)
  loss l = sum(c * x) + sum(all * x) + sum(none * x)
  output c, all, none
}
)";
  std::vector<double> a = {1, 2, 4}, b = {-1, 0.5, 3}, y = {1, 0, 1};
  std::map<std::string, RefTensor> feed = {
      {"a", column(a)}, {"b", column(b)}, {"y", column(y)}};
  const double c0[2] = {0.5, -2};
  for (const char* st : {"c.running_mean0", "all.running_mean0", "none.running_mean0"}) {
    RefTensor t({1, 2});
    t.data = {c0[0], c0[1]};
    feed[st] = t;
  }
  for (GraphMode mode : {GraphMode::Train, GraphMode::Eval}) {
    SCOPED_TRACE(mode == GraphMode::Train ? "train" : "eval");
    BuiltModel m = buildOk("run.rec", src, mode);
    ASSERT_EQ(m.plan.states.size(), 3u);
    EXPECT_EQ(m.plan.states[0].name, "c.running_mean0");
    EXPECT_EQ(m.plan.states[0].kind, "running_stat");
    EXPECT_EQ(m.plan.states[0].shape, (std::vector<int64_t>{1, 2}));
    EXPECT_DOUBLE_EQ(m.plan.states[0].decay, 0.75);
    EXPECT_DOUBLE_EQ(m.plan.states[1].decay, 0.9);
    std::vector<RefTensor> inputs;
    for (const Binding& bd : m.graph.inputs()) {
      ASSERT_TRUE(feed.count(bd.name)) << bd.name;
      inputs.push_back(feed[bd.name]);
    }
    ReferenceExecutor exec(m.graph);
    std::vector<RefTensor> outs = exec.run(3, inputs);
    std::map<std::string, RefTensor> updates, values;
    for (size_t i = 0; i < outs.size(); ++i)
      (m.graph.outputs()[i].role == ValueRole::StateUpdate ? updates : values)
          [m.graph.outputs()[i].name] = outs[i];
    for (const char* v : {"c", "all", "none"})
      for (int k = 0; k < 2; ++k) EXPECT_DOUBLE_EQ(values[v].data[k], c0[k]) << v;
    if (mode == GraphMode::Eval) {
      EXPECT_TRUE(updates.empty());
      continue;
    }
    ASSERT_EQ(updates.size(), 3u);
    // c: rows 0 and 2 (n = 2), decay 0.75; all: 3 rows, decay 0.9; none: no row.
    const double xs[2][3] = {{1, 2, 4}, {-1, 0.5, 3}};
    for (int k = 0; k < 2; ++k) {
      double dc = (2 * c0[k] - xs[k][0] - xs[k][2]) / 3;
      double da = (3 * c0[k] - xs[k][0] - xs[k][1] - xs[k][2]) / 4;
      EXPECT_NEAR(updates["c.running_mean0"].data[k], c0[k] - 0.25 * dc, 1e-12);
      EXPECT_NEAR(updates["all.running_mean0"].data[k], c0[k] - 0.1 * da, 1e-12);
      EXPECT_NEAR(updates["none.running_mean0"].data[k], c0[k], 1e-12);
    }
  }
}

TEST(ParamInit, ScaleMayBeABlockParameterOrANamedNumber) {
  // STAR's star_fc passes its glorot scale as a block parameter; it must reach
  // the plan (it once read as 0, so W started at zeros and STAR was constant).
  const std::string text = R"(
block layer(x, g) { return x * param([4], init = uniform(g)) }
model m {
  input a : dense
  label y
  s = 0.25
  h = layer(a, 0.5) + a * param([4], init = normal(s))
  loss l = bce(sigmoid(sum(h, axis = 1)), y)
}
)";
  BuiltModel m = buildOk("init.rec", text, GraphMode::Train);
  ASSERT_EQ(m.plan.params.size(), 2u);
  EXPECT_EQ(m.plan.params[0].init.kind, "uniform");
  EXPECT_DOUBLE_EQ(m.plan.params[0].init.scale, 0.5);
  EXPECT_EQ(m.plan.params[1].init.kind, "normal");
  EXPECT_DOUBLE_EQ(m.plan.params[1].init.scale, 0.25);
}

TEST(Metrics, EcosystemNamesBreakdownsAndGaucReductions) {
  const std::string text = R"(
model m {
  input user_id : id(10)
  input scenario : id(4)
  input n : dense
  label click, buy
  p = sigmoid(dense(n, 1))
  loss l = bce(p, click)
  output p
  metric a = auc(p, click, by = scenario)
  metric g = gauc(p, click, by = user_id, reduce = mean_by_positive_num)
  metric g0 = gauc(p, click, by = user_id)
  metric e = ne(p, click)
  metric c = calibration(p, buy, by = scenario) where click
  metric r = ctr(p, click)
  metric q = pctr(p, click)
}
)";
  BuiltModel m = buildOk("metrics.rec", text, GraphMode::Train);
  const auto& ms = m.plan.metrics;
  ASSERT_EQ(ms.size(), 7u);
  EXPECT_EQ(ms[0].groupColumn, "scenario");
  EXPECT_EQ(ms[0].reduce, "");
  EXPECT_EQ(ms[1].reduce, "mean_by_positive_num");
  EXPECT_EQ(ms[2].reduce, "");
  EXPECT_EQ(ms[3].kind, "ne");
  EXPECT_EQ(ms[3].groupColumn, "");
  EXPECT_EQ(ms[4].kind, "calibration");
  EXPECT_EQ(ms[4].label, "buy");
  EXPECT_EQ(ms[4].filterLabel, "click");
  EXPECT_EQ(ms[4].groupColumn, "scenario");
  EXPECT_EQ(ms[5].kind, "ctr");
  EXPECT_EQ(ms[6].kind, "pctr");
  // The plan travels in checkpoints as JSON: reduce survives the round trip.
  rt::ModelPlan back = rt::planFromJson(rt::toJson(m.plan));
  EXPECT_EQ(back.metrics[1].reduce, "mean_by_positive_num");
}

} // namespace
} // namespace recc::test
