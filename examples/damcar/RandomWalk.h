// examples/damcar/RandomWalk.h: DAMCAR's target domain (paper Sec. 4.1, spec 2.3): hard
// unexposed samples found by random walks with restart on the user–item exposure graph.
//
// The graph is bipartite and weighted by engagement (watch time): a walk from user u goes
// u -> i with P = v(u,i) / sum_i' v(u,i') (Eq. 1) and i -> u' with
// P = v(u',i) / sum_u'' v(u'',i) (Eq. 2). A walk that would take hop R + 1 restarts at u
// (u -> i is hop 1), until H item visits are counted (spec A20's default; `walks` mode
// counts H walks instead). T(u,i) counts the visits of item i. The hard samples of u are
// the unexposed items visited at least as often as the mean over the visited exposed ones
// (Eq. 3).
//
// Every user's walks draw from their own generator seeded by (seed, user), so results do
// not depend on the thread count or on the order users are processed in.
#pragma once

#include "examples/common/Random.h"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <utility>
#include <vector>

namespace recc::damcar {

struct Interaction {
  int user = 0, item = 0;
  double weight = 0;   // engagement; repeats of a pair are summed
};

/// The exposure graph in compressed rows, both directions, with cumulative weights for
/// sampling a step.
class ExposureGraph {
public:
  /// Throws std::invalid_argument for a negative id or a negative or non-finite weight.
  /// Each pair's weight gets 1e-6 added (spec A19), so a zero-weight edge stays walkable.
  ExposureGraph(std::vector<Interaction> edges);

  int users() const { return int(userOff_.size()) - 1; }
  int items() const { return int(itemOff_.size()) - 1; }
  /// The items exposed to u, ascending.
  std::span<const int> itemsOf(int u) const {
    return {userItems_.data() + userOff_[u], userItems_.data() + userOff_[u + 1]};
  }
  bool exposed(int u, int item) const;
  long long edges() const { return (long long)userItems_.size(); }

  /// One step by Eq. 1 (user -> item) or Eq. 2 (item -> user).
  int stepFromUser(int u, gen::Rng &rng) const { return sample(userOff_, userCum_, userItems_, u, rng); }
  int stepFromItem(int i, gen::Rng &rng) const { return sample(itemOff_, itemCum_, itemUsers_, i, rng); }
  /// The probabilities of those steps, for tests: P(u -> i) and P(i -> u).
  double pUserToItem(int u, int item) const;
  double pItemToUser(int item, int u) const;

private:
  static int sample(const std::vector<long long> &off, const std::vector<double> &cum,
                    const std::vector<int> &to, int from, gen::Rng &rng);
  std::vector<long long> userOff_, itemOff_;
  std::vector<int> userItems_, itemUsers_;
  std::vector<double> userCum_, itemCum_;   // running sums of the weights within each row
};

struct WalkOptions {
  int radius = 25;            // R: hops per walk before a restart
  int visits = 50;            // H
  bool countWalks = false;    // H counts walks (each of R hops), not item visits
  uint64_t seed = 1;
  int threads = 1;
};

/// T(u, .): (item, visits) for the walks centred on u, ascending by item. Empty if u has
/// no exposures.
std::vector<std::pair<int, int>> visitCounts(const ExposureGraph &g, int u, const WalkOptions &o);

struct HardSample {
  int user = 0, item = 0, visits = 0;
};

/// Eq. 3 for one user from its visit counts.
std::vector<HardSample> hardSamplesOf(const ExposureGraph &g, int u,
                                      const std::vector<std::pair<int, int>> &visits);

/// S_sam: every user's hard samples, by user then item.
std::vector<HardSample> selectHardSamples(const ExposureGraph &g, const WalkOptions &o);

/// The "w/o TDG" ablation: `n` distinct pairs drawn uniformly from the unexposed pairs of
/// the graph's users and items, sorted like S_sam. Throws if fewer than `n` exist.
std::vector<HardSample> randomUnexposed(const ExposureGraph &g, size_t n, uint64_t seed);

} // namespace recc::damcar
