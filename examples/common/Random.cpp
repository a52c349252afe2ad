// examples/common/Random.cpp: building alias tables and Zipf id maps.
#include "examples/common/Random.h"

#include <algorithm>
#include <numeric>
#include <utility>

namespace recc::gen {

AliasTable::AliasTable(std::span<const double> weights)
    : keep_(weights.size()), alias_(weights.size()) {
  const int n = int(weights.size());
  std::vector<double> w(weights.begin(), weights.end());
  double total = 0;
  for (double x : w) total += x;
  // Scale to mean 1, then pair each under-full slot with an over-full one.
  std::vector<int> small, large;
  for (int r = 0; r < n; ++r) (w[r] *= n / total) < 1 ? small.push_back(r) : large.push_back(r);
  while (!small.empty() && !large.empty()) {
    int lo = small.back(), hi = large.back();
    small.pop_back();
    keep_[lo] = w[lo], alias_[lo] = hi;
    if ((w[hi] -= 1 - w[lo]) < 1) large.pop_back(), small.push_back(hi);
  }
  for (int r : small) keep_[r] = 1, alias_[r] = r;  // rounding leftovers
  for (int r : large) keep_[r] = 1, alias_[r] = r;
}

namespace {
std::vector<double> zipfWeights(int n, double s) {
  std::vector<double> w(n);
  for (int r = 0; r < n; ++r) w[r] = std::pow(r + 10.0, -s);
  return w;
}
} // namespace

ZipfIds::ZipfIds(int n, double s, Rng &world) : ranks_(zipfWeights(n, s)), ids_(n) {
  std::iota(ids_.begin(), ids_.end(), 0);
  for (int i = n - 1; i > 0; --i) std::swap(ids_[i], ids_[world.below(i + 1)]);
}

std::vector<int> gumbelTopK(std::span<const double> logits, int k, Rng &rng) {
  const int n = int(logits.size());
  k = std::min(k, n);
  std::vector<std::pair<double, int>> keyed(n);
  for (int j = 0; j < n; ++j) {
    double u = (double(rng.next() >> 11) + 0.5) * 0x1.0p-53;  // (0, 1): a finite Gumbel
    keyed[j] = {logits[j] - std::log(-std::log(u)), j};
  }
  std::partial_sort(keyed.begin(), keyed.begin() + k, keyed.end(),
                    [](const auto &a, const auto &b) { return a.first > b.first; });
  std::vector<int> out(k);
  for (int j = 0; j < k; ++j) out[j] = keyed[j].second;
  return out;
}

} // namespace recc::gen
