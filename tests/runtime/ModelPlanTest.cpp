// Tests of ModelPlan JSON serialization: a full round trip and the error
// messages for malformed plans, each naming the offending field.
#include "runtime/ModelPlan.h"

#include "TestUtil.h"

#include <nlohmann/json.hpp>

namespace recc::rt {
namespace {

using test::contains;
using test::errorOf;
using Role = BufferSpec::Role;

ModelPlan fullPlan() {
  ModelPlan p = test::smallPlan();
  p.optimizer = {"adagrad", 0.02, 0.8, 0.99, 1e-7, 0.25};
  p.batchSize = 512;
  p.epochs = 3;
  p.seed = 1234567890123ULL;
  p.metrics.push_back({"cvr_auc", "auc", "pcvr", "buy", "click", ""});
  p.metrics.push_back({"r10", "recall", "top", "", "click", "uid", "item", 10});
  p.states.push_back({"h.batch_norm0.var", "running_stat", {4}, "", false, 0.9, {"ones", 0}});
  p.states.push_back({"emb.ema", "ema", {10, 4}, "emb", true, 0.99, {"zeros", 0}});
  p.features.push_back({"ws", "words", FeatureSpec::Kind::MultiCategorical, 20, 3, "item_emb",
                        "none", 4});
  p.labels.push_back({"buy", "purchase"});
  p.initFrom = "pretrain";
  p.frozen = {"item_emb", "tower"};
  p.trainStep = {"train_step",
                 {{Role::Feature, "price", {-1, 1}},
                  {Role::EmbeddingRows, "hist", {-1, 3, 4}},
                  {Role::Label, "click", {-1}},
                  {Role::Param, "w0", {3, 2}},
                  {Role::Seed, "seed", {}},
                  {Role::Output, "p", {-1, 1}},
                  {Role::Loss, "loss", {}},
                  {Role::LossTerm, "ctr", {}},
                  {Role::Gradient, "w0", {3, 2}}}};
  p.evalStep = {"eval_step", {{Role::Output, "p", {-1}}}};
  return p;
}

TEST(ModelPlanJson, RoundTripKeepsEveryField) {
  ModelPlan p = fullPlan();
  std::string json = toJson(p);
  ModelPlan q = planFromJson(json);
  EXPECT_EQ(toJson(q), json);
  EXPECT_EQ(q.model, "tiny");
  ASSERT_EQ(q.features.size(), 5u);
  EXPECT_EQ(q.features[4].words, 4);
  EXPECT_EQ(idsPerRow(q.features[4]), 12);
  EXPECT_EQ(q.initFrom, "pretrain");
  EXPECT_EQ(q.frozen, (std::vector<std::string>{"item_emb", "tower"}));
  EXPECT_TRUE(isFrozen(q, "tower.dense0.w"));
  EXPECT_TRUE(isFrozen(q, "item_emb"));
  EXPECT_FALSE(isFrozen(q, "tower2.dense0.w"));
  EXPECT_FALSE(isFrozen(q, "user_emb"));
  EXPECT_EQ(q.features[1].kind, FeatureSpec::Kind::MultiCategorical);
  EXPECT_EQ(q.features[1].maxLen, 3);
  EXPECT_EQ(q.features[3].transform, "tanh_zscore");
  EXPECT_EQ(q.labels[1].column, "purchase");
  EXPECT_EQ(q.tables[1].init.kind, "normal");
  EXPECT_DOUBLE_EQ(q.tables[1].init.scale, 0.01);
  EXPECT_EQ(q.params[0].shape, (std::vector<int64_t>{3, 2}));
  EXPECT_EQ(q.optimizer.kind, "adagrad");
  EXPECT_DOUBLE_EQ(q.optimizer.initialAccumulator, 0.25);
  EXPECT_EQ(q.seed, 1234567890123ULL);
  EXPECT_EQ(q.metrics[3].filterLabel, "click");
  EXPECT_EQ(q.metrics[1].groupColumn, "user_id");
  EXPECT_EQ(q.metrics[4].targetColumn, "item");
  EXPECT_EQ(q.metrics[4].k, 10);
  ASSERT_EQ(q.states.size(), 2u);
  EXPECT_EQ(q.states[0].init.kind, "ones");
  EXPECT_DOUBLE_EQ(q.states[0].decay, 0.9);
  EXPECT_TRUE(q.states[1].table);
  EXPECT_EQ(q.states[1].of, "emb");
  EXPECT_EQ(q.states[1].shape, (std::vector<int64_t>{10, 4}));
  ASSERT_EQ(q.trainStep.buffers.size(), 9u);
  EXPECT_EQ(q.trainStep.buffers[4].role, Role::Seed);
  EXPECT_TRUE(q.trainStep.buffers[4].shape.empty());
  EXPECT_EQ(q.trainStep.buffers[8].role, Role::Gradient);
  EXPECT_EQ(q.evalStep.symbol, "eval_step");
}

TEST(ModelPlanJson, OptionalFieldsKeepDefaults) {
  ModelPlan q = planFromJson(R"({"model": "m", "features": [{"name": "a", "kind": "dense"}]})");
  EXPECT_EQ(q.features[0].column, "a");
  EXPECT_EQ(q.features[0].transform, "none");
  EXPECT_EQ(q.batchSize, 256);
  EXPECT_EQ(q.optimizer.kind, "adam");
  EXPECT_TRUE(q.initFrom.empty());
  EXPECT_TRUE(q.frozen.empty());
  EXPECT_EQ(errorOf([] { planFromJson(R"({"model": "m", "frozen": ["a", 1]})"); }),
            "model plan: field 'frozen': expected an array of strings, got [\"a\",1]");
}

TEST(ModelPlanJson, ErrorsNameTheField) {
  EXPECT_TRUE(contains(errorOf([] { planFromJson("{\"model\": "); }),
                       "model plan: malformed JSON"));
  EXPECT_EQ(errorOf([] { planFromJson("{}"); }), "model plan: missing field 'model'");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","tables":[{"name":"t","rows":"10","dim":4}]})");
            }),
            "model plan: field 'tables[0].rows': expected an integer, got \"10\"");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","tables":[{"name":"t","rows":10}]})");
            }),
            "model plan: missing field 'tables[0].dim'");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","features":[{"name":"a","kind":"sparse"}]})");
            }),
            "model plan: field 'features[0].kind': expected one of categorical, "
            "multi_categorical, dense, got 'sparse'");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","trainStep":{"buffers":[
                {"role":"param","name":"w","shape":[1]},
                {"role":"weights","name":"w","shape":[1]}]}})");
            }),
            "model plan: field 'trainStep.buffers[1].role': expected one of feature, "
            "embedding_rows, label, param, seed, state, progress, batch_slice, output, loss, loss_term, "
            "gradient, state_update, got "
            "'weights'");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","params":[{"name":"w","shape":[2,"x"]}]})");
            }),
            "model plan: field 'params[0].shape': expected an array of integers, got "
            "[2,\"x\"]");
  EXPECT_EQ(errorOf([] { planFromJson(R"({"model":"m","seed":-1})"); }),
            "model plan: field 'seed': expected a non-negative integer, got -1");
  EXPECT_EQ(errorOf([] { planFromJson(R"({"model":"m","labels":{}})"); }),
            "model plan: field 'labels': expected an array, got object");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","states":[{"name":"s","kind":"ema","shape":[1],
                                "table":1}]})");
            }),
            "model plan: field 'states[0].table': expected a boolean, got 1");
  EXPECT_EQ(errorOf([] {
              planFromJson(R"({"model":"m","states":[{"name":"s","kind":"avg","shape":[1]}]})");
            }),
            "model plan: field 'states[0].kind': expected one of running_stat, ema, got 'avg'");
  EXPECT_EQ(errorOf([] { planFromJson(R"({"model":"m","batchSize":0})"); }),
            "model plan: field 'batchSize': must be positive, got 0");
}

} // namespace
} // namespace recc::rt
