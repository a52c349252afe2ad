// examples/common/Random.h: the seeded random sources the synthetic data generators share.
//
// Generators must write the same file for the same seed on every platform, so nothing here
// uses <random>'s distributions (their algorithms are implementation-defined): a
// xoshiro256** engine with its own Box-Muller normal, Vose's alias method for categorical
// draws in O(1), and Zipf-Mandelbrot ids built on it.
#pragma once

#include <cmath>
#include <cstdint>
#include <numbers>
#include <span>
#include <vector>

namespace recc::gen {

/// xoshiro256** seeded by SplitMix64.
class Rng {
public:
  explicit Rng(uint64_t seed) {
    for (auto &w : s_) {
      seed += 0x9e3779b97f4a7c15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      w = z ^ (z >> 31);
    }
  }
  uint64_t next() {
    uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3];
    s_[2] ^= t, s_[3] = rotl(s_[3], 45);
    return r;
  }
  double uniform() { return double(next() >> 11) * 0x1.0p-53; }  // [0, 1)
  double normal() {  // Box-Muller, both values used
    if (hasSpare_) return hasSpare_ = false, spare_;
    double r = std::sqrt(-2.0 * std::log(1.0 - uniform())), t = 2.0 * std::numbers::pi * uniform();
    spare_ = r * std::sin(t), hasSpare_ = true;
    return r * std::cos(t);
  }
  int below(int n) { return int(uniform() * n); }
  bool chance(double p) { return uniform() < p; }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
  double spare_ = 0;
  bool hasSpare_ = false;
};

/// SplitMix64's finaliser: a well-mixed 64-bit hash, for seeds derived from (seed, key)
/// pairs and for hashed feature crosses.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

inline double sigmoid(double z) { return 1.0 / (1.0 + std::exp(-z)); }

/// Draws index k with probability weights[k] / sum(weights) in O(1) (Vose's alias method;
/// a binary search over the CDF was a generator's bottleneck). Weights must be >= 0 with a
/// positive sum.
class AliasTable {
public:
  AliasTable() = default;
  explicit AliasTable(std::span<const double> weights);
  int sample(Rng &rng) const {
    double u = rng.uniform() * double(keep_.size());
    int r = int(u);
    return u - r < keep_[r] ? r : alias_[r];
  }
  int size() const { return int(keep_.size()); }

private:
  std::vector<double> keep_;
  std::vector<int> alias_;
};

/// Zipf-Mandelbrot ids: rank r has weight (r + 10)^-s, and a permutation drawn from `world`
/// maps ranks to ids so that popularity is not simply "small id".
class ZipfIds {
public:
  ZipfIds(int n, double s, Rng &world);
  int rank(Rng &rng) const { return ranks_.sample(rng); }
  int id(int rank) const { return ids_[rank]; }
  int sample(Rng &rng) const { return id(rank(rng)); }

private:
  AliasTable ranks_;
  std::vector<int> ids_;
};

/// k distinct indices drawn without replacement with probabilities proportional to
/// exp(logits[j]) at each draw (Plackett-Luce), by the Gumbel-top-k trick: the k largest
/// logits[j] + Gumbel noise. Order: best first. k is capped at logits.size().
std::vector<int> gumbelTopK(std::span<const double> logits, int k, Rng &rng);

/// The x in [-40, 40] with f(x) = target, for f increasing (48 bisection steps).
template <class F> double bisect(F f, double target) {
  double lo = -40, hi = 40;
  for (int it = 0; it < 48; ++it) {
    double mid = 0.5 * (lo + hi);
    (f(mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

} // namespace recc::gen
