// examples/damcar/DamcarWorld.h: the fixed world DAMCAR's data is drawn from: users and
// short videos in one latent taste space, authors whose videos resemble each other, visual,
// acoustic and textual vectors that are noisy views of a video's place in that space, and
// the biased exposure policy of the cascade being debiased (README.md states each part).
//
// Everything depends on the seed and sizes only.
#pragma once

#include "examples/common/Random.h"

#include <array>
#include <cstdint>
#include <vector>

namespace recc::damcar {

using gen::AliasTable;
using gen::Rng;

constexpr int kTaste = 8;           // latent dimensions
constexpr int kModalDim = 4;        // each of the V, A, T vectors
constexpr int kUserVocab = 100000, kItemVocab = 50000, kAuthorVocab = 20000;  // models/damcar*.rec

struct WorldSizes {
  int users = 20000, items = 20000, authors = 2000;
  double exposuresPerUser = 60;
};

struct Video {
  int author = 0;
  float quality = 0, duration = 0;
  float f[kTaste] = {};
  std::array<float, kModalDim> visual{}, acoustic{}, textual{};
};

struct Viewer {
  float activity = 0;
  float f[kTaste] = {};
};

/// One exposure and what the user did with it.
struct Exposure {
  int user = 0, item = 0;
  double time = 0;        // in [0, 1): the 6:2:2 split cuts at 0.6 and 0.8
  double watchTime = 0;   // seconds
  bool finish = false;
  double relevance = 0;   // the true affinity, for the summary only
};

class DamcarWorld {
public:
  DamcarWorld(uint64_t seed, const WorldSizes &sizes);

  /// The true affinity of a user for a video: taste match plus quality.
  double relevance(int user, int item) const;
  /// P(finish | exposed) for that affinity.
  static double finishProbability(double relevance);
  /// The cascade's exposure policy for one impression of `user` (mostly popularity).
  int expose(int user, Rng &rng) const;
  /// All exposures of the data window, in time order.
  std::vector<Exposure> simulate() const;

  uint64_t seed;
  WorldSizes sizes;
  std::vector<Video> videos;
  std::vector<Viewer> viewers;
  AliasTable popularity;
  std::vector<double> popWeight;

private:
  void buildVideos(Rng &rng);
  void buildViewers(Rng &rng);
};

} // namespace recc::damcar
