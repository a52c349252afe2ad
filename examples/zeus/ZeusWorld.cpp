// examples/zeus/ZeusWorld.cpp: drawing the world from the seed.
#include "examples/zeus/ZeusWorld.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recc::zeus {

// Table 1: Homepage 4.96B samples (0.76B positive), Search Discovery 0.47B (0.17B),
// Affiliated APPs 2.21B (0.29B).
const std::array<double, kScenarios> kTable1Share = {4.96 / 7.64, 0.47 / 7.64, 2.21 / 7.64};
const std::array<double, kScenarios> kTable1Ctr = {0.76 / 4.96, 0.17 / 0.47, 0.29 / 2.21};

namespace {

constexpr double kCatTemperature = 1.5;   // how sharply a user's intent picks categories
constexpr int kTopCats = 16;              // categories a user ever visits
constexpr int kCandidates = 6;            // popular items a user chooses among by intent
constexpr int kWordsPerCat = 15;          // word segments owned by one category
constexpr int kBrandsPerCat = 5;

double dot(const float *a, const float *b) {
  double s = 0;
  for (int k = 0; k < kFactors; ++k) s += double(a[k]) * b[k];
  return s;
}

std::vector<double> zipf(int n, double s, Rng &rng) {
  std::vector<double> w(n);
  for (int r = 0; r < n; ++r) w[r] = std::pow(r + 10.0, -s);
  for (int i = n - 1; i > 0; --i) std::swap(w[i], w[rng.below(i + 1)]);
  return w;
}

/// Word segments of an item of category `cat`: one to three distinct words of the
/// category's own (so that rare queries of a category share words with its popular ones),
/// and half the time one generic word.
template <class Item>
void drawWords(Item &it, const std::vector<int> &own, int genericBegin, int words, Rng &rng) {
  it.nWords = 0;
  for (int n = 1 + rng.below(3); n > 0; --n) {
    int word = own[rng.below(int(own.size()))];
    if (std::find(it.words.begin(), it.words.begin() + it.nWords, word) == it.words.begin() + it.nWords)
      it.words[it.nWords++] = word;
  }
  if (genericBegin < words && rng.chance(0.5))
    it.words[it.nWords++] = genericBegin + rng.below(words - genericBegin);
}

} // namespace

World::World(uint64_t seed_, const Sizes &sizes_) : seed(seed_), sizes(sizes_) {
  Rng rng(gen::mix64(seed ^ 0x5a1e5eedULL));
  buildCategories(rng);
  buildQueries(rng);
  buildProducts(rng);
  buildUsers(rng);
  buildScenarios();
  // Scale intent() to unit variance over what the recommender exposes.
  double s2 = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const User &u = users[rng.below(sizes.users)];
    double d = dot(u.f, queries[exposeQuery(u, 0.5, rng)].f);
    s2 += d * d;
  }
  intentScale_ = 1.0 / std::sqrt(s2 / n);
}

void World::buildCategories(Rng &rng) {
  const int C = sizes.categories;
  catCentre_.resize(C);
  for (auto &c : catCentre_)
    for (float &x : c) x = float(rng.normal());
  catPop_ = zipf(C, 0.9, rng);
  catWords_.resize(C), catBrands_.resize(C);
  int perCat = std::max(1, std::min(kWordsPerCat, sizes.words * 3 / 4 / C));
  for (int c = 0; c < C; ++c) {
    for (int j = 0; j < perCat; ++j) catWords_[c].push_back(c * perCat + j);
    for (int j = 0; j < kBrandsPerCat; ++j)
      catBrands_[c].push_back((c * kBrandsPerCat + j) % sizes.brands);
  }
}

void World::buildQueries(Rng &rng) {
  const int Q = sizes.queries, C = sizes.categories;
  const int genericBegin = C * int(catWords_[0].size());
  AliasTable catPick(catPop_);
  std::vector<double> pop = zipf(Q, 1.0, rng);
  double total = std::accumulate(pop.begin(), pop.end(), 0.0);
  queries.resize(Q);
  catQueries_.assign(C, {});
  for (int q = 0; q < Q; ++q) {
    Query &x = queries[q];
    x.cat = catPick.sample(rng);
    for (int k = 0; k < kFactors; ++k) x.f[k] = float(catCentre_[x.cat][k] + 0.7 * rng.normal());
    drawWords(x, catWords_[x.cat], genericBegin, sizes.words, rng);
    x.quality = float(rng.normal());
    x.price = float(rng.normal());
    double g = rng.uniform();
    x.gender = int8_t(g < 0.15 ? 1 : g < 0.30 ? 2 : -1);
    x.ctr = float(gen::sigmoid(-2.0 + 0.8 * x.quality + 0.3 * rng.normal()));
    x.logPop = float(std::log1p(pop[q] / total * 1e6));
    catQueries_[x.cat].push_back(q);
  }
  queryPopularity = AliasTable(pop);
  catQueryPop_.resize(C);
  for (int c = 0; c < C; ++c) {
    std::vector<double> w;
    for (int q : catQueries_[c]) w.push_back(pop[q]);
    if (w.empty()) w.push_back(1), catQueries_[c].push_back(queryPopularity.sample(rng));
    catQueryPop_[c] = AliasTable(w);
  }
}

void World::buildProducts(Rng &rng) {
  const int P = sizes.products, C = sizes.categories;
  const int genericBegin = C * int(catWords_[0].size());
  AliasTable catPick(catPop_);
  std::vector<double> pop = zipf(P, 1.0, rng);
  products.resize(P);
  catProducts_.assign(C, {});
  for (int p = 0; p < P; ++p) {
    Product &x = products[p];
    x.cat = catPick.sample(rng);
    for (int k = 0; k < kFactors; ++k) x.f[k] = float(catCentre_[x.cat][k] + 0.7 * rng.normal());
    x.brand = catBrands_[x.cat][rng.below(kBrandsPerCat)];
    drawWords(x, catWords_[x.cat], genericBegin, sizes.words, rng);
    catProducts_[x.cat].push_back(p);
  }
  catProductPop_.resize(C);
  AliasTable any(pop);
  for (int c = 0; c < C; ++c) {
    std::vector<double> w;
    for (int p : catProducts_[c]) w.push_back(pop[p]);
    if (w.empty()) w.push_back(1), catProducts_[c].push_back(any.sample(rng));
    catProductPop_[c] = AliasTable(w);
  }
}

void World::buildUsers(Rng &rng) {
  const int C = sizes.categories;
  AliasTable catPick(catPop_);
  users.resize(sizes.users);
  std::vector<double> activity(sizes.users), score(C);
  std::vector<int> order(C);
  for (int i = 0; i < sizes.users; ++i) {
    User &u = users[i];
    const auto &a = catCentre_[catPick.sample(rng)], &b = catCentre_[catPick.sample(rng)];
    for (int k = 0; k < kFactors; ++k) u.f[k] = float(0.8 * a[k] + 0.45 * b[k] + 0.35 * rng.normal());
    for (int c = 0; c < C; ++c)
      score[c] = std::log(catPop_[c]) + dot(u.f, catCentre_[c].data()) / kCatTemperature;
    std::iota(order.begin(), order.end(), 0);
    int top = std::min(kTopCats, C);
    std::partial_sort(order.begin(), order.begin() + top, order.end(),
                      [&](int x, int y) { return score[x] > score[y] || (score[x] == score[y] && x < y); });
    u.topCats.assign(order.begin(), order.begin() + top);
    std::vector<double> w;
    for (int c : u.topCats) w.push_back(std::exp(score[c] - score[u.topCats[0]]));
    u.cats = AliasTable(w);
    u.age = 18 + rng.below(50);
    u.gender = rng.chance(0.05) ? 0 : 1 + rng.below(2);
    u.power = float(rng.normal());
    u.activity = float(0.05 + 0.95 * rng.uniform());
    activity[i] = u.activity;
  }
  userActivity = AliasTable(activity);
}

void World::buildScenarios() {
  // Homepage: broad exposure; Search Discovery: exposure from the user's own categories and
  // clicks driven by intent and the current session; Affiliated APPs: less personal, more
  // driven by the query's quality and by matching the user's profile.
  const double personal[] = {0.5, 0.85, 0.3};
  const double wIntent[] = {1.0, 1.5, 0.8}, wSession[] = {0.5, 0.9, 0.3};
  const double wQuality[] = {0.5, 0.3, 0.6}, wMatch[] = {0.3, 0.1, 0.6}, wPrice[] = {0.3, 0.1, 0.5};
  for (int s = 0; s < kScenarios; ++s) {
    Scenario &x = scenarios[s];
    x.share = kTable1Share[s], x.ctr = kTable1Ctr[s], x.personalRate = personal[s];
    x.wIntent = wIntent[s], x.wSession = wSession[s], x.wQuality = wQuality[s];
    x.wMatch = wMatch[s], x.wPrice = wPrice[s];
  }
}

int World::exposeQuery(const User &u, double personalRate, Rng &rng) const {
  if (!rng.chance(personalRate)) return queryPopularity.sample(rng);
  int c = u.topCats[u.cats.sample(rng)];
  return catQueries_[c][catQueryPop_[c].sample(rng)];
}

template <class Item>
int World::pickByIntent(const User &u, const std::vector<Item> &items,
                        const std::vector<AliasTable> &byCat,
                        const std::vector<std::vector<int>> &members, Rng &rng) const {
  int c = u.topCats[u.cats.sample(rng)];
  int cand[kCandidates];
  double w[kCandidates], total = 0;
  for (int j = 0; j < kCandidates; ++j) {
    cand[j] = members[c][byCat[c].sample(rng)];
    total += w[j] = std::exp(intent(u, items[cand[j]].f));
  }
  double r = rng.uniform() * total;
  for (int j = 0; j < kCandidates; ++j)
    if ((r -= w[j]) < 0) return cand[j];
  return cand[kCandidates - 1];
}

int World::chooseQuery(const User &u, Rng &rng) const {
  return pickByIntent(u, queries, catQueryPop_, catQueries_, rng);
}

int World::chooseProduct(const User &u, Rng &rng) const {
  return pickByIntent(u, products, catProductPop_, catProducts_, rng);
}

double World::intent(const User &u, const float *f) const { return dot(u.f, f) * intentScale_; }

} // namespace recc::zeus
