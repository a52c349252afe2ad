// examples/sarnet/Behaviours.cpp: the pre-window histories and the per-user rings.
#include "examples/sarnet/Behaviours.h"

#include <algorithm>
#include <cmath>

namespace recc::sarnet {

int timeBucket(double gapHours) {
  return std::min(kTimeBuckets - 1, 1 + int(std::floor(std::log2(1.0 + std::max(0.0, gapHours)))));
}

namespace {

/// The item of one behaviour: mostly one of the user's favourite categories or
/// destinations, else whatever the scenario shows.
int behaviourItem(const World &w, const User &u, int theme, Rng &rng) {
  double r = rng.uniform();
  if (r < 0.65) return w.sampleFrom(w.catItems, w.catIds, u.favCats[rng.below(4)], rng);
  if (r < 0.80) return w.sampleFrom(w.destItems, w.destIds, u.favDests[rng.below(3)], rng);
  return w.sampleFrom(w.themeItems, w.themeIds, theme, rng);
}

} // namespace

std::vector<Behaviour> preWindowHistory(const World &w, int u) {
  const User &user = w.users[u];
  Rng rng(gen::mix64(w.seed ^ gen::mix64(uint64_t(u) + 0x415751ULL)));
  const int n = int(user.historyLength);
  // Every scenario the user visits appears once (as far as the length allows), the rest
  // are repeat visits or unmodelled contexts; then the order is shuffled.
  std::vector<int> contexts(n);
  for (int k = 0; k < n; ++k) {
    bool other = k >= user.nos && rng.chance(0.12);
    int s = k < user.nos ? user.scenarios[k] : user.scenarios[rng.below(user.nos)];
    contexts[k] = other ? kScenarios * kSubPages + rng.below(kOtherContexts)
                        : s * kSubPages + rng.below(w.scenarios[s].subPages);
  }
  for (int k = n - 1; k > 0; --k) std::swap(contexts[k], contexts[rng.below(k + 1)]);
  std::vector<float> hours(n);
  for (float &h : hours) {
    double x = rng.uniform();  // x^1.5: recent behaviours are denser
    h = float(-0.1 - kWindowHours * x * std::sqrt(x));
  }
  std::sort(hours.begin(), hours.end());
  std::vector<Behaviour> out(n);
  for (int k = 0; k < n; ++k) {
    int c = contexts[k];
    int theme = c < kScenarios * kSubPages ? w.scenarios[c / kSubPages].themes.sample(rng)
                                           : rng.below(kThemes);
    out[k] = {behaviourItem(w, user, theme, rng), c, hours[k]};
  }
  return out;
}

void UserHistories::ensure(int u) {
  if (count_[u] >= 0) return;
  count_[u] = 0;
  for (const Behaviour &b : pre_.of(u)) push(u, b);
}

void UserHistories::push(int u, const Behaviour &b) {
  ensure(u);
  ring_[size_t(u) * kSeqLen + head_[u]] = b;
  head_[u] = (head_[u] + 1) % kSeqLen;
  count_[u] = std::min(count_[u] + 1, kSeqLen);
}

int UserHistories::recent(int u, std::span<Behaviour> out) {
  ensure(u);
  const int n = count_[u];
  for (int k = 0; k < n; ++k)
    out[k] = ring_[size_t(u) * kSeqLen + (head_[u] - 1 - k + kSeqLen) % kSeqLen];
  return n;
}

} // namespace recc::sarnet
