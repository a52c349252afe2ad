// Metrics: the evaluation metrics of ranking models, computed exactly over a
// whole data set (no bucketed approximations):
//   auc      P(score of a random positive > score of a random negative), ties
//            counting half; a rank statistic over one sort, O(n log n).
//   gauc     mean of per-group AUC over groups that contain both classes
//            (w_u = 1); groups with one class are skipped and counted.
//   logloss  mean binary cross-entropy, p clamped to [1e-7, 1 - 1e-7].
// Labels > 0.5 count as positive for AUC (soft labels are allowed). A metric
// that is undefined (one class only) is NaN with a note saying why, never a
// made-up 0.5. A metric may keep only rows whose filter label is 1 (> 0.5),
// e.g. CVR AUC over clicked impressions.
#pragma once

#include "runtime/ModelPlan.h"

#include <cstdint>
#include <span>
#include <string>

namespace recc::rt {

/// AUC of `scores` against `labels`; NaN if either class is absent.
double auc(std::span<const float> scores, std::span<const float> labels);
/// Group AUC with equal group weights; NaN if no group has both classes.
/// `skippedGroups` (optional) receives the number of one-class groups.
double gauc(std::span<const float> scores, std::span<const float> labels,
            std::span<const int64_t> groups, int64_t* skippedGroups = nullptr);
/// Mean log loss; NaN for no rows.
double logloss(std::span<const float> scores, std::span<const float> labels);

struct MetricResult {
  double value;
  int64_t rows;      ///< rows the metric was computed on (after the filter)
  std::string note;  ///< why the value is NaN, or what was skipped; may be empty
};

/// Computes `spec` over one data set. `filter` (same length, or empty) holds
/// the values of spec.filterLabel; `groups` is needed for gauc.
MetricResult computeMetric(const MetricSpec& spec, std::span<const float> scores,
                           std::span<const float> labels, std::span<const float> filter,
                           std::span<const int64_t> groups);

} // namespace recc::rt
