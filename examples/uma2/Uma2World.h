// examples/uma2/Uma2World.h: the fixed world UMA²'s data is drawn from (README.md): users
// with latent category interests and a click history, items with a category, a
// popularity and a quality whose noisy log is the item_ctr feature, and the parameters
// of the recall policy, the exposure policy and the click model (Funnel.h).
//
// Everything here depends on the seed and the sizes only, so all files of one run come
// from the same users and items.
#pragma once

#include "examples/common/Random.h"

#include <cstdint>
#include <vector>

namespace recc::uma2 {

using gen::AliasTable;
using gen::Rng;

constexpr int kGenders = 3, kAges = 10;
constexpr int kFavourites = 3;  // interest categories per user
constexpr int kHistLen = 50;    // L_max (spec A.2.1)

struct Sizes {
  int users = 8000, items = 10000, cates = 100;
};

/// The policies' and the click model's weights (README.md, "Planted mechanisms").
struct Policy {
  int recall = 100, expose = 10;  // recall set and exposure set per request
  // Recall propensity logit: the user's interest, then popularity and logged CTR.
  double recallPop = 0.8, recallCtr = 1.0, recallInterest = 2.0;
  // Exposure propensity logit within the recall set: CTR and popularity, little interest.
  double exposeCtr = 1.5, exposePop = 0.6, exposeInterest = 0.5;
  // Click model on exposed items: interest and quality, not popularity.
  double clickBias = -4.0, clickInterest = 1.0, clickQuality = 0.5;
};

struct Item {
  int cate = 0;
  double logPop = 0;   // log popularity, N(0, 1.2²)
  double quality = 0;  // latent, N(0, 1)
  double ctr = 0;      // the logged accumulated CTR (column item_ctr)
};

struct User {
  int gender = 0, age = 0;
  int fav[kFavourites] = {};
  std::vector<int> hist;  // past clicks, most recent first, up to kHistLen
};

class World {
public:
  World(uint64_t seed, Sizes sizes, Policy policy = {});

  const Sizes &sizes() const { return sizes_; }
  const Policy &policy() const { return policy_; }
  const Item &item(int i) const { return items_[i]; }
  const User &user(int u) const { return users_[u]; }
  /// How much user u likes category c: 2.0, 1.2, 0.6 for the favourites, else 0.
  double interest(int u, int c) const;
  /// logit(item_ctr) + 3, the CTR feature on a scale near 0 (the policies' input).
  double ctrScore(int i) const { return ctrScore_[i]; }
  /// A user to make a request, by activity (Zipf over users).
  int drawUser(Rng &rng) const { return activity_.sample(rng); }

private:
  void makeItems(Rng &rng);
  void makeUsers(Rng &rng);
  /// k if c is one of us.fav[0..upTo), else -1.
  static int interestIndex(const User &us, int c, int upTo);
  Sizes sizes_;
  Policy policy_;
  std::vector<Item> items_;
  std::vector<User> users_;
  std::vector<double> ctrScore_;
  AliasTable cateShare_, activity_;
  std::vector<AliasTable> byCate_;              // a position in itemsOfCate_, by popularity
  std::vector<std::vector<int>> itemsOfCate_;
};

} // namespace recc::uma2
