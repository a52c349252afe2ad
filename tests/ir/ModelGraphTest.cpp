// Every model of every models/*.rec file compiles as `recc check` does (parse,
// check, build both graphs, autodiff), and each printable graph equals its
// golden in tests/ir/golden/:
//   FILE.MODEL.graph           the forward train graph (`recc graph --forward`)
//   FILE.MODEL.backward.graph  the whole train graph, autodiff's nodes included
//                              (`recc graph`)
//   FILE.MODEL.eval.graph      the evaluation graph (`recc graph --eval`)
// Set RECC_UPDATE_GOLDEN=1 to rewrite the golden files after an intended
// change (and review the diff). Also: what the plans of a few models carry.
#include "compiler/ir/GraphPrinter.h"
#include "compiler/passes/CompileModel.h"
#include "dsl/Parser.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace recc {
namespace {

namespace fs = std::filesystem;

std::string repoPath(const std::string& rel) { return std::string(RECC_REPO_ROOT) + "/" + rel; }

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct ModelRef {
  std::string file, model;
};

/// Every (file, model) pair of models/*.rec, in name order.
std::vector<ModelRef> shippedModels() {
  std::vector<ModelRef> out;
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(repoPath("models")))
    if (e.path().extension() == ".rec") files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    DiagnosticEngine diag;
    auto prog = parseProgram(f, readFile(repoPath("models/" + f)), diag);
    for (const auto& d : prog->decls)
      if (auto* m = ast::dynCast<ast::ModelDecl>(d.get())) out.push_back({f, m->name.name});
  }
  return out;
}

class ModelGraphTest : public ::testing::TestWithParam<ModelRef> {};

/// Compares `printed` with golden FILE.MODEL<suffix>.graph (or rewrites it).
void expectGolden(const ModelRef& r, const std::string& suffix, const std::string& printed) {
  std::string stem = r.file.substr(0, r.file.size() - 4);
  std::string golden = repoPath("tests/ir/golden/" + stem + "." + r.model + suffix + ".graph");
  if (std::getenv("RECC_UPDATE_GOLDEN")) {
    std::ofstream(golden) << printed;
    GTEST_SKIP() << "rewrote " << golden;
  }
  EXPECT_EQ(printed, readFile(golden)) << "golden " << golden
                                       << " differs; RECC_UPDATE_GOLDEN=1 rewrites it";
}

CompiledModel compileShipped(const ModelRef& r) {
  DiagnosticEngine diag;
  auto m = compileModelSource("models/" + r.file, readFile(repoPath("models/" + r.file)), r.model,
                              diag);
  if (!m) throw std::runtime_error(diag.render());
  return std::move(*m);
}

std::string printed(const Graph& g, const std::string& title, bool backward) {
  std::ostringstream os;
  printGraph(g, title, os, {.locations = false, .backward = backward});
  return os.str();
}

TEST_P(ModelGraphTest, ForwardGraphMatchesGolden) {
  CompiledModel m = compileShipped(GetParam());
  expectGolden(GetParam(), "", printed(m.trainGraph, m.plan.model + ".train", false));
}

TEST_P(ModelGraphTest, BackwardGraphMatchesGolden) {
  CompiledModel m = compileShipped(GetParam());
  expectGolden(GetParam(), ".backward", printed(m.trainGraph, m.plan.model + ".train", true));
}

TEST_P(ModelGraphTest, EvalGraphMatchesGolden) {
  CompiledModel m = compileShipped(GetParam());
  expectGolden(GetParam(), ".eval", printed(m.evalGraph, m.plan.model + ".eval", true));
}

INSTANTIATE_TEST_SUITE_P(Models, ModelGraphTest, ::testing::ValuesIn(shippedModels()),
                         [](const ::testing::TestParamInfo<ModelRef>& info) {
                           std::string name = info.param.model;
                           for (char& c : name)
                             if (!isalnum((unsigned char)c)) c = '_';
                           return name;
                         });

std::optional<CompiledModel> compileOk(const std::string& src, DiagnosticEngine& diag) {
  auto m = compileModelSource("t.rec", src, "", diag);
  EXPECT_TRUE(m.has_value()) << diag.render();
  return m;
}

// stop_gradient (once a shape-only op): Autodiff passes no gradient through
// it, and the dense layer's parameters still get theirs.
TEST(ModelPlan, StopGradientBlocksOnlyItsPath) {
  DiagnosticEngine diag;
  auto m = compileOk(R"(model m {
  input x : dense
  label y
  a = stop_gradient(x) + stop_gradient(x)
  loss l = bce(sigmoid(dense(a, 1)), y)
})", diag);
  ASSERT_TRUE(m);
  EXPECT_NE(m->trainGraph.findOutput(ValueRole::Gradient, "l.dense0.w"), kNoNode);
}

// A `stream` block's inputs and labels read stream 1 (batch dimension B1);
// the plan says which stream each reads and the stream's own batch size.
TEST(ModelPlan, StreamsCarryTheirInputsAndBatch) {
  DiagnosticEngine diag;
  auto m = compileOk(R"(model m {
  input x : dense
  label y
  stream tgt batch = 3 {
    input x_t from "x" : dense
    label y_t from "y"
  }
  loss l = bce(sigmoid(dense(x, 1)), y) + bce(sigmoid(dense(x_t, 1)), y_t)
  train { batch = 4 }
})", diag);
  ASSERT_TRUE(m);
  ASSERT_EQ(m->plan.streams.size(), 1u);
  EXPECT_EQ(m->plan.streams[0].name, "tgt");
  EXPECT_EQ(m->plan.streams[0].batchSize, 3);
  ASSERT_EQ(m->plan.features.size(), 2u);
  EXPECT_EQ(m->plan.features[0].stream, 0);
  EXPECT_EQ(m->plan.features[1].stream, 1);
  EXPECT_EQ(m->plan.features[1].column, "x");
  EXPECT_EQ(m->plan.labels[1].stream, 1);
  EXPECT_EQ(rt::trainBatches(m->plan), rt::BatchSizes({4, 3}));
  EXPECT_EQ(m->trainGraph.node(m->trainGraph.findInput(ValueRole::Feature, "x_t")).shape.str(), "[B1,1]");
  // The plan survives JSON (a compiled trainer carries it so).
  rt::ModelPlan back = rt::planFromJson(rt::toJson(m->plan));
  EXPECT_EQ(back.streams[0].batchSize, 3);
  EXPECT_EQ(back.features[1].stream, 1);
  EXPECT_EQ(back.labels[1].stream, 1);
}

TEST(ModelPlan, StageTransferAndWordBags) {
  // zeus_finetune's plan carries the stage for the runtime (--init-from,
  // frozen tensors).
  DiagnosticEngine diag;
  auto m = compileModelSource("zeus.rec", readFile(repoPath("models/zeus.rec")), "zeus_finetune",
                              diag);
  ASSERT_TRUE(m.has_value()) << diag.render();
  EXPECT_EQ(m->plan.initFrom, "zeus_pretrain");
  EXPECT_EQ(m->plan.frozen, (std::vector<std::string>{"query_emb", "product_emb"}));
  // Frozen tables get no gradient at all.
  EXPECT_EQ(m->trainGraph.findOutput(ValueRole::Gradient, "tq_id"), kNoNode);
  EXPECT_NE(m->trainGraph.findOutput(ValueRole::Gradient, "tq_cat"), kNoNode);
  EXPECT_NE(m->trainGraph.findOutput(ValueRole::Gradient, "sq_ws"), kNoNode);
}

} // namespace
} // namespace recc
