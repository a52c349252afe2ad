// examples/sarnet/Simulator.h: the impression log, in time order.
//
// Impression k of a run of n happens at hour 720 * (k + u) / n of the window. Its scenario
// follows Table 1; its user is one of the scenario's visitors, by activity; its item is,
// in that order of precedence:
//   1. with the scenario's promote rate, one the operators push there (promoted = 1),
//      shown to whoever comes: manual intervention, blind to the user;
//   2. with the scenario's personalisation rate, one from the category or destination of
//      one of the user's 20 most recent behaviours (the recommender at work);
//   3. otherwise a popular item of the scenario's themes.
// The click is drawn from ClickModel (logged probability for training rows, true one for
// test rows) and a click joins the user's behaviours. The first n_train impressions are
// the training file and the rest the test file: a chronological split (spec 3.2).
#pragma once

#include "examples/sarnet/ClickModel.h"

#include <array>

namespace recc::sarnet {

struct Impression {
  Request req;
  ClickProbability p{};
  int click = 0;
  std::array<Behaviour, kSeqLen> seq;
};

/// Sets each scenario's intercept so that its expected logged CTR matches Table 1, over
/// 3,000 impressions per scenario drawn with their users' pre-window histories.
void calibrate(World &w, PreWindowHistories &pre);

class Simulator {
public:
  Simulator(const World &w, PreWindowHistories &pre, long long totalRows);
  /// The next impression; `trueLabels`: draw the click from the true probability.
  const Impression &next(bool trueLabels);

private:
  const World &world_;
  Rng rng_;
  UserHistories histories_;
  long long total_, k_ = 0;
  Impression cur_;
};

} // namespace recc::sarnet
