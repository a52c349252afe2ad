// Batch-row ops: ops whose output row b depends on other rows of the batch.
// top_k retrieves, for every query row, the best of the batch's item rows by
// dot product (in serving, the batch of items is the corpus); group_sum sums
// x over the rows that share an id. top_k is not differentiable (its output
// is indices); group_sum's gradient is itself (the grouping is symmetric).
#include "compiler/ops/OpHelpers.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace recc::ophelpers {

// --- top_k ---------------------------------------------------------------------
static Shape inferTopK(const ShapeCtx& c) {
  const Shape& q = c.in[0];
  const Shape& items = c.in[1];
  int64_t k = c.attrs.getInt("k");
  if (q.rank() != 2 || q != items || !isBatchDim(q[0]))
    throw ShapeError(fmt::format("'top_k' needs a query and item vectors of one shape [B,d], "
                                 "got {} and {}", q.str(), items.str()));
  if (k < 1) throw ShapeError(fmt::format("'top_k' k must be positive, got {}", k));
  return Shape{q[0], k};
}

// Row i: the indices (as values) of the k items with the highest score
// q_i · item_j, best first; equal scores go to the lower index. When the
// batch has fewer than k items, the missing places hold -1.
static void evalTopK(const EvalCtx& c) {
  const RefTensor& q = *c.in[0];
  const RefTensor& items = *c.in[1];
  int64_t rows = q.dim(0), d = q.dim(1), k = c.out.dim(1), take = std::min(k, rows);
  std::vector<double> score(rows);
  std::vector<int64_t> order(rows);
  for (int64_t i = 0; i < rows; ++i) {
    for (int64_t j = 0; j < rows; ++j) {
      double s = 0;
      for (int64_t t = 0; t < d; ++t) s += q.data[i * d + t] * items.data[j * d + t];
      score[j] = s;
    }
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + take, order.end(), [&](int64_t a, int64_t b) {
      return score[a] > score[b] || (score[a] == score[b] && a < b);
    });
    for (int64_t p = 0; p < k; ++p) c.out.data[i * k + p] = p < take ? (double)order[p] : -1.0;
  }
}

// --- group_sum -----------------------------------------------------------------
// (x [B,...], ids [B] or [B,1]) -> [B,...]: row b gets Σ_{j: ids_j = ids_b} x_j,
// the sum over the batch rows with its id (O(B·|x row|), no one-hot).
static Shape inferGroupSum(const ShapeCtx& c) {
  const Shape& x = c.in[0];
  const Shape& ids = c.in[1];
  if (x.rank() < 1 || !isBatchDim(x[0]))
    throw ShapeError(fmt::format("'group_sum' sums over the batch rows of a value of shape "
                                 "[B,...], got {}", x.str()));
  requireStatic(x, 1, "group_sum");
  bool idsOk = (ids.rank() == 1 || (ids.rank() == 2 && ids[1] == 1)) && ids[0] == x[0];
  if (!idsOk)
    throw ShapeError(fmt::format("'group_sum' needs one id per row of {} ([B] or [B,1] of the "
                                 "same batch), got ids of shape {}", x.str(), ids.str()));
  return x;
}

// Ids compare as exact values (both executors see the same numbers).
static void evalGroupSum(const EvalCtx& c) {
  const RefTensor& x = *c.in[0];
  const auto& ids = c.in[1]->data;
  int64_t rows = x.dim(0), width = rows ? x.size() / rows : 0;
  std::map<double, std::vector<double>> sums;
  for (int64_t b = 0; b < rows; ++b) {
    auto& s = sums.try_emplace(ids[b], width, 0.0).first->second;
    for (int64_t t = 0; t < width; ++t) s[t] += x.data[b * width + t];
  }
  for (int64_t b = 0; b < rows; ++b)
    std::copy(sums[ids[b]].begin(), sums[ids[b]].end(), c.out.data.begin() + b * width);
}

// d/dx_j Σ_b dy_b · Σ_{i ~ b} x_i = Σ_{b ~ j} dy_b: group_sum(dy) again.
static std::vector<NodeId> gradGroupSum(GradBuilder& g) {
  return {g.op(OpKind::GroupSum, {g.dy(), g.x(1)}), kNoNode};
}

std::vector<OpDef> batchRowOps() {
  return {
      {.kind = OpKind::TopK, .infer = inferTopK, .eval = evalTopK, .notDifferentiable = true},
      {OpKind::GroupSum, inferGroupSum, evalGroupSum, gradGroupSum},
  };
}

} // namespace recc::ophelpers
