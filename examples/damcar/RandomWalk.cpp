// examples/damcar/RandomWalk.cpp: the graph, the walks and Eq. 3.
#include "examples/damcar/RandomWalk.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <string>
#include <thread>

namespace recc::damcar {

namespace {

constexpr double kWeightEps = 1e-6;

/// Rows of `from -> to` in compressed form, each row ascending by `to`, repeats summed.
void buildRows(std::vector<Interaction> edges, bool byUser, int rows, std::vector<long long> &off,
               std::vector<int> &to, std::vector<double> &cum) {
  auto key = [&](const Interaction &e) { return byUser ? std::pair(e.user, e.item) : std::pair(e.item, e.user); };
  std::sort(edges.begin(), edges.end(), [&](const auto &a, const auto &b) { return key(a) < key(b); });
  off.assign(rows + 1, 0);
  to.clear(), cum.clear();
  for (size_t k = 0; k < edges.size();) {
    auto [from, dest] = key(edges[k]);
    double w = kWeightEps;
    for (; k < edges.size() && key(edges[k]) == std::pair(from, dest); ++k) w += edges[k].weight;
    ++off[from + 1];
    to.push_back(dest);
    cum.push_back(w);
  }
  for (int r = 0; r < rows; ++r) off[r + 1] += off[r];
  for (int r = 0; r < rows; ++r)   // running sums within each row
    for (long long k = off[r] + 1; k < off[r + 1]; ++k) cum[k] += cum[k - 1];
}

} // namespace

ExposureGraph::ExposureGraph(std::vector<Interaction> edges) {
  int users = 0, items = 0;
  for (const Interaction &e : edges) {
    if (e.user < 0 || e.item < 0)
      throw std::invalid_argument("negative id: user " + std::to_string(e.user) + ", item " +
                                  std::to_string(e.item));
    if (!std::isfinite(e.weight) || e.weight < 0)
      throw std::invalid_argument("weight " + std::to_string(e.weight) + " of user " +
                                  std::to_string(e.user) + ", item " + std::to_string(e.item) +
                                  " is not a finite number >= 0");
    users = std::max(users, e.user + 1), items = std::max(items, e.item + 1);
  }
  buildRows(edges, true, users, userOff_, userItems_, userCum_);
  buildRows(std::move(edges), false, items, itemOff_, itemUsers_, itemCum_);
}

bool ExposureGraph::exposed(int u, int item) const {
  if (u < 0 || u >= users()) return false;
  auto row = itemsOf(u);
  return std::binary_search(row.begin(), row.end(), item);
}

int ExposureGraph::sample(const std::vector<long long> &off, const std::vector<double> &cum,
                          const std::vector<int> &to, int from, gen::Rng &rng) {
  long long b = off[from], e = off[from + 1];
  if (b == e) return -1;
  double r = rng.uniform() * cum[e - 1];
  long long k = std::upper_bound(cum.begin() + b, cum.begin() + e, r) - cum.begin();
  return to[std::min(k, e - 1)];
}

namespace {
double rowProbability(const std::vector<long long> &off, const std::vector<double> &cum,
                      const std::vector<int> &to, int from, int dest) {
  if (from < 0 || from + 1 >= (int)off.size()) return 0;
  long long b = off[from], e = off[from + 1];
  auto it = std::lower_bound(to.begin() + b, to.begin() + e, dest);
  if (it == to.begin() + e || *it != dest) return 0;
  long long k = it - to.begin();
  return (cum[k] - (k > b ? cum[k - 1] : 0)) / cum[e - 1];
}
} // namespace

double ExposureGraph::pUserToItem(int u, int item) const {
  return rowProbability(userOff_, userCum_, userItems_, u, item);
}
double ExposureGraph::pItemToUser(int item, int u) const {
  return rowProbability(itemOff_, itemCum_, itemUsers_, item, u);
}

std::vector<std::pair<int, int>> visitCounts(const ExposureGraph &g, int u, const WalkOptions &o) {
  std::vector<int> visited;
  if (g.itemsOf(u).empty() || o.radius < 1 || o.visits < 1) return {};
  gen::Rng rng(gen::mix64(o.seed ^ gen::mix64(uint64_t(u) + 1)));
  for (int walks = 0; o.countWalks ? walks < o.visits : int(visited.size()) < o.visits; ++walks) {
    int node = u;
    bool atUser = true;
    for (int hop = 1; hop <= o.radius; ++hop) {
      if (!o.countWalks && int(visited.size()) == o.visits) break;
      node = atUser ? g.stepFromUser(node, rng) : g.stepFromItem(node, rng);
      if (atUser) visited.push_back(node);
      atUser = !atUser;
    }
  }
  std::sort(visited.begin(), visited.end());
  std::vector<std::pair<int, int>> counts;
  for (int item : visited)
    if (!counts.empty() && counts.back().first == item) ++counts.back().second;
    else counts.emplace_back(item, 1);
  return counts;
}

std::vector<HardSample> hardSamplesOf(const ExposureGraph &g, int u,
                                      const std::vector<std::pair<int, int>> &visits) {
  double exposedSum = 0;
  int exposedItems = 0;
  for (auto [item, t] : visits)
    if (g.exposed(u, item)) exposedSum += t, ++exposedItems;
  std::vector<HardSample> out;
  if (exposedItems == 0) return out;   // only when u has no exposures: hop 1 lands on one
  double threshold = exposedSum / exposedItems;
  for (auto [item, t] : visits)
    if (!g.exposed(u, item) && t >= threshold) out.push_back({u, item, t});
  return out;
}

std::vector<HardSample> selectHardSamples(const ExposureGraph &g, const WalkOptions &o) {
  const int users = g.users(), threads = std::max(1, std::min(o.threads, std::max(users, 1)));
  std::vector<std::vector<HardSample>> perUser(users);
  auto work = [&](int t) {
    for (int u = t; u < users; u += threads) perUser[u] = hardSamplesOf(g, u, visitCounts(g, u, o));
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work, t);
  work(0);
  for (auto &th : pool) th.join();
  std::vector<HardSample> all;
  for (auto &v : perUser) all.insert(all.end(), v.begin(), v.end());
  return all;
}

std::vector<HardSample> randomUnexposed(const ExposureGraph &g, size_t n, uint64_t seed) {
  gen::Rng rng(gen::mix64(seed ^ 0x7a2d0bULL));
  long long unexposed = (long long)g.users() * g.items() - g.edges();
  if ((long long)n > unexposed)
    throw std::invalid_argument("asked for " + std::to_string(n) + " random unexposed pairs, but only " +
                                std::to_string(unexposed) + " exist");
  std::set<std::pair<int, int>> chosen;
  while (chosen.size() < n) {
    int u = rng.below(g.users()), item = rng.below(g.items());
    if (!g.exposed(u, item)) chosen.insert({u, item});
  }
  std::vector<HardSample> out;
  for (auto [u, item] : chosen) out.push_back({u, item, 0});
  return out;
}

} // namespace recc::damcar
