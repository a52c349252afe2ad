// examples/sarnet/ClickModel.h: the one function that decides whether an impression is
// clicked. Everything the data plants for SAR-Net is a term here (README.md tabulates
// which part of the model can exploit which term):
//
//   z = intercept[s] + subPageBias[s][page] + user.bias
//       + wQuality[s] * item.quality                   (item_score is a noisy view of it)
//       + wCountry[s] * [dest is in the user's country]
//       + wFactor[s]  * <user.f, item.f>                (collaborative part)
//       + wInterest[s] * interest
//   interest = 1 - exp(-0.8 * sum_k relatedness(s, scn_k) * 0.9^bucket_k * match_k)
//   match_k  = 1.0 [behaviour k's category == target's] + 0.6 [same destination]
//   P_true   = sigmoid(z)                     (the user's preference, de-biased)
//   P_logged = kappa[s] * P_true on promoted impressions, P_true otherwise
//
// Training labels are drawn from P_logged, test labels from P_true.
#pragma once

#include "examples/sarnet/Behaviours.h"

#include <span>

namespace recc::sarnet {

/// One impression: who saw what, where and when, with the behaviours before it.
struct Request {
  int scenario = 0, scnId = 0, user = 0, item = 0;
  bool promoted = false;
  double hours = 0;
  std::span<const Behaviour> seq;  // most recent first
};

/// Switches that remove one planted mechanism, for oracle ablations in the summary.
struct ClickModelVariant {
  const Scenario *pooledWeights = nullptr;  // one set of weights for every scenario
  bool relatedness = true;                  // false: every behaviour context counts alike
  bool behaviours = true;                   // false: no interest term
};

struct ClickProbability {
  double truth, logged;
};

/// The saturating, scenario- and target-weighted interest in [0, 1).
double behaviourInterest(const World &w, const Request &r, bool relatedness = true);

/// z above, with the scenario's current intercept.
double clickLogit(const World &w, const Request &r, const ClickModelVariant &v = {});

ClickProbability clickProbability(const World &w, const Request &r);

} // namespace recc::sarnet
