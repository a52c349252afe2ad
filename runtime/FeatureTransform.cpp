// FeatureTransform: see FeatureTransform.h. Statistics use a two-pass mean and
// variance in double, which stays accurate for large raw counts.
#include "runtime/FeatureTransform.h"

#include "runtime/Error.h"

#include <algorithm>
#include <functional>

namespace recc::rt {

bool needsStats(const FeatureSpec& feature) {
  return feature.kind == FeatureSpec::Kind::Dense &&
         (feature.transform == "tanh_zscore" || feature.transform == "zscore");
}

namespace {

/// What a dense feature's values go through, decided from its spec once.
struct Transform {
  enum Kind { Identity, Log1p, ZScore, TanhZScore } kind = Identity;
  double mean = 0, scale = 1;

  Transform(const FeatureSpec& feature, const FeatureStats& stats) {
    if (feature.transform == "log1p")
      kind = Log1p;
    else if (needsStats(feature)) {
      kind = feature.transform == "zscore" ? ZScore : TanhZScore;
      mean = stats.mean;
      scale = std::max(stats.stddev, 1e-6);
    }
  }

  float operator()(float x) const {
    switch (kind) {
    case Identity:
      return x;
    case Log1p:
      return std::log1p(x);  // the reader refuses x <= -1
    case ZScore:
      return static_cast<float>((x - mean) / scale);
    case TanhZScore:
      return static_cast<float>(std::tanh((x - mean) / scale));
    }
    return x;
  }
};

}  // namespace

float transformValue(const FeatureSpec& feature, const FeatureStats& stats, float x) {
  return Transform(feature, stats)(x);
}

void transformColumn(const FeatureSpec& feature, const FeatureStats& stats,
                     std::span<const float> x, std::span<const int64_t> rows, float* out) {
  const Transform t(feature, stats);
  for (size_t i = 0; i < rows.size(); ++i)
    out[i] = t(x[rows[i]]);
}

void checkTransform(const FeatureSpec& feature) {
  const std::string& t = feature.transform;
  if (t != "none" && t != "tanh_zscore" && t != "zscore" && t != "log1p" && !t.empty())
    fail("feature '{}': unknown transform '{}' (expected none, zscore, tanh_zscore or log1p)",
         feature.name, t);
  if (feature.kind != FeatureSpec::Kind::Dense &&
      (t == "tanh_zscore" || t == "zscore" || t == "log1p"))
    fail("feature '{}': transform {} needs a dense feature", feature.name, t);
}

void checkLookup(const FeatureSpec& feature) {
  const std::string& l = feature.lookup;
  if (!l.empty() && l != "hash" && l != "vocab" && l != "bucketize")
    fail("feature '{}': unknown id lookup '{}' (expected hash, vocab or bucketize)",
         feature.name, l);
  if (!l.empty() && feature.kind == FeatureSpec::Kind::Dense)
    fail("feature '{}': id lookup {} needs an id feature", feature.name, l);
  if (l == "vocab" && feature.vocabFile.empty())
    fail("feature '{}': id lookup vocab names no vocabulary file", feature.name);
  if (l == "bucketize" &&
      (feature.boundaries.empty() ||
       int64_t(feature.boundaries.size()) + 1 != feature.vocab ||
       !std::is_sorted(feature.boundaries.begin(), feature.boundaries.end(),
                       std::less_equal<double>())))
    fail("feature '{}': bucketize needs strictly increasing boundaries, one fewer than "
         "its {} ids", feature.name, feature.vocab);
  if (feature.hasNa && feature.kind != FeatureSpec::Kind::Dense &&
      (feature.na != std::floor(feature.na) || feature.na < 0 || feature.na >= feature.vocab))
    fail("feature '{}': na = {} is not an id below its vocabulary {}", feature.name,
         feature.na, feature.vocab);
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
