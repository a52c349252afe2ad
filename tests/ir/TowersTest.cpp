// Towers: the user and item towers derived from the shipped matching models'
// top_k outputs read exactly the user-side and the item-side inputs, and
// MIND's four interests give four queries over one item tower.
#include "compiler/passes/Towers.h"
#include "dsl/Parser.h"
#include "runtime/RetrievalData.h"

#include <gtest/gtest.h>

#include <fstream>
#include <set>
#include <sstream>

namespace recc {
namespace {

std::string readModel(const std::string& file) {
  std::ifstream in(std::string(RECC_REPO_ROOT) + "/models/" + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Towers towersOf(const std::string& file, const std::string& model,
                rt::ModelPlan* plan = nullptr) {
  DiagnosticEngine diag;
  auto compiled = compileModelSource(file, readModel(file), model, diag);
  EXPECT_TRUE(compiled) << file << " " << model;
  auto towers = deriveTowers(*compiled, file, diag);
  EXPECT_TRUE(towers) << file << " " << model;
  if (plan) *plan = compiled->plan;
  return std::move(*towers);
}

/// The data inputs (features and embedded ids) a tower's step reads.
std::set<std::string> inputsOf(const rt::StepSpec& spec) {
  std::set<std::string> names;
  for (const rt::BufferSpec& b : spec.buffers)
    if (b.role == rt::BufferSpec::Role::Feature || b.role == rt::BufferSpec::Role::EmbeddingRows ||
        b.role == rt::BufferSpec::Role::Label)
      names.insert(b.name);
  return names;
}

int outputsOf(const rt::StepSpec& spec) {
  int n = 0;
  for (const rt::BufferSpec& b : spec.buffers) n += b.role == rt::BufferSpec::Role::Output;
  return n;
}

const std::set<std::string> kUser{"user_id", "gender", "age", "hist"};
const std::set<std::string> kItem{"item_id", "cate_id", "item_ctr"};

TEST(Towers, MatchingModelsSplitIntoUserAndItemSides) {
  for (const auto& [file, model] : std::vector<std::pair<std::string, std::string>>{
           {"uma2.rec", "uma2"}, {"youtube_dnn.rec", "youtube_dnn"},
           {"uma2_baselines.rec", "esam_ytb"}, {"uma2_baselines.rec", "uma2_sos_ytb"}}) {
    rt::ModelPlan plan;
    Towers t = towersOf(file, model, &plan);
    EXPECT_EQ(inputsOf(t.spec.user), kUser) << model;
    // The default keys: the first id input of each tower (hist is a list).
    const int user = rt::keyFeature(plan, t.spec.user, "", "--user-key", "user");
    const int item = rt::keyFeature(plan, t.spec.item, "", "--item-key", "item");
    EXPECT_EQ(plan.features[size_t(user)].name, "user_id") << model;
    EXPECT_EQ(plan.features[size_t(item)].name, "item_id") << model;
    EXPECT_EQ(inputsOf(t.spec.item), kItem) << model;
    EXPECT_EQ(t.spec.topK, std::vector<std::string>{"top_items"}) << model;
    EXPECT_EQ(t.spec.k, std::vector<int64_t>{200}) << model;
  }
}

TEST(Towers, DatAndFmReadTheirExtraIdInputs) {
  Towers dat = towersOf("uma2_baselines.rec", "dat");
  EXPECT_EQ(inputsOf(dat.spec.user), (std::set<std::string>{"user_id", "gender", "age", "hist", "user_a"}));
  EXPECT_EQ(inputsOf(dat.spec.item), (std::set<std::string>{"item_id", "cate_id", "item_ctr", "item_a"}));
  Towers fm = towersOf("uma2_baselines.rec", "fm");
  EXPECT_EQ(inputsOf(fm.spec.item),
            (std::set<std::string>{"item_id", "cate_id", "item_ctr", "item_w", "cate_w"}));
}

TEST(Towers, MindRetrievesWithEachInterest) {
  Towers t = towersOf("uma2_baselines.rec", "mind");
  EXPECT_EQ(t.spec.topK, (std::vector<std::string>{"top_0", "top_1", "top_2", "top_3"}));
  EXPECT_EQ(outputsOf(t.spec.user), 4);
  EXPECT_EQ(outputsOf(t.spec.item), 1);
  EXPECT_EQ(inputsOf(t.spec.user), kUser);
  EXPECT_EQ(inputsOf(t.spec.item), kItem);
}

TEST(Towers, AModelWithoutTopKIsAnError) {
  DiagnosticEngine diag;
  auto compiled = compileModelSource("dssm.rec", readModel("dssm.rec"), "", diag);
  ASSERT_TRUE(compiled);
  std::ostringstream err;
  DiagnosticEngine report(&err);
  EXPECT_FALSE(deriveTowers(*compiled, "dssm.rec", report));
  EXPECT_NE(err.str().find("model 'dssm' has no top_k output"), std::string::npos) << err.str();
}

} // namespace
} // namespace recc
