// Reference kernels whose results are not derivatives of anything, checked on
// hand-made inputs: the index-built tensors (one_hot, causal_mask), the tie
// rule of argmax_mask (reduce_max's gradient), top_k against a full sort and
// group_sum against a double loop.
#include "compiler/ops/OpDef.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>

using namespace recc;

namespace {

/// Runs the reference kernel of `kind` on concrete inputs.
RefTensor eval(OpKind kind, std::vector<RefTensor> in, const Attrs& attrs,
               std::vector<int64_t> outShape) {
  std::vector<const RefTensor*> ptrs;
  for (const auto& t : in) ptrs.push_back(&t);
  RefTensor out(std::move(outShape));
  opDef(kind).eval(EvalCtx{ptrs, attrs, out});
  return out;
}

RefTensor tensor(std::vector<int64_t> shape, std::vector<double> data) {
  RefTensor t(std::move(shape));
  t.data = std::move(data);
  return t;
}

}  // namespace

TEST(Kernel, OneHotZeroRowsOutsideDepth) {
  // -1 (padding) and 4 (>= depth) give zero rows.
  RefTensor y = eval(OpKind::OneHot, {tensor({4}, {0, 3, -1, 4})}, {{"depth", int64_t(4)}}, {4, 4});
  std::vector<double> want{1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0};
  EXPECT_EQ(y.data, want);
}

TEST(Kernel, CausalMask) {
  RefTensor y = eval(OpKind::CausalMask, {}, {{"size", int64_t(3)}}, {3, 3});
  EXPECT_EQ(y.data, (std::vector<double>{1, 0, 0, 1, 1, 0, 1, 1, 1}));
}

// Exactly one element per group, the first maximum in row-major order over
// the reduced axes.
TEST(Kernel, ArgMaxMaskFirstMaximumWins) {
  RefTensor x = tensor({2, 2, 3}, {1, 3, 3, 0, 3, 2,    // group 0 (axes 1,2): max 3 at [0,1]
                                   2, 2, 2, 2, 2, 2});  // group 1: all equal, [0,0] wins
  RefTensor all = eval(OpKind::ArgMaxMask, {x}, {{"axes", std::vector<int64_t>{1, 2}}}, {2, 2, 3});
  EXPECT_EQ(all.data, (std::vector<double>{0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0}));
  RefTensor rows = eval(OpKind::ArgMaxMask, {x}, {{"axes", std::vector<int64_t>{1}}}, {2, 2, 3});
  EXPECT_EQ(rows.data, (std::vector<double>{1, 1, 1, 0, 0, 0, 1, 1, 1, 0, 0, 0}));
}

// top_k against a full stable sort of every row's scores, on small integer
// vectors (exact dot products, many equal scores).
TEST(Kernel, TopKMatchesAFullSortWithTies) {
  const int64_t rows = 23, d = 3;
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> u(-1, 1);
  RefTensor q({rows, d}), items({rows, d});
  for (auto* t : {&q, &items})
    for (auto& v : t->data) v = u(rng);
  for (int64_t k : {1, 5, 23, 30}) {
    RefTensor y = eval(OpKind::TopK, {q, items}, {{"k", k}}, {rows, k});
    for (int64_t i = 0; i < rows; ++i) {
      std::vector<double> score(rows);
      for (int64_t j = 0; j < rows; ++j)
        for (int64_t t = 0; t < d; ++t) score[j] += q.data[i * d + t] * items.data[j * d + t];
      std::vector<int64_t> order(rows);
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int64_t a, int64_t b) { return score[a] > score[b]; });
      for (int64_t p = 0; p < k; ++p)
        EXPECT_EQ(y.data[i * k + p], p < rows ? (double)order[p] : -1.0)
            << "row " << i << " place " << p << " k " << k;
    }
  }
}

TEST(Kernel, GroupSumMatchesADoubleLoop) {
  RefTensor x = tensor({5, 2}, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  RefTensor ids = tensor({5, 1}, {2, 0, 2, 1, 2});
  RefTensor y = eval(OpKind::GroupSum, {x, ids}, {}, {5, 2});
  for (int64_t b = 0; b < 5; ++b)
    for (int64_t t = 0; t < 2; ++t) {
      double want = 0;
      for (int64_t j = 0; j < 5; ++j)
        if (ids.data[j] == ids.data[b]) want += x.data[j * 2 + t];
      EXPECT_EQ(y.data[b * 2 + t], want) << b << "," << t;
    }
}

// Row b times its id's matrix; id -1 selects nothing. scatter_matmul sums
// each row's outer product into its id's matrix.
TEST(Kernel, GatherAndScatterMatMulRouteRowsByTheirIds) {
  RefTensor x = tensor({3, 2}, {1, 2, 3, 4, 5, 6});
  RefTensor w = tensor({2, 2, 1}, {1, 10, 100, 1000});
  RefTensor ids = tensor({3, 1}, {1, -1, 0});
  RefTensor y = eval(OpKind::GatherMatMul, {x, w, ids}, {}, {3, 1});
  EXPECT_EQ(y.data, (std::vector<double>{2100, 0, 65}));
  RefTensor dy = tensor({3, 1}, {1, 2, 3});
  RefTensor g = eval(OpKind::ScatterMatMul, {x, dy, ids}, {{"depth", int64_t(2)}}, {2, 2, 1});
  EXPECT_EQ(g.data, (std::vector<double>{15, 18, 1, 2}));
}

// Dropout with a batch slice: each slice of rows [first, first + n) of a
// global batch of R rows draws exactly those rows of the global mask, on any
// batch axis, and the slice [0, n] of a whole batch is the plain flat index.
TEST(Kernel, DropoutSlicesDrawTheirRowsOfTheGlobalMask) {
  for (int64_t axis : {0, 1}) {
    SCOPED_TRACE("batch axis " + std::to_string(axis));
    const int64_t rows = 8, lead = 3, width = 5;
    auto shapeOf = [&](int64_t n) {
      return axis == 0 ? std::vector<int64_t>{n, lead, width} : std::vector<int64_t>{lead, n, width};
    };
    const Attrs attrs{{"p", 0.5}, {"salt", int64_t(3)}, {"batch_axis", axis}};
    RefTensor ones(shapeOf(rows), 1.0), seed = tensor({}, {1234});
    RefTensor whole = eval(OpKind::Dropout, {ones, seed, tensor({2}, {0, double(rows)})}, attrs,
                           shapeOf(rows));
    RefTensor plain = eval(OpKind::Dropout, {ones, seed}, {{"p", 0.5}, {"salt", int64_t(3)}},
                           shapeOf(rows));
    EXPECT_EQ(whole.data, plain.data);
    EXPECT_GT(std::count(whole.data.begin(), whole.data.end(), 0.0), 20);
    for (int64_t first : {0, 2, 4, 6}) {
      RefTensor part = eval(OpKind::Dropout,
                            {RefTensor(shapeOf(2), 1.0), seed, tensor({2}, {double(first), double(rows)})},
                            attrs, shapeOf(2));
      for (int64_t a = 0; a < lead; ++a)
        for (int64_t r = 0; r < 2; ++r)
          for (int64_t w = 0; w < width; ++w) {
            int64_t g = axis == 0 ? ((first + r) * lead + a) * width + w
                                  : (a * rows + first + r) * width + w;
            int64_t l = axis == 0 ? (r * lead + a) * width + w : (a * 2 + r) * width + w;
            EXPECT_EQ(part.data[size_t(l)], whole.data[size_t(g)]) << "row " << first + r;
          }
    }
  }
}
