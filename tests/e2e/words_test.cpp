// Bags of word ids per sequence element (`ids(V, len = L, words = W)`,
// ZEUS's word segments) through the data reader, the compiler, both backends
// and the runtime:
//  - a CSV cell "1;2;3|4" is read into [L, W] ids (padding -1, truncation),
//    embedded as [B,L,W,dim] rows and pooled to the mean of each bag; the
//    forward values and mask(ws) equal a hand computation;
//  - one SGD step on loss = sum(pooled) moves each table row by exactly the
//    hand-computed gradient: (times the word occurs in a bag) / (bag size),
//    summed over bags, so dropped (truncated) words get no update;
//  - a small words model learns a signal planted in its word bags, and both
//    backends train it to the same losses.
#include "CompileHelpers.h"
#include "compiler/exec/ReferenceExecutor.h"
#include "compiler/mlir/Backend.h"
#include "compiler/passes/CompileModel.h"
#include "runtime/CsvReader.h"
#include "runtime/StepRunner.h"
#include "runtime/Trainer.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <unistd.h>

using namespace recc;

namespace {

using e2etest::Backend;
using e2etest::compile;
using e2etest::stepFor;

/// A data file in a fresh directory, removed with it.
class TempCsv {
public:
  explicit TempCsv(const std::string& text) {
    Dir = std::filesystem::temp_directory_path() /
          ("recc_words_" + std::to_string(::getpid()) + "_" + std::to_string(Count++));
    std::filesystem::create_directories(Dir);
    std::ofstream(path()) << text;
  }
  ~TempCsv() { std::filesystem::remove_all(Dir); }
  std::string path() const { return (Dir / "data.csv").string(); }

private:
  static inline int Count = 0;
  std::filesystem::path Dir;
};

const char* kBagModel = R"(model bags {
  input ws : ids(10, len = 2, words = 3)
  label y
  table word_emb[10, 2]
  x = embed(word_emb, ws)
  m = mask(ws)
  loss l = sum(x)
  output x, m
  train { optimizer = sgd(lr = 1)  batch = 3  epochs = 1 }
})";

// Row 0: bags {1,2,3} and {4}. Row 1: {5,5,6} (the 4th word, 7, is dropped)
// and an empty bag. Row 2: an empty bag and {8,9} (a third element, 1, is
// dropped); quoted, as a CSV writer may leave it.
const char* kBagData = "ws,y\n1;2;3|4,1\n5;5;6;7|,0\n\"|8;9|1\",1\n";

class WordsTest : public ::testing::TestWithParam<Backend> {};

TEST_P(WordsTest, BagsAreReadPooledAndDifferentiatedAsComputedByHand) {
  CompiledModel m = compile(kBagModel);
  TempCsv csv(kBagData);
  rt::DataSet data = rt::readDataFile(csv.path(), m.plan);
  const std::vector<int64_t> ids(data.ids(0).begin(), data.ids(0).end());
  EXPECT_EQ(ids, (std::vector<int64_t>{1, 2, 3, 4, -1, -1, 5, 5, 6, -1, -1, -1, -1, -1, -1,
                                       8, 9, -1}));
  rt::ModelState state(m.plan);
  float* w = state.tables[0].weights().data();
  for (int r = 0; r < 10; ++r) w[2 * r] = float(r), w[2 * r + 1] = float(r * r);

  auto evalFn = stepFor(m.evalGraph, 3, GetParam());
  rt::StepRunner eval(m.plan.evalStep, state, *evalFn, 3, "eval step");
  const std::vector<int64_t> rows{0, 1, 2};
  eval.run(data, rows, 0);
  ASSERT_EQ(eval.outputs().size(), 2u);
  const float* x = eval.outputs()[0].data;  // [3,2,2]: rows' bag means of (r, r²)
  const double want[12] = {2, 14.0 / 3, 4, 16, 16.0 / 3, 86.0 / 3, 0, 0, 0, 0, 8.5, 72.5};
  for (int i = 0; i < 12; ++i) EXPECT_NEAR(x[i], want[i], 1e-5) << "x[" << i << "]";
  const float* mask = eval.outputs()[1].data;  // [3,2,3]
  for (int i = 0; i < 18; ++i) EXPECT_EQ(mask[i], ids[i] >= 0 ? 1.0f : 0.0f) << "mask[" << i << "]";

  // d sum(x) / d row r = sum over bags of (occurrences of r) / (bag size).
  auto trainFn = stepFor(m.trainGraph, 3, GetParam());
  rt::StepRunner train(m.plan.trainStep, state, *trainFn, 3, "train step");
  train.run(data, rows, 0);
  EXPECT_NEAR(train.loss(), 2 + 14.0 / 3 + 4 + 16 + 16.0 / 3 + 86.0 / 3 + 8.5 + 72.5, 1e-4);
  train.applyGradients();
  const double grad[10] = {0, 1.0 / 3, 1.0 / 3, 1.0 / 3, 1, 2.0 / 3, 1.0 / 3, 0, 0.5, 0.5};
  for (int r = 0; r < 10; ++r) {
    EXPECT_NEAR(w[2 * r], r - grad[r], 1e-6) << "row " << r;
    EXPECT_NEAR(w[2 * r + 1], r * r - grad[r], 1e-5) << "row " << r;
  }
}

const char* kWordsModel = R"(model words {
  input hist : ids(30, len = 3)
  input hist_ws : ids(20, len = 3, words = 4)
  label click
  table item_emb[30, 4]
  table word_emb[20, 4]
  x = embed(item_emb, hist) + embed(word_emb, hist_ws)
  p = sigmoid(dense(masked_mean(x, mask(hist)), 1))
  loss ctr = bce(p, click)
  output p
  metric auc = auc(p, click)
  train { optimizer = adam(lr = 0.05)  batch = 16  epochs = 3 }
})";

/// Rows whose label is 1 when a bag holds a word below 5: only the word bags
/// carry the signal.
std::string plantedWords(int rows) {
  std::mt19937 rng(7);
  auto below = [&](int n) { return int(rng() % n); };
  std::ostringstream out;
  out << "hist,hist_ws,click\n";
  for (int i = 0; i < rows; ++i) {
    int n = below(4), y = 0;
    std::string hist, bags;
    for (int e = 0; e < n; ++e) {
      hist += (e ? "|" : "") + std::to_string(below(30));
      bags += e ? "|" : "";
      for (int k = 0, words = below(6); k < words; ++k) {
        int word = below(20);
        y |= word < 5 && k < 4;
        bags += (k ? ";" : "") + std::to_string(word);
      }
    }
    out << hist << "," << bags << "," << y << "\n";
  }
  return out.str();
}

std::vector<double> trainWords(Backend backend, double& auc) {
  CompiledModel m = compile(kWordsModel);
  TempCsv csv(plantedWords(480));
  rt::DataSet data = rt::readDataFile(csv.path(), m.plan);
  rt::ModelState state(m.plan);
  auto trainFn = stepFor(m.trainGraph, m.plan.batchSize, backend);
  auto evalFn = stepFor(m.evalGraph, m.plan.batchSize, backend);
  rt::Trainer trainer(state, *trainFn, *evalFn, {.threads = 1, .log = nullptr});
  std::vector<double> losses;
  for (const rt::EpochReport& r : trainer.train(data)) losses.push_back(r.meanLoss);
  auc = trainer.evaluate(data).metrics.at("auc");
  return losses;
}

TEST(WordsTraining, WordsModelLearnsAPlantedBagSignalOnBothBackends) {
  double aucRef = 0, aucJit = 0;
  std::vector<double> ref = trainWords(Backend::Reference, aucRef);
  std::vector<double> jit = trainWords(Backend::Mlir, aucJit);
  ASSERT_EQ(ref.size(), 3u);
  EXPECT_LT(ref.back(), 0.6 * ref.front());
  EXPECT_GT(aucRef, 0.95);
  for (size_t e = 0; e < ref.size(); ++e) EXPECT_NEAR(ref[e], jit[e], 1e-3) << "epoch " << e;
  EXPECT_NEAR(aucRef, aucJit, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Backends, WordsTest,
                         ::testing::Values(Backend::Reference, Backend::Mlir),
                         [](const auto& info) {
                           return info.param == Backend::Reference ? "Reference" : "Mlir";
                         });

} // namespace
