// examples/sarnet/ClickModel.cpp: the click model stated in ClickModel.h.
#include "examples/sarnet/ClickModel.h"

#include <cmath>

namespace recc::sarnet {

namespace {
constexpr double kCategoryMatch = 1.0, kDestMatch = 0.6;
constexpr double kDecayPerBucket = 0.9, kSaturation = 0.8;
constexpr double kMeanRelatedness = 0.3;  // what a context-blind reader would assume

/// kDecayPerBucket^bucket, tabulated: the interest loop runs 50 times per row.
struct DecayTable {
  double v[kTimeBuckets];
  DecayTable() {
    for (int b = 0; b < kTimeBuckets; ++b) v[b] = std::pow(kDecayPerBucket, b);
  }
};
const DecayTable kDecay;

double dot(const float *a, const float *b) {
  double s = 0;
  for (int k = 0; k < kFactors; ++k) s += double(a[k]) * b[k];
  return s;
}
} // namespace

double behaviourInterest(const World &w, const Request &r, bool relatedness) {
  const Item &target = w.items[r.item];
  double sum = 0;
  for (const Behaviour &b : r.seq) {
    const Item &it = w.items[b.item];
    double match = kCategoryMatch * (it.category == target.category) +
                   kDestMatch * (it.dest == target.dest);
    if (match == 0) continue;
    double rel = relatedness ? w.relatedness(r.scenario, b.scnId) : kMeanRelatedness;
    sum += rel * kDecay.v[timeBucket(r.hours - b.hours)] * match;
  }
  return 1.0 - std::exp(-kSaturation * sum);
}

double clickLogit(const World &w, const Request &r, const ClickModelVariant &v) {
  const Scenario &sc = w.scenarios[r.scenario];
  const Scenario &wt = v.pooledWeights ? *v.pooledWeights : sc;
  const User &u = w.users[r.user];
  const Item &it = w.items[r.item];
  double z = sc.intercept + sc.subPageBias[r.scnId % kSubPages] + u.bias;
  z += wt.wQuality * it.quality;
  z += wt.wCountry * (w.destCountry[it.dest] == u.country);
  z += wt.wFactor * dot(u.f, it.f);
  if (v.behaviours) z += wt.wInterest * behaviourInterest(w, r, v.relatedness);
  return z;
}

ClickProbability clickProbability(const World &w, const Request &r) {
  double p = gen::sigmoid(clickLogit(w, r));
  return {p, r.promoted ? w.scenarios[r.scenario].promotedClickRate * p : p};
}

} // namespace recc::sarnet
