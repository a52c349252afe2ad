// Tests of the optimizers against hand-computed updates: dense SGD/Adagrad/
// Adam, and the sparse table updates (lazy Adam touches only used rows,
// duplicate ids are summed before one update, padding ids are skipped).
#include "runtime/DenseOptimizer.h"
#include "runtime/EmbeddingTable.h"

#include "TestUtil.h"

#include <cmath>

namespace recc::rt {
namespace {

/// Reference Adam in double for one scalar.
struct AdamRef {
  double w, m = 0, v = 0;
  void step(double g, int t, double lr = 0.1, double b1 = 0.9, double b2 = 0.999,
            double eps = 1e-8) {
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    double mhat = m / (1 - std::pow(b1, t)), vhat = v / (1 - std::pow(b2, t));
    w -= lr * mhat / (std::sqrt(vhat) + eps);
  }
};

OptimizerSpec spec(const std::string& kind, double lr = 0.1) {
  OptimizerSpec s;
  s.kind = kind;
  s.lr = lr;
  return s;
}

ParamStore oneParam(std::vector<float> values) {
  ParamStore p;
  p.add("w", {static_cast<int64_t>(values.size())});
  std::copy(values.begin(), values.end(), p.value(0).data());
  return p;
}

TEST(DenseOptimizer, SgdAdagradAdamMatchHandComputation) {
  const std::vector<float> g1{0.5f, -2.0f}, g2{1.0f, 0.25f};
  for (const std::string kind : {"sgd", "adagrad", "adam"}) {
    ParamStore p = oneParam({1.0f, -1.0f});
    DenseOptimizer opt(spec(kind));
    const std::vector<int> which{0};
    for (int t = 1; t <= 2; ++t) {
      const auto& g = t == 1 ? g1 : g2;
      std::copy(g.begin(), g.end(), p.grad(0).data());
      opt.step(p, which, t);
    }
    for (int i = 0; i < 2; ++i) {
      double expected;
      if (kind == "sgd") {
        expected = (i ? -1.0 : 1.0) - 0.1 * (g1[i] + g2[i]);
      } else if (kind == "adagrad") {
        double a = 0.1 + g1[i] * g1[i], w = (i ? -1.0 : 1.0) - 0.1 * g1[i] / (std::sqrt(a) + 1e-8);
        a += g2[i] * g2[i];
        expected = w - 0.1 * g2[i] / (std::sqrt(a) + 1e-8);
      } else {
        AdamRef r{i ? -1.0 : 1.0};
        r.step(g1[i], 1);
        r.step(g2[i], 2);
        expected = r.w;
      }
      EXPECT_NEAR(p.value(0)[i], expected, 1e-6) << kind << " element " << i;
    }
  }
}

TEST(DenseOptimizer, OnlyListedParametersMove) {
  ParamStore p;
  p.add("a", {3});
  p.add("frozen", {3});
  p.grad(0).fill(1.0f);
  p.grad(1).fill(1.0f);
  DenseOptimizer opt(spec("adam"));
  const std::vector<int> which{0};
  opt.step(p, which, 1);
  EXPECT_NEAR(p.value(0)[2], -0.1f, 1e-6);  // first Adam step moves by lr
  EXPECT_EQ(p.value(1)[2], 0.0f);
  EXPECT_TRUE(opt.hasState(0));
  EXPECT_FALSE(opt.hasState(1));
}

TEST(DenseOptimizer, LargeBuffersSplitAcrossThreadsGiveTheSameResult) {
  const int64_t n = 100000;
  ParamStore p;
  p.add("w", {n});
  for (int64_t i = 0; i < n; ++i)
    p.grad(0)[i] = std::sin(double(i));
  DenseOptimizer opt(spec("adam"));
  const std::vector<int> which{0};
  opt.step(p, which, 1);
  for (int64_t i : {int64_t{0}, int64_t{17}, n / 2, n - 1}) {
    AdamRef r{0.0};
    r.step(std::sin(double(i)), 1);
    EXPECT_NEAR(p.value(0)[i], r.w, 1e-6);
  }
}

EmbeddingTable rampTable(int64_t rows, int64_t dim) {
  EmbeddingTable t("emb", rows, dim);
  for (int64_t i = 0; i < rows * dim; ++i)
    t.weights()[i] = float(i);
  return t;
}

TEST(EmbeddingTable, GatherPaddingAndMultiValuedRows) {
  EmbeddingTable t = rampTable(5, 2);
  const std::vector<int64_t> ids{4, -1, 0, 4};  // e.g. [B=2, L=2]
  std::vector<float> out(8, 7.0f);
  t.gather(ids, out.data());
  EXPECT_EQ(out, (std::vector<float>{8, 9, 0, 0, 0, 1, 8, 9}));
}

TEST(EmbeddingTable, LazyAdamTouchesOnlyUsedRowsAndSumsDuplicates) {
  EmbeddingTable t = rampTable(5, 2);
  OptimizerSpec s = spec("adam");
  // Step 1: id 1 twice and id 3 once (plus a padding id, ignored).
  const std::vector<int64_t> ids{1, 3, -1, 1};
  const std::vector<float> grads{0.5f, 1.0f, -1.0f, 2.0f, 9.0f, 9.0f, 0.25f, -3.0f};
  const EmbeddingTable::RowGradients src{ids, grads.data()};
  t.applyGradients({&src, 1}, s, 1);
  AdamRef r10{2.0}, r11{3.0}, r30{6.0}, r31{7.0};
  r10.step(0.75, 1), r11.step(-2.0, 1), r30.step(-1.0, 1), r31.step(2.0, 1);
  EXPECT_NEAR(t.weights()[2], r10.w, 1e-6);
  EXPECT_NEAR(t.weights()[3], r11.w, 1e-6);
  EXPECT_NEAR(t.weights()[6], r30.w, 1e-6);
  EXPECT_NEAR(t.weights()[7], r31.w, 1e-6);
  for (int64_t untouched : {0, 1, 4, 5, 8, 9}) {
    EXPECT_EQ(t.weights()[untouched], float(untouched));
    EXPECT_EQ(t.slot(s, 0)[untouched], 0.0f);
    EXPECT_EQ(t.slot(s, 1)[untouched], 0.0f);
  }
  EXPECT_NEAR(t.slot(s, 0)[2], 0.1 * 0.75, 1e-7);

  // Step 2 (global step 2) touches only row 3, from two sources: row 1's
  // moments must not decay (lazy), row 3 gets the bias correction of t = 2.
  const std::vector<int64_t> a{3}, b{3};
  const std::vector<float> ga{1.0f, 0.0f}, gb{0.5f, 1.0f};
  const EmbeddingTable::RowGradients two[] = {{a, ga.data()}, {b, gb.data()}};
  const float m1 = t.slot(s, 0)[2];
  t.applyGradients(two, s, 2);
  r30.step(1.5, 2), r31.step(1.0, 2);
  EXPECT_NEAR(t.weights()[6], r30.w, 1e-6);
  EXPECT_NEAR(t.weights()[7], r31.w, 1e-6);
  EXPECT_NEAR(t.weights()[2], r10.w, 1e-6);
  EXPECT_EQ(t.slot(s, 0)[2], m1);
}

TEST(EmbeddingTable, SparseAdagradAndSgdUpdateTouchedRowsExactly) {
  EmbeddingTable a = rampTable(4, 1), g = rampTable(4, 1);
  const std::vector<int64_t> ids{2, 2, 0};
  const std::vector<float> grads{1.0f, 1.0f, -0.5f};
  const EmbeddingTable::RowGradients src{ids, grads.data()};
  OptimizerSpec ada = spec("adagrad", 0.5);
  ada.initialAccumulator = 0.1;
  a.applyGradients({&src, 1}, ada, 1);
  EXPECT_NEAR(a.weights()[2], 2.0 - 0.5 * 2.0 / (std::sqrt(0.1 + 4.0) + 1e-8), 1e-6);
  EXPECT_NEAR(a.weights()[0], 0.0 + 0.5 * 0.5 / (std::sqrt(0.1 + 0.25) + 1e-8), 1e-6);
  EXPECT_EQ(a.weights()[1], 1.0f);
  EXPECT_FLOAT_EQ(a.slot(ada, 0)[1], 0.1f);  // untouched accumulator keeps its start
  g.applyGradients({&src, 1}, spec("sgd", 0.5), 1);
  EXPECT_FLOAT_EQ(g.weights()[2], 1.0f);
  EXPECT_FLOAT_EQ(g.weights()[0], 0.25f);
  EXPECT_FLOAT_EQ(g.weights()[3], 3.0f);
}

TEST(EmbeddingTable, ManyDuplicatesMatchASerialSum) {
  const int64_t rows = 1000, dim = 8, n = 20000;
  EmbeddingTable t("emb", rows, dim);
  std::vector<int64_t> ids(n);
  std::vector<float> grads(n * dim);
  std::vector<double> sum(rows * dim, 0.0);
  for (int64_t i = 0; i < n; ++i) {
    ids[i] = (i * 7919) % 97;  // 97 distinct rows, ~200 duplicates each
    for (int64_t e = 0; e < dim; ++e) {
      grads[i * dim + e] = float((i % 13) - 6) * 0.01f;
      sum[ids[i] * dim + e] += grads[i * dim + e];
    }
  }
  const EmbeddingTable::RowGradients src{ids, grads.data()};
  t.applyGradients({&src, 1}, spec("sgd", 1.0), 1);
  for (int64_t i = 0; i < rows * dim; ++i)
    ASSERT_NEAR(t.weights()[i], -sum[i], 1e-4) << i;
}

// The runs list each id once, increasing, and a duplicated id's gradient rows
// in the order the sources hold them (two sources, ids over 30 bits of a
// 10^9-row table: three radix passes; and a table of 50 rows: one).
TEST(EmbeddingTable, RowRunsAreSortedByIdThenPosition) {
  for (const int64_t rows : {int64_t(1'000'000'000), int64_t(50)}) {
    EmbeddingTable t = EmbeddingTable::dynamic("emb", rows, 2, {"uniform", 0.1}, 1,
                                               spec("sgd"));
    std::vector<int64_t> a(3000), b(2000);
    for (size_t i = 0; i < a.size(); ++i) a[i] = int64_t(i * 7919 % 1201) * (rows / 1201 + 1) % rows;
    for (size_t i = 0; i < b.size(); ++i) b[i] = i % 5 == 0 ? -1 : a[(i * 31) % a.size()];
    std::vector<float> ga(a.size() * 2), gb(b.size() * 2);
    const EmbeddingTable::RowGradients src[] = {{a, ga.data()}, {b, gb.data()}};
    const EmbeddingTable::RowRuns runs = t.sortRows(src);
    // The reference: (id, position over both sources) pairs, sorted.
    std::vector<std::pair<int64_t, const float*>> want;
    for (size_t i = 0; i < a.size(); ++i) want.push_back({a[i], ga.data() + 2 * i});
    for (size_t i = 0; i < b.size(); ++i)
      if (b[i] >= 0) want.push_back({b[i], gb.data() + 2 * i});
    std::stable_sort(want.begin(), want.end(),
                     [](const auto& x, const auto& y) { return x.first < y.first; });
    ASSERT_EQ(runs.grads.size(), want.size());
    ASSERT_EQ(runs.start.size(), runs.ids.size() + 1);
    for (size_t r = 0; r < runs.ids.size(); ++r) {
      if (r > 0) ASSERT_LT(runs.ids[r - 1], runs.ids[r]);
      for (size_t k = runs.start[r]; k < runs.start[r + 1]; ++k) {
        ASSERT_EQ(want[k].first, runs.ids[r]) << k;
        ASSERT_EQ(want[k].second, runs.grads[k]) << k;
      }
    }
  }
}

} // namespace
} // namespace recc::rt
