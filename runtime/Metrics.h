// Metrics: the evaluation metrics of ranking models, computed exactly over a
// whole data set (no bucketed approximations), under the names EasyRec and
// the CTR literature use. With n rows, scores p_i, labels y_i and positives
// counted as y_i > 0.5:
//   auc          P(score of a random positive > score of a random negative),
//                ties counting half; a rank statistic over one sort, O(n log n).
//   gauc         Σ_g w_g AUC_g / Σ_g w_g over the groups g (e.g. users) that
//                hold both classes; one-class groups are skipped (no weight)
//                and counted in the note. The weights (`reduce`, EasyRec's
//                reductions of its gauc and session_auc):
//                  mean                  w_g = 1 (the default)
//                  mean_by_sample_num    w_g = rows of g
//                  mean_by_positive_num  w_g = positives of g
//                Each group's AUC, rows and positives come with it (aucByGroup).
//   logloss      -1/n Σ y log p + (1 - y) log(1 - p), p clamped to
//                [1e-7, 1 - 1e-7].
//   ne           normalized entropy (He et al., ADKDD 2014): logloss divided
//                by the entropy of the base rate ȳ = 1/n Σ y_i of the same
//                rows, -(ȳ log ȳ + (1 - ȳ) log(1 - ȳ)); below 1 the model
//                beats predicting ȳ everywhere. NaN when ȳ is 0 or 1.
//   calibration  Σ p / Σ y, i.e. pctr / ctr: 1 when the predictions sum to
//                the observed positives. NaN when Σ y = 0.
//   ctr          ȳ = 1/n Σ y (the label's mean; soft labels count as given).
//   pctr         1/n Σ p (the prediction's mean).
//   recall, precision, hitrate, ndcg, mrr, map @k: retrieval metrics of a
//                top_k output against the relevant items of each request
//                (computeRankingMetric, RankingMetrics.cpp).
// A metric that is undefined (one class only, no rows) is NaN with a note
// saying why, never a made-up 0.5. A metric may keep only rows whose filter
// label is 1 (> 0.5), e.g. CVR AUC over clicked impressions; the filter
// applies before anything else, groups and breakdowns included.
// Breakdown: a metric other than gauc and the ranking ones that has a group
// column (`by = scenario`) keeps its value over all rows and also reports
// the same metric over each group's rows alone (each group's ne over its own
// base rate), for at most kMaxBreakdownGroups groups.
#pragma once

#include "runtime/ModelPlan.h"

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace recc::rt {

/// AUC of `scores` against `labels`; NaN if either class is absent.
double auc(std::span<const float> scores, std::span<const float> labels);
/// A metric over one group of rows (a gauc group, a breakdown's group).
struct GroupValue {
  int64_t group = 0;      ///< the group id (as in `groups`)
  int64_t rows = 0;
  int64_t positives = 0;
  double value = 0;       ///< NaN when undefined for this group
  std::string note = {};  ///< why it is NaN; may be empty
};
/// Each group's AUC, in increasing group id (NaN for a one-class group).
std::vector<GroupValue> aucByGroup(std::span<const float> scores, std::span<const float> labels,
                                   std::span<const int64_t> groups);

/// gauc's group weights (see the comment at the top).
enum class GaucReduce { Mean, BySampleNum, ByPositiveNum };
/// "mean" | "mean_by_sample_num" | "mean_by_positive_num" ("" is "mean");
/// false for any other text.
bool parseGaucReduce(const std::string& text, GaucReduce& out);

/// Group AUC; NaN if no group has both classes. `skippedGroups` (optional)
/// receives the number of one-class groups.
double gauc(std::span<const float> scores, std::span<const float> labels,
            std::span<const int64_t> groups, int64_t* skippedGroups = nullptr,
            GaucReduce reduce = GaucReduce::Mean);
/// Mean log loss; NaN for no rows.
double logloss(std::span<const float> scores, std::span<const float> labels);
/// Normalized entropy; NaN for no rows or a base rate of 0 or 1.
double normalizedEntropy(std::span<const float> scores, std::span<const float> labels);
/// Σ scores / Σ labels; NaN when the labels sum to 0.
double calibration(std::span<const float> scores, std::span<const float> labels);
/// The mean of `values` (ctr of labels, pctr of scores); NaN for none.
double mean(std::span<const float> values);

/// auc | gauc | logloss | ne | calibration | ctr | pctr.
bool isBinaryMetric(const std::string& kind);
/// Groups a breakdown reports at most; past it the table is left out, with a note.
constexpr int64_t kMaxBreakdownGroups = 4096;

/// recall | precision | hitrate | ndcg | mrr | map.
bool isRankingMetric(const std::string& kind);

struct MetricResult {
  double value;
  int64_t rows;      ///< rows the metric was computed on (after the filter)
  std::string note;  ///< why the value is NaN, or what was skipped; may be empty
  /// gauc: every group's AUC; a breakdown: the metric over each group's rows
  /// (after the filter, in increasing group id). Empty otherwise.
  std::vector<GroupValue> byGroup;
  int64_t positives = 0;  ///< rows with label > 0.5 (after the filter)
};

/// Computes binary metric `spec` over one data set. `filter` (same length, or
/// empty) holds the values of spec.filterLabel; `groups` (same length, or
/// empty) the group ids of spec.groupColumn: gauc needs them, the other
/// kinds break down by them when given.
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
