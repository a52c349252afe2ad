// examples/zeus/ZeusWorld.h: the fixed world the ZEUS data is drawn from: users with one
// latent intent each, queries and products that live near their category in the same
// latent space, word segments shared within a category, and the three click scenarios of
// the paper's Table 1 with their own click-model weights (ClickModel.h).
//
// Everything here depends on the seed and the sizes only, so all files of one run come
// from the same users, queries and products.
#pragma once

#include "examples/common/Random.h"

#include <array>
#include <cstdint>
#include <vector>

namespace recc::zeus {

using gen::AliasTable;
using gen::Rng;

constexpr int kFactors = 8;             // the latent intent space
constexpr int kSeqLen = 10;             // S_q and S_c: the last 10 behaviours (spec 7.1)
constexpr int kMaxWords = 4;            // word segments per query or product (models allow 8)
constexpr int kScenarios = 3;           // click scenarios; column `scenario` is 1..3
constexpr int kSearchScenario = 0;      // the reserved id of search-box samples (spec 7.13)
constexpr int kNegatives = 9;           // exposed-but-unclicked negatives per search (spec 2.2)

// Vocabularies the models declare (models/zeus.rec, Table 6). The world's ids are spread
// over them by a bijection, so a 10^8-row table sees ids scattered over its whole range.
constexpr long long kIdVocab = 100000000;
constexpr int kWordVocab = 1000000, kCatVocab = 50000, kBrandVocab = 50000;

/// Paper Table 1, the three click scenarios: share of samples and positive rate.
extern const std::array<double, kScenarios> kTable1Share, kTable1Ctr;

struct Sizes {
  int users = 50000, queries = 100000, products = 100000;
  int categories = 1000, brands = 5000, words = 20000;
};

struct Query {
  int cat = 0, nWords = 0;
  std::array<int, kMaxWords> words{};
  float quality = 0;       // how clickable the query is for anyone
  float price = 0;         // the price level of what it finds (meets the user's power)
  int8_t gender = -1;      // the gender it appeals to, -1 for both
  float ctr = 0;           // q_ctr: its noisy historical CTR
  float logPop = 0;        // log of its search popularity (q_clicks)
  float f[kFactors] = {};  // its place in the intent space
};

struct Product {
  int cat = 0, brand = 0, nWords = 0;
  std::array<int, kMaxWords> words{};
  float f[kFactors] = {};
};

struct User {
  int age = 0, gender = 0;
  float power = 0;          // purchase power
  float activity = 0;       // (0, 1]: how many behaviours precede the data window
  float f[kFactors] = {};   // the latent intent, driving searches and clicks alike
  AliasTable cats;          // the user's categories, drawn among topCats
  std::vector<int> topCats;
};

/// How one click scenario behaves (ClickModel.cpp states the mechanism).
struct Scenario {
  double share = 0, ctr = 0;     // Table 1 targets
  double intercept = 0;          // calibrated so the CTR hits `ctr`
  double personalRate = 0;       // share of impressions drawn from the user's categories
  double wIntent = 0, wSession = 0, wQuality = 0, wMatch = 0, wPrice = 0;
};

class World {
public:
  World(uint64_t seed, const Sizes &sizes);

  /// The column values of world ids: bijections onto the declared vocabularies.
  static long long queryId(int q) { return spread(q, 54435761LL, 7919LL, kIdVocab); }
  static long long productId(int p) { return spread(p, 54435761LL, 104729LL, kIdVocab); }
  static int wordId(int w) { return int(spread(w, 435761LL, 31LL, kWordVocab)); }

  /// A popular or personal query, as the recommender exposes: with `personalRate`, one of
  /// the user's categories, else the global popularity; popularity picks within.
  int exposeQuery(const User &u, double personalRate, Rng &rng) const;
  /// The query or product the user herself picks: her category, then the best of a few
  /// popular candidates of it by her intent (a softmax over their affinities).
  int chooseQuery(const User &u, Rng &rng) const;
  int chooseProduct(const User &u, Rng &rng) const;
  /// <intent, item>, scaled to unit variance over the world.
  double intent(const User &u, const float *f) const;

  uint64_t seed;
  Sizes sizes;
  std::array<Scenario, kScenarios> scenarios;
  std::vector<User> users;
  std::vector<Query> queries;
  std::vector<Product> products;
  AliasTable userActivity, queryPopularity;

private:
  static long long spread(long long x, long long a, long long b, long long vocab) {
    return (x * a + b) % vocab;  // a is coprime to vocab: a bijection
  }
  void buildCategories(Rng &rng);
  void buildQueries(Rng &rng);
  void buildProducts(Rng &rng);
  void buildUsers(Rng &rng);
  void buildScenarios();
  template <class Item> int pickByIntent(const User &u, const std::vector<Item> &items,
                                         const std::vector<AliasTable> &byCat,
                                         const std::vector<std::vector<int>> &members,
                                         Rng &rng) const;

  std::vector<std::array<float, kFactors>> catCentre_;
  std::vector<double> catPop_;
  std::vector<std::vector<int>> catWords_, catBrands_;
  std::vector<std::vector<int>> catQueries_, catProducts_;
  std::vector<AliasTable> catQueryPop_, catProductPop_;
  double intentScale_ = 1;
};

} // namespace recc::zeus
