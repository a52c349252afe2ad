// examples/sarnet/SarnetWorld.cpp: drawing the scenarios, items and users of the world.
#include "examples/sarnet/SarnetWorld.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recc::sarnet {

const std::array<double, kScenarios> kTable1Share = {
    .1120, .0201, .0530, .0361, .0239, .0752, .0344, .1217, .0851, .0139,
    .0433, .0721, .0399, .0149, .0663, .0852, .0425, .0015, .0278, .0311};
const std::array<double, kScenarios> kTable1Ctr = {
    .0522, .0214, .0639, .0352, .0455, .0683, .0432, .0501, .0939, .0123,
    .0934, .0361, .0525, .0221, .0529, .0652, .0458, .0366, .0479, .0612};
const std::array<double, 6> kTable2Share = {.1121, .1340, .2530, .3210, .1152, .0647};

namespace {

// Scenario types: scenarios of one type show similar items to similar intents, and types
// 2k and 2k+1 are related. Scenario #18 (index 17) is alone in its type.
constexpr int kScenarioType[kScenarios] = {0, 1, 0, 2, 3, 1, 4, 0, 5, 6,
                                           2, 1, 3, 6, 4, 0, 5, 7, 2, 1};
const double kFactorScale = std::pow(kFactors, -0.25);  // unit-variance factor products

double between(Rng &rng, double lo, double hi) { return lo + (hi - lo) * rng.uniform(); }

/// Popularity weights (rank + 10)^-s over a random permutation of ranks.
std::vector<double> popularity(int n, double s, Rng &rng) {
  std::vector<int> rank(n);
  std::iota(rank.begin(), rank.end(), 0);
  for (int i = n - 1; i > 0; --i) std::swap(rank[i], rank[rng.below(i + 1)]);
  std::vector<double> w(n);
  for (int i = 0; i < n; ++i) w[i] = std::pow(rank[i] + 10.0, -s);
  return w;
}

/// One alias table per key over the ids whose key is `keyOf(id)`, weighted by `weight`.
template <class KeyOf>
void groupBy(int keys, int n, KeyOf keyOf, const std::vector<double> &weight,
             std::vector<AliasTable> &tables, std::vector<std::vector<int>> &ids) {
  ids.assign(keys, {});
  for (int i = 0; i < n; ++i) ids[keyOf(i)].push_back(i);
  tables.assign(keys, {});
  for (int k = 0; k < keys; ++k) {
    if (ids[k].empty()) continue;
    std::vector<double> w;
    for (int i : ids[k]) w.push_back(weight[i]);
    tables[k] = AliasTable(w);
  }
}

} // namespace

World::World(uint64_t s) : seed(s) {
  Rng rng(gen::mix64(seed ^ 0x5a4e7e7ULL));
  drawScenarios(rng);
  drawItems(rng);
  indexItems();
  drawUsers(rng);
  indexUsers();
  drawPromotions(rng);
}

double World::relatedness(int s, int scnId) const {
  if (scnId < kScenarios * kSubPages && scnId / kSubPages == s) return 1.0;
  int t = typeOfContext(scnId), own = scenarios[s].type;
  if (t == own) return 0.5;
  if (t == (own ^ 1)) return 0.25;
  return 0.03;
}

void World::drawScenarios(Rng &rng) {
  for (int s = 0; s < kScenarios; ++s) {
    Scenario &c = scenarios[s];
    c.type = kScenarioType[s], c.share = kTable1Share[s], c.ctr = kTable1Ctr[s];
    c.subPages = 2 + rng.below(8);
    for (auto &b : c.subPageBias) b = float(0.15 * rng.normal());
    c.wQuality = between(rng, 0.2, 1.4);
    c.wCountry = between(rng, -0.8, 1.2);   // home-market scenarios like domestic trips
    c.wFactor = between(rng, 0.2, 0.8);
    c.wInterest = between(rng, 1.3, 2.8);
    c.promoteRate = between(rng, 0.06, 0.26);
    c.promotedClickRate = between(rng, 0.25, 0.55);
    c.personalRate = between(rng, 0.3, 0.7);
    std::vector<double> mix(kThemes, 0.15 / kThemes);
    mix[c.type % kThemes] += 0.6, mix[rng.below(kThemes)] += 0.25;
    c.themes = AliasTable(mix);
  }
  for (int &t : otherType) t = rng.below(kTypes);
  scenarioOfRequest = AliasTable(kTable1Share);
}

void World::drawItems(Rng &rng) {
  catTheme.resize(kCategories), destCountry.resize(kDests);
  std::vector<float> catQuality(kCategories), catVec(size_t(kCategories) * kFactors);
  for (int c = 0; c < kCategories; ++c) {
    catTheme[c] = rng.below(kThemes), catQuality[c] = float(0.3 * rng.normal());
    for (int k = 0; k < kFactors; ++k) catVec[size_t(c) * kFactors + k] = float(rng.normal());
  }
  gen::ZipfIds countryOf(kCountries, 1.0, rng), catOf(kCategories, 0.9, rng),
      destOf(kDests, 0.9, rng);
  for (int &d : destCountry) d = countryOf.sample(rng);
  items.resize(kItems);
  for (Item &it : items) {
    it.category = catOf.sample(rng), it.dest = destOf.sample(rng);
    it.quality = float(catQuality[it.category] + 0.5 * rng.normal());
    it.score = float(gen::sigmoid(-3.0 + 0.9 * it.quality + 0.4 * rng.normal()));
    for (int k = 0; k < kFactors; ++k)
      it.f[k] = float(kFactorScale * 0.7 *
                      (catVec[size_t(it.category) * kFactors + k] + rng.normal()));
  }
}

void World::indexItems() {
  Rng rng(gen::mix64(seed ^ 0x17e45ULL));
  std::vector<double> pop = popularity(kItems, 1.0, rng);
  groupBy(kThemes, kItems, [&](int i) { return catTheme[items[i].category]; }, pop, themeItems,
          themeIds);
  groupBy(kCategories, kItems, [&](int i) { return items[i].category; }, pop, catItems, catIds);
  groupBy(kDests, kItems, [&](int i) { return items[i].dest; }, pop, destItems, destIds);
}

void World::drawUsers(Rng &rng) {
  gen::ZipfIds countryOf(kCountries, 1.0, rng);
  AliasTable nosBin(kTable2Share);
  std::vector<double> visitWeight(kScenarios);
  for (int s = 0; s < kScenarios; ++s) visitWeight[s] = std::sqrt(kTable1Share[s]);
  std::vector<std::vector<int>> destsIn(kCountries);
  for (int d = 0; d < kDests; ++d) destsIn[destCountry[d]].push_back(d);
  users.resize(kUsers);
  for (User &u : users) {
    u.country = countryOf.sample(rng);
    int bin = nosBin.sample(rng);
    u.nos = kNosBinLo[bin] + rng.below(kNosBinHi[bin] - kNosBinLo[bin] + 1);
    std::vector<double> w = visitWeight;  // draw u.nos scenarios without replacement
    double left = std::accumulate(w.begin(), w.end(), 0.0);
    for (int k = 0; k < u.nos; ++k) {
      double x = left * rng.uniform();
      int s = 0;
      while (s < kScenarios - 1 && (w[s] == 0 || (x -= w[s]) >= 0)) ++s;
      while (w[s] == 0) --s;  // rounding ran past the last free scenario
      u.scenarios.push_back(uint8_t(s)), left -= w[s], w[s] = 0;
    }
    u.bias = float(0.35 * rng.normal());
    for (float &x : u.f) x = float(kFactorScale * rng.normal());
    for (int &c : u.favCats) {  // a category the user's scenarios show
      const Scenario &sc = scenarios[u.scenarios[rng.below(u.nos)]];
      c = items[sampleFrom(themeItems, themeIds, sc.themes.sample(rng), rng)].category;
    }
    for (int &d : u.favDests) {  // half at home
      const auto &home = destsIn[u.country];
      d = !home.empty() && rng.chance(0.5)
              ? home[rng.below(int(home.size()))]
              : items[sampleFrom(themeItems, themeIds, rng.below(kThemes), rng)].dest;
    }
    u.historyLength = rng.chance(0.04) ? 0 : float(1 + int(49 * std::pow(rng.uniform(), 0.7)));
  }
}

void World::indexUsers() {
  Rng rng(gen::mix64(seed ^ 0xac71e17ULL));
  std::vector<double> activity = popularity(kUsers, 0.7, rng);
  usersOf.assign(kScenarios, {}), usersOfIds.assign(kScenarios, {});
  std::vector<std::vector<double>> w(kScenarios);
  for (int u = 0; u < kUsers; ++u)
    for (int s : users[u].scenarios) usersOfIds[s].push_back(u), w[s].push_back(activity[u]);
  for (int s = 0; s < kScenarios; ++s) usersOf[s] = AliasTable(w[s]);
}

void World::drawPromotions(Rng &rng) {
  for (Scenario &c : scenarios) {
    int n = 30 + rng.below(70);
    for (int k = 0; k < n; ++k) {  // operators push weaker items: the worse of two
      int best = -1;
      for (int j = 0; j < 2; ++j) {
        int i = sampleFrom(themeItems, themeIds, c.themes.sample(rng), rng);
        if (best < 0 || items[i].quality < items[best].quality) best = i;
      }
      c.promoted.push_back(best);
    }
  }
}

} // namespace recc::sarnet
