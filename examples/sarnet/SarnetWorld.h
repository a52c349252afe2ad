// examples/sarnet/SarnetWorld.h: the fixed world the SAR-Net data is drawn from: 20
// scenarios with the paper's skewed sizes and CTRs (Table 1), users who visit several of
// them (Table 2), travel items with category, destination and a latent quality, and the
// per-scenario parameters of the click model (ClickModel.h).
//
// Everything here depends on the seed only, so the train and test files of one run come
// from the same users, items and scenarios.
#pragma once

#include "examples/common/Random.h"

#include <array>
#include <cstdint>
#include <vector>

namespace recc::sarnet {

using gen::AliasTable;
using gen::Rng;

constexpr int kScenarios = 20;        // S, the modelled scenarios (column `scenario`)
constexpr int kSubPages = 16;         // scn_id = scenario * 16 + sub-page
constexpr int kOtherContexts = 80;    // unmodelled scenario contexts, scn_id 320..399
constexpr int kContexts = kScenarios * kSubPages + kOtherContexts;  // 400
constexpr int kTypes = 16;            // scenario types; modelled scenarios use 0..7
constexpr int kThemes = 8;            // item themes (hotel, flight, ticket, ...)
constexpr int kSeqLen = 50;           // T
constexpr int kTimeBuckets = 16;
constexpr int kFactors = 8;
constexpr int kUsers = 100000, kItems = 100000, kCategories = 2000, kDests = 800;
constexpr int kCountries = 60;
constexpr int kCrossVocab = 1000000;  // user_x_cat hash space

/// Paper Table 1: share of the training data and average CTR, scenarios #1..#20.
extern const std::array<double, kScenarios> kTable1Share, kTable1Ctr;
/// Paper Table 2: share of users by number of scenarios visited, bins <2, 2~4, 4~6, 6~8,
/// 8~10, >10 (read here as 1, 2-3, 4-5, 6-7, 8-10, 11-20).
extern const std::array<double, 6> kTable2Share;
constexpr int kNosBinLo[6] = {1, 2, 4, 6, 8, 11}, kNosBinHi[6] = {1, 3, 5, 7, 10, 20};

/// How the click model treats one scenario (ClickModel.cpp states the mechanism).
struct Scenario {
  int type = 0, subPages = 1;
  double share = 0, ctr = 0;        // Table 1 targets
  double intercept = 0;             // calibrated so that the logged CTR hits `ctr`
  double wQuality = 0, wCountry = 0, wFactor = 0, wInterest = 0;  // per-scenario weights
  double promoteRate = 0;           // share of impressions given to promoted items
  double promotedClickRate = 1;     // kappa: logged clicks / true clicks on promoted impressions
  double personalRate = 0;          // share of impressions picked from the user's behaviours
  std::array<float, kSubPages> subPageBias{};
  AliasTable themes;                // which themes the scenario shows
  std::vector<int> promoted;        // items the operators push here
};

struct User {
  int country = 0, nos = 0;                // nos: number of scenarios the user visits
  float bias = 0;
  float f[kFactors] = {};
  std::array<int, 4> favCats{};
  std::array<int, 3> favDests{};
  std::vector<uint8_t> scenarios;          // the modelled scenarios the user visits
  float historyLength = 0;                 // pre-window behaviours (0..50)
};

struct Item {
  int category = 0, dest = 0;
  float quality = 0, score = 0;            // score: the noisy offline statistic (item_score)
  float f[kFactors] = {};
};

class World {
public:
  explicit World(uint64_t seed);

  uint64_t seed;
  std::array<Scenario, kScenarios> scenarios;
  std::array<int, kOtherContexts> otherType{};     // scenario type of contexts 320..399
  std::vector<User> users;
  std::vector<Item> items;
  std::vector<int> destCountry, catTheme;
  AliasTable scenarioOfRequest;                    // Table 1 shares
  std::vector<AliasTable> usersOf;                 // per scenario: its visitors by activity
  std::vector<std::vector<int>> usersOfIds;        // ... and their ids
  std::vector<AliasTable> themeItems, catItems, destItems;  // items by popularity
  std::vector<std::vector<int>> themeIds, catIds, destIds;

  int typeOfContext(int scnId) const {
    return scnId < kScenarios * kSubPages ? scenarios[scnId / kSubPages].type
                                          : otherType[scnId - kScenarios * kSubPages];
  }
  /// How much a behaviour in context `scnId` tells about interest in scenario s: 1 in s
  /// itself, less in a scenario of the same type, little in a related type, ~0 elsewhere.
  double relatedness(int s, int scnId) const;

  int sampleFrom(const std::vector<AliasTable> &by, const std::vector<std::vector<int>> &ids,
                 int key, Rng &rng) const {
    return ids[key][by[key].sample(rng)];
  }

private:
  void drawScenarios(Rng &rng);
  void drawItems(Rng &rng);
  void drawUsers(Rng &rng);
  void indexItems();
  void indexUsers();
  void drawPromotions(Rng &rng);
};

} // namespace recc::sarnet
