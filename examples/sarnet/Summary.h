// examples/sarnet/Summary.h: what gen_sarnet prints to stderr once the files are written:
// per-scenario shares and CTRs against the paper's Table 1, the promoted share, users by
// number of scenarios visited against Table 2, the Fairness Coefficient's distribution,
// the empirical CTR of rows whose behaviours match the target in a related scenario or
// only elsewhere (the attention signal, measured on the written columns), and oracle test
// AUCs of the click model with one planted mechanism removed at a time.
#pragma once

#include "examples/common/Auc.h"
#include "examples/sarnet/Simulator.h"

#include <cstdio>
#include <vector>

namespace recc::sarnet {

using gen::rocAuc;

class Summary {
public:
  explicit Summary(const World &w);
  /// `lowPv`: fc is 1 because the item had fewer than 10 impressions in the scenario.
  void addTrain(const Impression &m, double fc, bool lowPv);
  void addTest(const Impression &m);
  void print(FILE *f) const;

  /// Which behaviours match the target: 0 one in a related scenario context (the same
  /// scenario or scenario type), 1 only in unrelated ones, 2 none.
  static int matchClass(const World &w, const Request &r);

private:
  void addRow(const Impression &m, int file);
  void printScenarios(FILE *f) const;
  void printBias(FILE *f) const;
  void printUsers(FILE *f) const;
  void printOracle(FILE *f) const;

  struct PerScenario {
    long long rows[2] = {}, clicks[2] = {}, promoted[2] = {};
    long long matchRows[3] = {}, matchClicks[3] = {};
    long long scoreRows[2] = {}, scoreClicks[2] = {};  // item_score below / above 0.05
    long long homeRows[2] = {}, homeClicks[2] = {};    // destination abroad / at home
  };
  const World &w_;
  Scenario pooled_;  // the scenarios' mean weights, for the oracle ablation
  PerScenario sc_[kScenarios];
  long long promotedRows_ = 0, promotedClicks_ = 0;
  double promotedTruth_ = 0;
  double fcSum_[2] = {}, fcLogSq_[2] = {};
  long long fcRows_[2] = {}, fcDefault_ = 0, fcClipped_ = 0;
  std::vector<uint32_t> visited_;   // per user: bit s set when s was visited
  std::vector<uint8_t> labels_;
  enum { kTruth, kLogged, kPooled, kNoRelatedness, kNoBehaviours, kVariants };
  std::vector<float> scores_[kVariants];
};

} // namespace recc::sarnet
