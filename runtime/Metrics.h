// Metrics: the evaluation metrics of ranking models, computed exactly over a
// whole data set (no bucketed approximations):
//   auc      P(score of a random positive > score of a random negative), ties
//            counting half; a rank statistic over one sort, O(n log n).
//   gauc     mean of per-group AUC over groups that contain both classes
//            (w_u = 1); groups with one class are skipped and counted. The
//            per-group AUCs and row counts come with it (aucByGroup), so a
//            caller can report each group, e.g. each scenario of SAR-Net.
//   logloss  mean binary cross-entropy, p clamped to [1e-7, 1 - 1e-7].
//   recall, precision, hitrate, ndcg, mrr, map @k: retrieval metrics of a
//            top_k output against the relevant items of each request
//            (computeRankingMetric).
// Labels > 0.5 count as positive for AUC (soft labels are allowed). A metric
// that is undefined (one class only) is NaN with a note saying why, never a
// made-up 0.5. A metric may keep only rows whose filter label is 1 (> 0.5),
// e.g. CVR AUC over clicked impressions.
#pragma once

#include "runtime/ModelPlan.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recc::rt {

/// AUC of `scores` against `labels`; NaN if either class is absent.
double auc(std::span<const float> scores, std::span<const float> labels);
/// The AUC of one group of rows: NaN when the group has one class only.
struct GroupAuc {
  int64_t group = 0;      ///< the group id (as in `groups`)
  int64_t rows = 0;
  int64_t positives = 0;
  double auc = 0;
};
/// Each group's AUC, in increasing group id.
std::vector<GroupAuc> aucByGroup(std::span<const float> scores, std::span<const float> labels,
                                 std::span<const int64_t> groups);

/// Group AUC with equal group weights; NaN if no group has both classes.
/// `skippedGroups` (optional) receives the number of one-class groups.
double gauc(std::span<const float> scores, std::span<const float> labels,
            std::span<const int64_t> groups, int64_t* skippedGroups = nullptr);
/// Mean log loss; NaN for no rows.
double logloss(std::span<const float> scores, std::span<const float> labels);

/// recall | precision | hitrate | ndcg | mrr | map.
bool isRankingMetric(const std::string& kind);

struct MetricResult {
  double value;
  int64_t rows;      ///< rows the metric was computed on (after the filter)
  std::string note;  ///< why the value is NaN, or what was skipped; may be empty
  std::vector<GroupAuc> byGroup;  ///< gauc: every group's AUC (after the filter)
};

/// Computes `spec` over one data set. `filter` (same length, or empty) holds
/// the values of spec.filterLabel; `groups` is needed for gauc.
MetricResult computeMetric(const MetricSpec& spec, std::span<const float> scores,
                           std::span<const float> labels, std::span<const float> filter,
                           std::span<const int64_t> groups);

/// Computes ranking metric `spec` (see MetricSpec) over one data set. Row i
/// retrieved top[i*width, (i+1)*width), item ids best first (ids < 0 are
/// padding); targets[i] is its relevant item id (< 0: none). Rows whose
/// `filter` value is not 1 are dropped; the rows left are pooled into
/// requests by `groups` (empty: each row alone), whose retrieved list is that
/// of their first row and whose relevant set T is their distinct targets. With
/// R the first k retrieved ids (repeats counted once) and rank r from 1:
///   recall = |R ∩ T| / |T|          precision = |R ∩ T| / k
///   hitrate = 1 if R ∩ T is not empty (DAMCAR's H@K behaves like precision)
///   ndcg = Σ_{r: R_r ∈ T} 1/log2(r+1) / Σ_{r ≤ min(k,|T|)} 1/log2(r+1)
///   mrr = 1 / (rank of the first relevant id), 0 if none
///   map = Σ_{r: R_r ∈ T} (|R_1..r ∩ T| / r) / min(k, |T|)
/// averaged over requests with at least one target; NaN (with a note) if none.
MetricResult computeRankingMetric(const MetricSpec& spec, std::span<const int64_t> top,
                                  int64_t width, std::span<const int64_t> targets,
                                  std::span<const float> filter, std::span<const int64_t> groups);

/// top_k ranks the corpus it is given, the batch's item rows, and returns
/// positions in it. Maps each of the rows of `positions` (`width` per row, as
/// floats, the way step buffers hold them) to item ids: position p becomes
/// corpus[p], the item id of batch row p; a negative position is padding and
/// stays -1. Throws a RuntimeError naming `what` (the metric and output) for
/// a non-finite position or one outside the corpus.
std::vector<int64_t> itemIdsAt(std::span<const float> positions, int64_t width,
                               std::span<const int64_t> corpus, const std::string& what);

} // namespace recc::rt
