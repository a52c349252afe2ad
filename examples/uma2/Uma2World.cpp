// examples/uma2/Uma2World.cpp: drawing the users and items.
#include "examples/uma2/Uma2World.h"

#include <cmath>

namespace recc::uma2 {

namespace {
constexpr double kFavWeight[kFavourites] = {2.0, 1.2, 0.6};
}

World::World(uint64_t seed, Sizes sizes, Policy policy) : sizes_(sizes), policy_(policy) {
  Rng rng(gen::mix64(seed ^ 0x756d6132ULL));
  makeItems(rng);
  makeUsers(rng);
}

double World::interest(int u, int c) const {
  for (int k = 0; k < kFavourites; ++k)
    if (users_[u].fav[k] == c) return kFavWeight[k];
  return 0;
}

void World::makeItems(Rng &rng) {
  // Categories of unequal size (Zipf s = 0.7).
  std::vector<double> share(sizes_.cates);
  for (int c = 0; c < sizes_.cates; ++c) share[c] = std::pow(c + 2.0, -0.7);
  cateShare_ = AliasTable(share);
  items_.resize(sizes_.items);
  ctrScore_.resize(sizes_.items);
  std::vector<std::vector<double>> popOf(sizes_.cates);
  std::vector<std::vector<int>> idsOf(sizes_.cates);
  for (int i = 0; i < sizes_.items; ++i) {
    Item &it = items_[i];
    it.cate = i < sizes_.cates ? i : cateShare_.sample(rng);  // every category has an item
    it.logPop = 1.2 * rng.normal();
    it.quality = rng.normal();
    // The logged CTR: quality, a little popularity (exposure makes popular items look
    // better), and noise.
    it.ctr = gen::sigmoid(-3.0 + 0.6 * it.quality + 0.2 * it.logPop + 0.3 * rng.normal());
    ctrScore_[i] = std::log(it.ctr / (1 - it.ctr)) + 3.0;
    popOf[it.cate].push_back(std::exp(it.logPop));
    idsOf[it.cate].push_back(i);
  }
  byCate_.resize(sizes_.cates);
  for (int c = 0; c < sizes_.cates; ++c) byCate_[c] = AliasTable(popOf[c]);
  // byCate_ draws a position; keep the ids in the same order.
  itemsOfCate_ = std::move(idsOf);
}

void World::makeUsers(Rng &rng) {
  users_.resize(sizes_.users);
  std::vector<double> act(sizes_.users);
  for (int u = 0; u < sizes_.users; ++u) {
    User &us = users_[u];
    us.gender = rng.below(kGenders), us.age = rng.below(kAges);
    // Favourites: the first leans on the age group (a profile signal), the others are
    // drawn by category size; all distinct.
    for (int k = 0; k < kFavourites; ++k) {
      int c;
      do {
        c = k == 0 && rng.chance(0.5) ? (us.age * 7 + us.gender * 3 + rng.below(3)) % sizes_.cates
                                      : cateShare_.sample(rng);
      } while (interestIndex(us, c, k) >= 0);
      us.fav[k] = c;
    }
    // History: 0..kHistLen past clicks from the favourites, by popularity.
    int len = std::min(kHistLen, int(std::exp(2.0 + 0.9 * rng.normal())));
    for (int t = 0; t < len; ++t) {
      double r = rng.uniform();
      int c = us.fav[r < 0.55 ? 0 : r < 0.85 ? 1 : 2];
      us.hist.push_back(itemsOfCate_[c][byCate_[c].sample(rng)]);
    }
    act[u] = std::exp(0.8 * rng.normal());
  }
  activity_ = AliasTable(act);
}

int World::interestIndex(const User &us, int c, int upTo) {
  for (int k = 0; k < upTo; ++k)
    if (us.fav[k] == c) return k;
  return -1;
}

} // namespace recc::uma2
