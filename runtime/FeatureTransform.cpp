// FeatureTransform: see FeatureTransform.h. Statistics use a two-pass mean and
// variance in double, which stays accurate for large raw counts.
#include "runtime/FeatureTransform.h"

#include "runtime/Error.h"

namespace recc::rt {

bool needsStats(const FeatureSpec& feature) {
  return feature.kind == FeatureSpec::Kind::Dense &&
         (feature.transform == "tanh_zscore" || feature.transform == "zscore");
}

void checkTransform(const FeatureSpec& feature) {
  const std::string& t = feature.transform;
  if (t != "none" && t != "tanh_zscore" && t != "zscore" && !t.empty())
    fail("feature '{}': unknown transform '{}' (expected none, zscore or tanh_zscore)",
         feature.name, t);
  if (feature.kind != FeatureSpec::Kind::Dense && (t == "tanh_zscore" || t == "zscore"))
    fail("feature '{}': transform {} needs a dense feature", feature.name, t);
}

std::vector<FeatureStats> computeFeatureStats(const ModelPlan& plan, const DataSet& data) {
  std::vector<FeatureStats> stats(plan.features.size());
  for (size_t f = 0; f < plan.features.size(); ++f) {
    if (!needsStats(plan.features[f]) || data.rows() == 0)
      continue;
    std::span<const float> x = data.dense(static_cast<int>(f));
    double sum = 0;
    for (float v : x)
      sum += v;
    double mean = sum / static_cast<double>(x.size());
    double sq = 0;
    for (float v : x)
      sq += (v - mean) * (v - mean);
    stats[f] = {mean, std::sqrt(sq / static_cast<double>(x.size())), true};
  }
  return stats;
}

} // namespace recc::rt
