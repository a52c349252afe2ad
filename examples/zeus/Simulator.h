// examples/zeus/Simulator.h: one deterministic stream of user behaviours over the world:
// spontaneous searches (the pre-training groups), product clicks (they only fill S_c),
// and impressions of recommended queries in the three scenarios, clicked by the click
// model below. Each row is written from the user's state *before* its event, so its
// sequences hold only earlier behaviours (spec 2.2: causality comes from the data).
#pragma once

#include "examples/zeus/ZeusWorld.h"

#include <array>

namespace recc::zeus {

/// The last kSeqLen ids of one kind, most recent first.
struct Recent {
  std::array<int, kSeqLen> ids{};
  int n = 0;
  void push(int id) {
    for (int i = std::min(n, kSeqLen - 1); i > 0; --i) ids[i] = ids[i - 1];
    ids[0] = id, n = std::min(n + 1, kSeqLen);
  }
};

/// What the rows see of a user at the moment of an event.
struct UserState {
  Recent queries;      // S_q: searched and clicked-recommended queries
  Recent products;     // S_c: clicked products
  Recent clicked;      // FINN's positive feedback: clicked recommended queries
  Recent skipped;      // FINN's negative feedback: exposed but not clicked
  int lastCat = -1;    // the category of the latest search or click: the session
};

/// The terms of an impression's click logit, kept apart so the summary can drop one.
struct ClickTerms {
  double intercept = 0, intent = 0, session = 0, quality = 0, match = 0, price = 0;
  double logit() const { return intercept + intent + session + quality + match + price; }
};

ClickTerms clickTerms(const World &w, const Scenario &s, const User &u, const UserState &st, int q);

struct SearchGroup {
  int user = 0;
  UserState before;
  std::array<int, 1 + kNegatives> candidates{};   // the searched query first
};

struct Impression {
  int user = 0, scenario = 0, query = 0;          // scenario is 0..2 (column 1..3)
  UserState before;
  ClickTerms terms;
  bool click = false;
};

class Simulator {
public:
  /// Users start with behaviours drawn before the data window, more for active users.
  Simulator(const World &w, uint64_t stream);

  SearchGroup search();
  Impression impress(int scenario);
  void clickProduct();

  /// A scenario by Table 1's shares.
  int drawScenario() { return scenarioPick_.sample(rng_); }
  const World &world() const { return w_; }

private:
  int drawUser() { return w_.userActivity.sample(rng_); }
  void searchBy(int user, int q);
  int exposedUnclicked(int user, int positive, const std::array<int, 1 + kNegatives> &taken, int n);

  const World &w_;
  Rng rng_;
  std::vector<UserState> states_;
  AliasTable scenarioPick_;
};

/// Sets each scenario's intercept so that its CTR over a calibration stream hits Table 1.
void calibrate(World &w);

} // namespace recc::zeus
