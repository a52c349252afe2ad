// examples/uma2/Sampling.cpp: negatives by strategy, their space tags and w_sos.
#include "examples/uma2/Sampling.h"

#include <algorithm>

namespace recc::uma2 {

namespace {

int drawFrom(const std::vector<int> &pool, Rng &rng) { return pool[rng.below(int(pool.size()))]; }

/// A uniform item outside the recall set (rejection; the recall set is small).
int drawC(const Request &r, int corpus, Rng &rng) {
  for (;;)
    if (int i = rng.below(corpus); !r.inRecall[i]) return i;
}

/// A uniform corpus item that is not one of the request's clicks.
int drawAny(const Request &r, int corpus, Rng &rng) {
  for (;;)
    if (int i = rng.below(corpus);
        std::find(r.clicked.begin(), r.clicked.end(), i) == r.clicked.end())
      return i;
}

/// |space| of the request for the Horvitz-Thompson weight.
double spaceSize(const Request &r, Space s, int corpus) {
  switch (s) {
  case Space::A: return double(r.a.size());
  case Space::B: return double(r.b.size());
  case Space::C: return double(corpus - int(r.recalled.size()));
  default: return 1;
  }
}

void setSosWeights(const Request &r, int corpus, std::vector<Sample> &g) {
  int draws[4] = {};
  for (size_t k = 1; k < g.size(); ++k) draws[int(g[k].space)]++;
  double total = 0;
  for (size_t k = 1; k < g.size(); ++k) {
    Space s = g[k].space;
    g[k].wSos = spaceSize(r, s, corpus) / draws[int(s)];
    total += g[k].wSos;
  }
  double scale = double(g.size() - 1) / total;
  for (size_t k = 1; k < g.size(); ++k) g[k].wSos *= scale;
}

} // namespace

void sampleGroup(const Request &r, int clicked, Strategy s, int corpus, Rng &rng,
                 std::vector<Sample> &out) {
  out.clear();
  out.push_back({clicked, Space::Pos, 1});
  auto add = [&](int item) { out.push_back({item, r.spaceOf(item), 1}); };
  std::vector<int> ab;
  switch (s) {
  case Strategy::A:
    for (int k = 0; k < kNegatives; ++k) add(drawFrom(r.a, rng));
    break;
  case Strategy::AB:
    ab = r.a;
    ab.insert(ab.end(), r.b.begin(), r.b.end());
    for (int k = 0; k < kNegatives; ++k) add(drawFrom(ab, rng));
    break;
  case Strategy::AbcRandom:
    for (int k = 0; k < kNegatives; ++k) add(drawAny(r, corpus, rng));
    break;
  case Strategy::AbcFixed:
    add(drawFrom(r.a, rng));
    for (int k = 0; k < 4; ++k) add(drawFrom(r.b, rng));
    for (int k = 0; k < 20; ++k) add(drawC(r, corpus, rng));
    break;
  }
  setSosWeights(r, corpus, out);
}

} // namespace recc::uma2
