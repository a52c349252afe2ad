// examples/uma2/Sampling.h: the training sets of the paper's Sec. 4.1.4 (spec A.5), built
// per positive of a request: the positive, then 25 negatives drawn by the strategy.
//   SS-A            25 negatives from space A (exposed, unclicked), with replacement
//   SS-AB           25 from A ∪ B (the recall set less the clicks), uniformly
//   SS-ABC(random)  25 uniformly from the entire corpus (less the request's clicks)
//   SS-ABC(fixed)   1 from A, 4 from B, 20 from C (not recalled): 1:4:20 (spec A.8.9)
// Every negative carries the space it falls in for its request, so a random draw that
// lands in the recall set is tagged A or B, not C. All strategies see the same positives
// (the same request stream), so they differ only in their negatives.
//
// w_sos, the SOS ablation's weight (spec A.5 Ablation 2, A.6): a space-level
// Horvitz-Thompson weight, |space of the request| / (draws from that space), scaled so
// that the group's negatives average 1; positives 1. It corrects how many negatives each
// space contributes, which a sample-level heuristic can know from the logs, but not which
// items the policies favour within a space, which needs NSDN's learned propensities.
#pragma once

#include "examples/uma2/Funnel.h"

#include <array>
#include <string_view>
#include <vector>

namespace recc::uma2 {

enum class Strategy : int { A = 0, AB = 1, AbcRandom = 2, AbcFixed = 3 };
constexpr int kStrategies = 4;
constexpr int kNegatives = 25;
constexpr std::array<std::string_view, kStrategies> kStrategyFile = {
    "ss_a.csv", "ss_ab.csv", "ss_abc_random.csv", "ss_abc_fixed.csv"};

struct Sample {
  int item = 0;
  Space space = Space::Pos;
  double wSos = 1;
};

/// The positive `clicked` of request `r` and its 25 negatives under `s`, into `out`.
void sampleGroup(const Request &r, int clicked, Strategy s, int corpus, Rng &rng,
                 std::vector<Sample> &out);

} // namespace recc::uma2
