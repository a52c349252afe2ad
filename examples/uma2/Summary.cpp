// examples/uma2/Summary.cpp: the stderr summary of gen_uma2.
#include "examples/uma2/Summary.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace recc::uma2 {

namespace {
constexpr const char *kSpaceName[4] = {"POS", "A", "B", "C"};
constexpr const char *kStrategyName[kStrategies] = {"SS-A", "SS-AB", "SS-ABC(random)",
                                                    "SS-ABC(fixed)"};

/// HitRate@K over the test users of a ranking by score(user, item).
std::pair<double, double> hitRates(const std::map<int, std::vector<int>> &clicks, int items,
                                   const std::function<double(int, int)> &score) {
  double hit100 = 0, hit200 = 0;
  std::vector<double> s(items);
  for (const auto &[u, pos] : clicks) {
    for (int i = 0; i < items; ++i) s[i] = score(u, i);
    int best = items;  // rank of the best-ranked positive
    for (int p : pos) {
      int rank = 0;
      for (int i = 0; i < items; ++i) rank += s[i] > s[p];
      best = std::min(best, rank);
    }
    hit100 += best < 100, hit200 += best < 200;
  }
  double n = std::max<size_t>(1, clicks.size());
  return {hit100 / n, hit200 / n};
}
} // namespace

void Summary::addSample(Strategy s, const Sample &x) {
  SpaceStats &st = stats_[int(s)][int(x.space)];
  st.n++, st.logPop += w_.item(x.item).logPop, st.ctr += w_.item(x.item).ctr;
}

void Summary::print(FILE *f, const Funnel &funnel) const {
  const int items = w_.sizes().items;
  double pop = 0, ctr = 0;
  for (int i = 0; i < items; ++i) pop += w_.item(i).logPop, ctr += w_.item(i).ctr;
  std::fprintf(f, "training day: %ld requests, %ld clicks (positives)\n", requests_, clicks_);
  std::fprintf(f, "corpus: %d items, mean log-popularity %+.3f, mean item_ctr %.4f\n", items,
               pop / items, ctr / items);
  for (int s = 0; s < kStrategies; ++s) {
    std::fprintf(f, "%-15s", kStrategyName[s]);
    long total = 0;
    for (const SpaceStats &st : stats_[s]) total += st.n;
    for (int k = 0; k < 4; ++k) {
      const SpaceStats &st = stats_[s][k];
      if (!st.n) continue;
      std::fprintf(f, "  %s %5.2f%% (log-pop %+.2f, ctr %.4f)", kSpaceName[k],
                   100.0 * st.n / total, st.logPop / st.n, st.ctr / st.n);
    }
    std::fprintf(f, "\n");
  }
  long tc = 0;
  for (const auto &[u, pos] : testClicks_) tc += long(pos.size());
  std::fprintf(f, "test day: %zu users with a click, %ld clicks\n", testClicks_.size(), tc);
  // Reference rankings: the funnel's own log-odds of a click (recall, exposure and click
  // logits; an upper reference, not an exact entire-space probability) and the
  // non-personalised popularity + CTR score of the recall policy.
  auto oracle = hitRates(testClicks_, items, [&](int u, int i) {
    return funnel.recallLogit(u, i) + funnel.exposeLogit(u, i) + std::log(funnel.clickProb(u, i));
  });
  const Policy &p = w_.policy();
  auto popular = hitRates(testClicks_, items, [&](int, int i) {
    return p.recallPop * w_.item(i).logPop + p.recallCtr * w_.ctrScore(i);
  });
  std::fprintf(f, "reference HitRate@100/@200: funnel log-odds %.4f / %.4f, "
                  "popularity+CTR %.4f / %.4f\n",
               oracle.first, oracle.second, popular.first, popular.second);
}

} // namespace recc::uma2
