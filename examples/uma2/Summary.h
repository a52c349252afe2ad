// examples/uma2/Summary.h: what gen_uma2 prints to stderr, so a run shows the planted
// bias: the share of each space per training set, how much more popular and higher-CTR
// the logged spaces A and B are than the corpus (what an equal-weight model learns), and
// the retrieval HitRate@100/200 on the test day of two reference rankings.
#pragma once

#include "examples/uma2/Sampling.h"

#include <cstdio>
#include <map>
#include <vector>

namespace recc::uma2 {

class Summary {
public:
  explicit Summary(const World &w) : w_(w) {}
  void addTrainRequest(const Request &r) { requests_++, clicks_ += long(r.clicked.size()); }
  void addSample(Strategy s, const Sample &x);
  void addTestClick(int user, int item) { testClicks_[user].push_back(item); }
  void print(FILE *f, const Funnel &funnel) const;

private:
  struct SpaceStats {
    long n = 0;
    double logPop = 0, ctr = 0;
  };
  const World &w_;
  long requests_ = 0, clicks_ = 0;
  SpaceStats stats_[kStrategies][4];
  std::map<int, std::vector<int>> testClicks_;
};

} // namespace recc::uma2
