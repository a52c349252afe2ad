// TopK: the blocked top-K against a full sort of every score, at several
// thread counts and block shapes. Vectors hold small integers, so every dot
// product is exact whatever the summation order, and scores tie often: the
// lists must agree entry for entry, ties broken by the smaller index.
#include "runtime/TopK.h"

#include <gtest/gtest.h>
#include <tbb/global_control.h>

#include <cmath>
#include <random>

namespace recc::rt {
namespace {

std::vector<float> randomInts(int64_t n, int lo, int hi, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<int> u(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = float(u(rng));
  return v;
}

void expectSame(const TopKLists& a, const TopKLists& b) {
  ASSERT_EQ(a.rows(), b.rows());
  ASSERT_EQ(a.k, b.k);
  EXPECT_EQ(a.count, b.count);
  EXPECT_EQ(a.index, b.index);
  for (size_t i = 0; i < a.score.size(); ++i)
    if (a.index[i] >= 0) EXPECT_EQ(a.score[i], b.score[i]) << "entry " << i;
}

struct Case {
  int64_t m, n, d, k, queryBlock, itemChunk;
};

TEST(TopK, MatchesFullSortAtEveryThreadCountAndBlocking) {
  for (const Case& c : {Case{300, 5003, 8, 50, 32, 256}, Case{7, 20000, 16, 200, 128, 2048},
                        Case{130, 999, 5, 1000, 128, 2048}, Case{1, 3, 4, 2, 1, 1}}) {
    std::vector<float> q = randomInts(c.m * c.d, -3, 3, 1), items = randomInts(c.n * c.d, -3, 3, 2);
    TopKLists naive = topKNaive(q.data(), c.m, items.data(), c.n, c.d, c.k);
    for (int threads : {1, 2, 5}) {
      tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
      TopKOptions o{.k = c.k, .queryBlock = c.queryBlock, .itemChunk = c.itemChunk};
      TopKLists fast = topKByDot(q.data(), c.m, items.data(), c.n, c.d, o);
      SCOPED_TRACE(testing::Message() << "m=" << c.m << " n=" << c.n << " threads=" << threads);
      expectSame(fast, naive);
    }
  }
}

TEST(TopK, TiesGoToTheSmallerIndex) {
  std::vector<float> q{1, 1}, items(100 * 2, 0.5f);
  items[2 * 70] = 2;  // item 70 scores 2.5, all others 1
  TopKLists l = topKByDot(q.data(), 1, items.data(), 100, 2, {.k = 4, .itemChunk = 16});
  EXPECT_EQ(l.index, (std::vector<int32_t>{70, 0, 1, 2}));
  EXPECT_EQ(l.score, (std::vector<float>{2.5f, 1, 1, 1}));
}

TEST(TopK, ExcludedItemsAreNeverRetrieved) {
  const int64_t m = 40, n = 3000, d = 6, k = 30;
  std::vector<float> q = randomInts(m * d, -2, 2, 3), items = randomInts(n * d, -2, 2, 4);
  std::vector<std::vector<int32_t>> seen(m);
  std::mt19937_64 rng(5);
  for (auto& s : seen) {
    for (int j = 0; j < 200; ++j) s.push_back(int32_t(rng() % n));
    std::sort(s.begin(), s.end());
    s.erase(std::unique(s.begin(), s.end()), s.end());
  }
  Exclusions ex(seen.begin(), seen.end());
  TopKLists naive = topKNaive(q.data(), m, items.data(), n, d, k, ex);
  for (int threads : {1, 3}) {
    tbb::global_control limit(tbb::global_control::max_allowed_parallelism, threads);
    TopKLists fast =
        topKByDot(q.data(), m, items.data(), n, d, {.k = k, .queryBlock = 8, .itemChunk = 128}, ex);
    expectSame(fast, naive);
  }
  for (int64_t u = 0; u < m; ++u)
    for (int64_t j = 0; j < naive.count[u]; ++j)
      EXPECT_FALSE(std::binary_search(seen[u].begin(), seen[u].end(), naive.index[u * k + j]));
}

TEST(TopK, ShortListsWhenFewItemsAreLeft) {
  std::vector<float> q{1}, items{3, 1, 2};
  std::vector<int32_t> skip{0};
  Exclusions ex{skip};
  TopKLists l = topKByDot(q.data(), 1, items.data(), 3, 1, {.k = 5}, ex);
  EXPECT_EQ(l.count[0], 2);
  EXPECT_EQ(l.index, (std::vector<int32_t>{2, 1, -1, -1, -1}));
}

TEST(TopK, NotANumberIsNeverRetrieved) {
  std::vector<float> q{1}, items{1, NAN, 2};
  TopKLists l = topKByDot(q.data(), 1, items.data(), 3, 1, {.k = 3});
  EXPECT_EQ(l.count[0], 2);
  EXPECT_EQ(l.index[0], 2);
  EXPECT_EQ(l.index[1], 0);
}

/// The merge of per-query lists is the top k by the max over the queries.
TEST(TopK, MergeByMaxIsTheTopOfTheMaxScore) {
  const int64_t m = 50, n = 4000, d = 4, k = 60, queries = 3;
  std::vector<float> items = randomInts(n * d, -3, 3, 6);
  std::vector<std::vector<float>> q;
  std::vector<TopKLists> lists;
  for (int64_t i = 0; i < queries; ++i) {
    q.push_back(randomInts(m * d, -3, 3, 10 + i));
    lists.push_back(topKByDot(q.back().data(), m, items.data(), n, d, {.k = k, .itemChunk = 512}));
  }
  TopKLists merged = mergeByMax(lists, k);
  for (int64_t u = 0; u < m; ++u) {
    std::vector<std::pair<float, int32_t>> all;
    for (int64_t i = 0; i < n; ++i) {
      float best = -INFINITY;
      for (int64_t j = 0; j < queries; ++j) {
        float s = 0;
        for (int64_t c = 0; c < d; ++c) s += q[j][u * d + c] * items[i * d + c];
        best = std::max(best, s);
      }
      all.push_back({-best, int32_t(i)});
    }
    std::sort(all.begin(), all.end());
    for (int64_t j = 0; j < k; ++j) {
      EXPECT_EQ(merged.index[u * k + j], all[j].second) << "user " << u << " rank " << j;
      EXPECT_EQ(merged.score[u * k + j], -all[j].first);
    }
  }
}

} // namespace
} // namespace recc::rt
