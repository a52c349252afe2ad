// examples/sarnet/Fairness.cpp: Eq. 1 in its derived form, mean F over the item's
// impressions in s divided by mean F over all impressions of s (spec 1.6).
#include "examples/sarnet/Fairness.h"

#include <algorithm>
#include <cmath>

namespace recc::sarnet {

FairnessTable::FairnessTable(int items, int scenarios)
    : scenarios_(scenarios), cells_(size_t(items) * scenarios), meanF_(scenarios, 0) {}

void FairnessTable::add(int item, int scenario, double f) {
  Cell &c = cells_[size_t(item) * scenarios_ + scenario];
  c.pv++, c.f += f;
}

void FairnessTable::finish() {
  std::vector<double> f(scenarios_, 0), pv(scenarios_, 0);
  for (size_t k = 0; k < cells_.size(); ++k)
    f[k % scenarios_] += cells_[k].f, pv[k % scenarios_] += cells_[k].pv;
  for (int s = 0; s < scenarios_; ++s) meanF_[s] = pv[s] > 0 ? f[s] / pv[s] : 0;
}

double FairnessTable::rawRatio(int item, int scenario) const {
  const Cell &c = cells_[size_t(item) * scenarios_ + scenario];
  if (c.pv < uint32_t(kMinPv) || meanF_[scenario] <= 0) return std::nan("");
  return (c.f / c.pv) / meanF_[scenario];
}

double FairnessTable::fc(int item, int scenario) const {
  double r = rawRatio(item, scenario);
  return std::isnan(r) ? 1.0 : std::clamp(r, kMin, kMax);
}

} // namespace recc::sarnet
