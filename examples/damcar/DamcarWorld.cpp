// examples/damcar/DamcarWorld.cpp: drawing the world and its exposures.
//
// Exposure policy (the biased cascade): 70% of impressions go to a video drawn by
// popularity (Zipf), 20% to the best of 20 random videos by the policy's own noisy estimate
// of the affinity (noise sd 1.0), 10% to a uniformly random video (exploration).
// Engagement: finish with probability sigmoid(-1 + 1.5 * affinity); watch time is the
// whole duration when finished, else a fraction of it that grows with the affinity.
#include "examples/damcar/DamcarWorld.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace recc::damcar {

namespace {
constexpr double kPopular = 0.35, kPersonal = 0.5;   // the rest explores uniformly
constexpr int kPolicyCandidates = 50;
constexpr double kPolicyNoise = 0.7;

std::array<std::array<float, kTaste>, kModalDim> projection(Rng &rng) {
  std::array<std::array<float, kTaste>, kModalDim> w;
  for (auto &row : w)
    for (float &x : row) x = float(rng.normal() / std::sqrt(double(kTaste)));
  return w;
}

void view(std::array<float, kModalDim> &out, const std::array<std::array<float, kTaste>, kModalDim> &w,
          const float *f, double noise, Rng &rng) {
  for (int d = 0; d < kModalDim; ++d) {
    double s = 0;
    for (int k = 0; k < kTaste; ++k) s += w[d][k] * f[k];
    out[d] = float(s + noise * rng.normal());
  }
}
} // namespace

DamcarWorld::DamcarWorld(uint64_t seed_, const WorldSizes &sizes_) : seed(seed_), sizes(sizes_) {
  Rng rng(gen::mix64(seed ^ 0xda4ca2ULL));
  buildVideos(rng);
  buildViewers(rng);
}

void DamcarWorld::buildVideos(Rng &rng) {
  std::vector<std::array<float, kTaste>> authorTaste(sizes.authors);
  for (auto &a : authorTaste)
    for (float &x : a) x = float(rng.normal());
  auto wv = projection(rng), wa = projection(rng), wt = projection(rng);
  videos.resize(sizes.items);
  popWeight.resize(sizes.items);
  for (int i = 0; i < sizes.items; ++i) {
    Video &v = videos[i];
    v.author = rng.below(sizes.authors);
    for (int k = 0; k < kTaste; ++k) v.f[k] = float(0.7 * authorTaste[v.author][k] + 0.7 * rng.normal());
    v.quality = float(0.5 * rng.normal());
    v.duration = float(10 + 50 * rng.uniform());
    view(v.visual, wv, v.f, 0.3, rng);                            // what the video shows
    view(v.acoustic, wa, v.f, 0.6, rng);                          // its sound, noisier
    view(v.textual, wt, authorTaste[v.author].data(), 0.3, rng);  // its text: the author's
    // Popularity: Zipf over a random order, nudged by quality.
    popWeight[i] = std::exp(0.5 * v.quality);
  }
  std::vector<int> order(sizes.items);
  std::iota(order.begin(), order.end(), 0);
  for (int i = sizes.items - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int r = 0; r < sizes.items; ++r) popWeight[order[r]] *= std::pow(r + 10.0, -1.1);
  popularity = AliasTable(popWeight);
}

void DamcarWorld::buildViewers(Rng &rng) {
  viewers.resize(sizes.users);
  for (Viewer &u : viewers) {
    for (float &x : u.f) x = float(0.8 * rng.normal());
    u.activity = float(0.2 + 1.6 * rng.uniform());
  }
}

double DamcarWorld::relevance(int user, int item) const {
  double s = 0;
  for (int k = 0; k < kTaste; ++k) s += double(viewers[user].f[k]) * videos[item].f[k];
  return 2.0 * s / kTaste + videos[item].quality;
}

double DamcarWorld::finishProbability(double relevance) { return gen::sigmoid(-1.0 + 1.5 * relevance); }

int DamcarWorld::expose(int user, Rng &rng) const {
  double r = rng.uniform();
  if (r < kPopular) return popularity.sample(rng);
  if (r >= kPopular + kPersonal) return rng.below(sizes.items);
  int best = -1;
  double bestScore = -1e300;
  for (int c = 0; c < kPolicyCandidates; ++c) {
    int item = rng.below(sizes.items);
    double score = relevance(user, item) + kPolicyNoise * rng.normal();
    if (score > bestScore) best = item, bestScore = score;
  }
  return best;
}

std::vector<Exposure> DamcarWorld::simulate() const {
  Rng rng(gen::mix64(seed ^ 0x51a1a7eULL));
  std::vector<Exposure> all;
  for (int u = 0; u < sizes.users; ++u) {
    int n = int(sizes.exposuresPerUser * viewers[u].activity + 0.5);
    for (int k = 0; k < n; ++k) {
      Exposure e;
      e.user = u, e.item = expose(u, rng), e.time = rng.uniform();
      e.relevance = relevance(u, e.item);
      e.finish = rng.chance(finishProbability(e.relevance));
      const Video &v = videos[e.item];
      double fraction = gen::sigmoid(e.relevance - 0.5 + 0.5 * rng.normal()) * 0.9;
      e.watchTime = v.duration * (e.finish ? 1.0 : fraction);
      all.push_back(e);
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const Exposure &a, const Exposure &b) { return a.time < b.time; });
  return all;
}

} // namespace recc::damcar
