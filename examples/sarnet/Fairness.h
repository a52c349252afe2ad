// examples/sarnet/Fairness.h: the Fairness Coefficient of paper Eq. 1, per (item, scenario)
// over the training file (one day in the paper's terms):
//
//   w(i,s) = [F(i,s) / sum_j F(j,s)] / [PV(i,s) / sum_j PV(j,s)]
//
// PV(i,s) counts item i's impressions in scenario s and F(i,s) sums an offline model's
// predictions over them. Here that model is the generator's own de-biased click
// probability (ClickModel's P_true): the best offline model there could be, with no
// training run needed to bootstrap the circular definition (spec 7.11). Spec 7.11's
// rules apply: w = 1 when PV(i,s) < 10, and w is clipped to [0.1, 10].
#pragma once

#include <cstdint>
#include <vector>

namespace recc::sarnet {

class FairnessTable {
public:
  static constexpr int kMinPv = 10;
  static constexpr double kMin = 0.1, kMax = 10;

  FairnessTable(int items, int scenarios);
  /// One training impression of `item` in `scenario` with prediction `f`.
  void add(int item, int scenario, double f);
  /// Closes the day: computes the per-scenario totals. Call after the last add().
  void finish();
  double fc(int item, int scenario) const;
  /// For the summary: the unclipped ratio (NaN while PV < kMinPv).
  double rawRatio(int item, int scenario) const;

private:
  struct Cell {
    uint32_t pv = 0;
    double f = 0;
  };
  int scenarios_;
  std::vector<Cell> cells_;
  std::vector<double> meanF_;  // sum_j F(j,s) / sum_j PV(j,s)
};

} // namespace recc::sarnet
