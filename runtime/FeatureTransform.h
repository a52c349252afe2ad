// FeatureTransform: per-feature transforms of dense inputs. "zscore" maps x
// to (x - mu) / max(sigma, 1e-6) (ZEUS's dense features, zeus.md D5);
// "tanh_zscore" to tanh of that, squashing heavy-tailed counts into (-1, 1)
// (ESM² Eq. 17); "log1p" to log(1 + x), for counts (x > -1, checked when
// the data is read). mu and sigma come from the training set only and are kept in
// checkpoints, so evaluation and prediction transform exactly as training did.
// Values are transformed per batch when the trainer fills input buffers; the
// DataSet keeps raw values.
#pragma once

#include "runtime/DataSet.h"

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

namespace recc::rt {

/// Statistics of one dense feature (unused for other features).
struct FeatureStats {
  double mean = 0;
  double stddev = 1;
  bool ready = false;  ///< computed from data or loaded from a checkpoint
};

/// True if the feature's transform needs statistics.
bool needsStats(const FeatureSpec& feature);
/// Throws a RuntimeError naming the feature if its transform is unknown.
void checkTransform(const FeatureSpec& feature);
/// Throws a RuntimeError naming the feature if its id lookup (hash, vocab,
/// bucketize) or its `na` id does not fit it.
void checkLookup(const FeatureSpec& feature);

/// Mean and (population) standard deviation of every feature that needs
/// statistics, computed in double over all rows of `data`.
std::vector<FeatureStats> computeFeatureStats(const ModelPlan& plan, const DataSet& data);

/// Applies the transform of `feature` to `x`.
float transformValue(const FeatureSpec& feature, const FeatureStats& stats, float x);
/// out[i] = transformValue(feature, stats, x[rows[i]]) for every i, with the
/// transform chosen once for the column rather than once per value.
void transformColumn(const FeatureSpec& feature, const FeatureStats& stats,
                     std::span<const float> x, std::span<const int64_t> rows, float* out);

} // namespace recc::rt
