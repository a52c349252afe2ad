// TopK: blocked GEMM + bounded selection; see TopK.h.
#include "runtime/TopK.h"

#include "runtime/Error.h"

#include <Eigen/Core>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace recc::rt {
namespace {

struct Cand {
  float score;
  int32_t index;
};

/// The total order of every list: higher score first, then smaller index.
inline bool better(const Cand& a, const Cand& b) {
  return a.score > b.score || (a.score == b.score && a.index < b.index);
}

/// One query's candidates over one task's items, seen in increasing index
/// order: a score enters only if it beats the K-th best kept so far.
class Selector {
public:
  void reset(int64_t k) {
    K = size_t(k);
    Cap = std::max<size_t>(2 * K, K + 256);
    Buf.clear();
    Buf.reserve(Cap);
    Threshold = -std::numeric_limits<float>::infinity();
  }
  float threshold() const { return Threshold; }
  void push(float score, int32_t index) {
    Buf.push_back({score, index});
    if (Buf.size() == Cap) prune();
  }
  /// The kept candidates, best first.
  std::vector<Cand>& finish() {
    if (Buf.size() > K) prune();
    std::sort(Buf.begin(), Buf.end(), better);
    return Buf;
  }

private:
  void prune() {
    std::nth_element(Buf.begin(), Buf.begin() + (K - 1), Buf.end(), better);
    Buf.resize(K);
    Threshold = Buf[K - 1].score;
  }
  size_t K = 0, Cap = 0;
  std::vector<Cand> Buf;
  float Threshold = 0;
};

/// Offers one query's scores of items base..base+len to its selector. The
/// common case, a group of 32 scores none of which beats the threshold, is
/// one vectorized compare-and-or.
void scanRow(const float* s, int64_t len, int32_t base, Selector& sel) {
  constexpr int64_t G = 32;
  int64_t j = 0;
  for (; j + G <= len; j += G) {
    const float t = sel.threshold();
    int any = 0;
    for (int64_t g = 0; g < G; ++g) any |= s[j + g] > t;
    if (!any) continue;
    for (int64_t g = j; g < j + G; ++g)
      if (s[g] > sel.threshold()) sel.push(s[g], base + int32_t(g));
  }
  for (; j < len; ++j)
    if (s[j] > sel.threshold()) sel.push(s[j], base + int32_t(j));
}

/// Marks the excluded items of one chunk row as not-a-number, which never
/// beats a threshold.
void maskExcluded(float* row, int64_t c0, int64_t c1, std::span<const int32_t> excl) {
  auto it = std::lower_bound(excl.begin(), excl.end(), int32_t(c0));
  for (; it != excl.end() && *it < c1; ++it) row[*it - c0] = std::numeric_limits<float>::quiet_NaN();
}

struct Plan {
  int64_t queryBlocks, ranges, rangeLen;
};

/// Query blocks × item ranges: enough tasks for every thread, item ranges
/// only when there are too few query blocks, each range whole chunks.
Plan planTasks(int64_t m, int64_t n, const TopKOptions& o) {
  Plan p;
  p.queryBlocks = (m + o.queryBlock - 1) / o.queryBlock;
  const int64_t want = 2 * int64_t(tbb::this_task_arena::max_concurrency());
  const int64_t chunks = std::max<int64_t>(1, (n + o.itemChunk - 1) / o.itemChunk);
  p.ranges = std::clamp<int64_t>((want + p.queryBlocks - 1) / p.queryBlocks, 1, chunks);
  p.rangeLen = (chunks + p.ranges - 1) / p.ranges * o.itemChunk;
  p.ranges = (n + p.rangeLen - 1) / p.rangeLen;
  if (p.ranges < 1) p.ranges = 1;
  return p;
}

/// One task: queries [q0,q1) against items [i0,i1); appends each query's
/// kept candidates (best first) to out[query - q0].
void runTask(const float* queries, int64_t q0, int64_t q1, const float* items, int64_t i0,
             int64_t i1, int64_t d, const TopKOptions& o, const Exclusions& excluded,
             std::vector<std::vector<Cand>>& out) {
  const int64_t rows = q1 - q0;
  std::vector<float> scores(size_t(rows * o.itemChunk));
  std::vector<Selector> sel(static_cast<size_t>(rows));
  for (Selector& s : sel) s.reset(o.k);
  for (int64_t c0 = i0; c0 < i1; c0 += o.itemChunk) {
    const int64_t c1 = std::min(i1, c0 + o.itemChunk), len = c1 - c0;
    o.gemm(queries + q0 * d, items + c0 * d, scores.data(), rows, len, d);
    for (int64_t r = 0; r < rows; ++r) {
      float* row = scores.data() + r * len;
      if (!excluded.empty() && !excluded[size_t(q0 + r)].empty())
        maskExcluded(row, c0, c1, excluded[size_t(q0 + r)]);
      scanRow(row, len, int32_t(c0), sel[size_t(r)]);
    }
  }
  for (int64_t r = 0; r < rows; ++r) out[size_t(r)] = std::move(sel[size_t(r)].finish());
}

TopKLists emptyLists(int64_t m, int64_t k) {
  TopKLists l;
  l.k = k;
  l.index.assign(size_t(m * k), -1);
  l.score.assign(size_t(m * k), std::numeric_limits<float>::quiet_NaN());
  l.count.assign(size_t(m), 0);
  return l;
}

/// Writes the best k of `c` (sorted by `better` first) as row `u`.
void storeRow(TopKLists& l, int64_t u, std::vector<Cand>& c) {
  std::sort(c.begin(), c.end(), better);
  const int64_t n = std::min<int64_t>(l.k, int64_t(c.size()));
  for (int64_t j = 0; j < n; ++j) {
    l.index[size_t(u * l.k + j)] = c[size_t(j)].index;
    l.score[size_t(u * l.k + j)] = c[size_t(j)].score;
  }
  l.count[size_t(u)] = int32_t(n);
}

void checkArgs(int64_t m, int64_t n, int64_t d, int64_t k, const Exclusions& excluded) {
  if (k < 1) fail("top-k: k must be positive, got {}", k);
  if (n >= std::numeric_limits<int32_t>::max())
    fail("top-k: a corpus of {} items is too large (at most {})", n,
         std::numeric_limits<int32_t>::max() - 1);
  if (d < 1) fail("top-k: vectors need at least one element");
  if (!excluded.empty() && int64_t(excluded.size()) != m)
    fail("top-k: {} exclusion lists for {} queries", excluded.size(), m);
}

} // namespace

void eigenScoreGemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t d) {
  using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  Eigen::Map<const Mat> A(a, m, d), B(b, n, d);
  Eigen::Map<Mat> C(c, m, n);
  C.noalias() = A * B.transpose();
}

TopKLists topKByDot(const float* queries, int64_t m, const float* items, int64_t n, int64_t d,
                    const TopKOptions& o, const Exclusions& excluded) {
  checkArgs(m, n, d, o.k, excluded);
  TopKLists lists = emptyLists(m, o.k);
  if (m == 0 || n == 0) return lists;
  const Plan p = planTasks(m, n, o);
  // parts[range][query]: each task's candidates, merged below in range order.
  std::vector<std::vector<std::vector<Cand>>> parts(size_t(p.ranges),
                                                    std::vector<std::vector<Cand>>(size_t(m)));
  tbb::parallel_for(int64_t(0), p.queryBlocks * p.ranges, [&](int64_t t) {
    const int64_t qb = t / p.ranges, r = t % p.ranges;
    const int64_t q0 = qb * o.queryBlock, q1 = std::min(m, q0 + o.queryBlock);
    const int64_t i0 = r * p.rangeLen, i1 = std::min(n, i0 + p.rangeLen);
    std::vector<std::vector<Cand>> out(size_t(q1 - q0));
    runTask(queries, q0, q1, items, i0, i1, d, o, excluded, out);
    for (int64_t q = q0; q < q1; ++q) parts[size_t(r)][size_t(q)] = std::move(out[size_t(q - q0)]);
  });
  tbb::parallel_for(int64_t(0), m, [&](int64_t u) {
    std::vector<Cand> all = std::move(parts[0][size_t(u)]);
    for (int64_t r = 1; r < p.ranges; ++r)
      all.insert(all.end(), parts[size_t(r)][size_t(u)].begin(), parts[size_t(r)][size_t(u)].end());
    storeRow(lists, u, all);
  });
  return lists;
}

TopKLists mergeByMax(std::span<const TopKLists> lists, int64_t k) {
  if (lists.empty()) fail("top-k merge: no lists");
  const int64_t m = lists[0].rows();
  for (const TopKLists& l : lists)
    if (l.rows() != m) fail("top-k merge: lists of {} and {} rows", m, l.rows());
  TopKLists out = emptyLists(m, k);
  tbb::parallel_for(int64_t(0), m, [&](int64_t u) {
    std::vector<Cand> all;
    for (const TopKLists& l : lists)
      for (int64_t j = 0; j < l.count[size_t(u)]; ++j)
        all.push_back({l.score[size_t(u * l.k + j)], l.index[size_t(u * l.k + j)]});
    // One entry per item, with its highest score.
    std::sort(all.begin(), all.end(), [](const Cand& a, const Cand& b) {
      return a.index < b.index || (a.index == b.index && a.score > b.score);
    });
    all.erase(std::unique(all.begin(), all.end(),
                          [](const Cand& a, const Cand& b) { return a.index == b.index; }),
              all.end());
    storeRow(out, u, all);
  });
  return out;
}

TopKLists topKNaive(const float* queries, int64_t m, const float* items, int64_t n, int64_t d,
                    int64_t k, const Exclusions& excluded) {
  checkArgs(m, n, d, k, excluded);
  TopKLists lists = emptyLists(m, k);
  for (int64_t u = 0; u < m; ++u) {
    std::vector<Cand> all;
    for (int64_t i = 0; i < n; ++i) {
      if (!excluded.empty() && std::binary_search(excluded[size_t(u)].begin(),
                                                  excluded[size_t(u)].end(), int32_t(i)))
        continue;
      float s = 0;
      for (int64_t j = 0; j < d; ++j) s += queries[u * d + j] * items[i * d + j];
      if (s > -std::numeric_limits<float>::infinity()) all.push_back({s, int32_t(i)});
    }
    storeRow(lists, u, all);
  }
  return lists;
}

} // namespace recc::rt
