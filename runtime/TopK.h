// TopK: the exact top-K items of a corpus for many query vectors by dot
// product, the scoring half of retrieval (Retrieval.h). A blocked GEMM
// (query blocks × item chunks, each score block small enough for the core's
// cache) feeds a per-query selection that keeps a bounded candidate buffer:
// a score enters only if it beats the current K-th best (checked 16 scores at
// a time, so after the first chunks almost every score is rejected by a
// vectorized max), and a full buffer is cut back to K with nth_element.
//
// The order is total and deterministic: score descending, ties broken by the
// smaller item index. Each task scans its items in increasing index order, so
// a later item that ties the K-th best loses and the strict `>` test is exact;
// tasks (query blocks × item ranges, run over TBB) are merged in that order,
// so the lists do not depend on the thread count. Items whose score is not a
// number never enter a list, nor do excluded items; a list is shorter than K
// when fewer items are left.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace recc::rt {

/// Row-major C[m,n] = A[m,d] · B[n,d]ᵀ.
using ScoreGemm = void (*)(const float* a, const float* b, float* c, int64_t m, int64_t n,
                           int64_t d);
/// Eigen's GEMM (always available).
void eigenScoreGemm(const float* a, const float* b, float* c, int64_t m, int64_t n, int64_t d);

struct TopKOptions {
  int64_t k = 100;
  ScoreGemm gemm = eigenScoreGemm;
  int64_t queryBlock = 128;  ///< queries per GEMM block
  int64_t itemChunk = 2048;  ///< items per GEMM block
};

/// The lists of `queries` rows: row u holds count[u] <= k entries, best first.
struct TopKLists {
  int64_t k = 0;
  std::vector<int32_t> index;  ///< [rows, k] corpus indices (-1 past count)
  std::vector<float> score;    ///< [rows, k]
  std::vector<int32_t> count;  ///< [rows]
  int64_t rows() const { return int64_t(count.size()); }
};

/// Sorted corpus indices each query row must not retrieve (empty: none).
using Exclusions = std::vector<std::span<const int32_t>>;

/// Exact top-k of `items` [n,d] for every row of `queries` [m,d]. Threads:
/// TBB's (cap them with tbb::global_control).
TopKLists topKByDot(const float* queries, int64_t m, const float* items, int64_t n, int64_t d,
                    const TopKOptions& options, const Exclusions& excluded = {});

/// Multi-interest retrieval: each row's lists from several queries merged,
/// an item's score being its highest over the lists, then the best k in the
/// same total order. Exact for "top k by max over interests" when every list
/// is its query's exact top-k (an item outranked in its best list by j items
/// is outranked by them in the merge too).
TopKLists mergeByMax(std::span<const TopKLists> lists, int64_t k);

/// The plain reference: scores every item, sorts everything (for tests).
TopKLists topKNaive(const float* queries, int64_t m, const float* items, int64_t n, int64_t d,
                    int64_t k, const Exclusions& excluded = {});

} // namespace recc::rt
