// examples/zeus/Summary.h: what gen_zeus prints to stderr once the files are written:
// per-scenario shares and CTRs against the paper's Table 1, oracle test AUCs of the click
// model with one planted term removed at a time, how well the latent intent separates
// searched queries from their exposed-unclicked negatives, how much more often a query is
// seen in searches than in clicks, and how many distinct ids the files touch.
#pragma once

#include "examples/zeus/Simulator.h"

#include <cstdio>
#include <vector>

namespace recc::zeus {

class Summary {
public:
  explicit Summary(const World &w);
  void addSearch(const SearchGroup &g);
  void addTrain(const Impression &m);
  void addTest(const Impression &m);
  void print(FILE *f) const;

private:
  void touch(const UserState &st);
  void printScenarios(FILE *f) const;
  void printOracle(FILE *f) const;
  void printCoverage(FILE *f) const;

  const World &w_;
  long long groups_ = 0, rows_[2][kScenarios] = {}, clicks_[2][kScenarios] = {};
  std::vector<float> searchIntent_;
  std::vector<uint8_t> searchLabel_;
  enum { kTruth, kNoIntent, kNoSession, kVariants };
  std::vector<float> test_[kScenarios][kVariants];
  std::vector<uint8_t> testLabel_[kScenarios];
  std::vector<int> searchedTimes_, clickTimes_;   // per query: a search candidate, a click target
  std::vector<int> testQueries_;
  std::vector<uint8_t> queryTouched_, productTouched_;
};

} // namespace recc::zeus
