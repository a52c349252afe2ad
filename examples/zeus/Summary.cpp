// examples/zeus/Summary.cpp: accumulating and printing the run summary.
#include "examples/zeus/Summary.h"

#include "examples/common/Auc.h"

#include <algorithm>

namespace recc::zeus {

using gen::rocAuc;

Summary::Summary(const World &w)
    : w_(w), searchedTimes_(w.queries.size()), clickTimes_(w.queries.size()),
      queryTouched_(w.queries.size()), productTouched_(w.products.size()) {}

void Summary::touch(const UserState &st) {
  for (int i = 0; i < st.queries.n; ++i) queryTouched_[st.queries.ids[i]] = 1;
  for (int i = 0; i < st.clicked.n; ++i) queryTouched_[st.clicked.ids[i]] = 1;
  for (int i = 0; i < st.skipped.n; ++i) queryTouched_[st.skipped.ids[i]] = 1;
  for (int i = 0; i < st.products.n; ++i) productTouched_[st.products.ids[i]] = 1;
}

void Summary::addSearch(const SearchGroup &g) {
  ++groups_;
  touch(g.before);
  for (int j = 0; j <= kNegatives; ++j) {
    queryTouched_[g.candidates[j]] = 1;
    ++searchedTimes_[g.candidates[j]];
    searchIntent_.push_back(float(w_.intent(w_.users[g.user], w_.queries[g.candidates[j]].f)));
    searchLabel_.push_back(j == 0);
  }
}

void Summary::addTrain(const Impression &m) {
  ++rows_[0][m.scenario], clicks_[0][m.scenario] += m.click;
  ++clickTimes_[m.query];
  queryTouched_[m.query] = 1;
  touch(m.before);
}

void Summary::addTest(const Impression &m) {
  ++rows_[1][m.scenario], clicks_[1][m.scenario] += m.click;
  queryTouched_[m.query] = 1;
  touch(m.before);
  const ClickTerms &t = m.terms;
  test_[m.scenario][kTruth].push_back(float(t.logit()));
  test_[m.scenario][kNoIntent].push_back(float(t.logit() - t.intent));
  test_[m.scenario][kNoSession].push_back(float(t.logit() - t.session));
  testLabel_[m.scenario].push_back(m.click);
  testQueries_.push_back(m.query);
}

void Summary::print(FILE *f) const {
  printScenarios(f);
  printOracle(f);
  printCoverage(f);
  long long q = std::count(queryTouched_.begin(), queryTouched_.end(), 1);
  long long p = std::count(productTouched_.begin(), productTouched_.end(), 1);
  std::fprintf(f, "distinct ids in the files: %lld queries, %lld products (of 10^8 each)\n", q, p);
}

void Summary::printScenarios(FILE *f) const {
  long long total = 0;
  for (int s = 0; s < kScenarios; ++s) total += rows_[0][s];
  std::fprintf(f, "search groups: %lld (%lld pre-training rows)\n", groups_, groups_ * (1 + kNegatives));
  std::fprintf(f, "scenario  train rows  share (Table 1)   CTR (Table 1)   test rows  test CTR\n");
  for (int s = 0; s < kScenarios; ++s)
    std::fprintf(f, "%8d  %10lld  %5.3f (%5.3f)   %5.3f (%5.3f)   %9lld  %7.3f\n", s + 1, rows_[0][s],
                 total ? double(rows_[0][s]) / total : 0.0, kTable1Share[s],
                 rows_[0][s] ? double(clicks_[0][s]) / rows_[0][s] : 0.0, kTable1Ctr[s], rows_[1][s],
                 rows_[1][s] ? double(clicks_[1][s]) / rows_[1][s] : 0.0);
}

void Summary::printOracle(FILE *f) const {
  std::fprintf(f, "oracle test AUC by scenario (the click model's own logit): full / without the "
                  "latent intent / without the session term\n");
  for (int s = 0; s < kScenarios; ++s)
    std::fprintf(f, "  scenario %d: %.4f / %.4f / %.4f\n", s + 1, rocAuc(test_[s][kTruth], testLabel_[s]),
                 rocAuc(test_[s][kNoIntent], testLabel_[s]), rocAuc(test_[s][kNoSession], testLabel_[s]));
  std::fprintf(f, "searched vs exposed-unclicked, AUC of the latent intent alone: %.4f\n",
               rocAuc(searchIntent_, searchLabel_));
}

void Summary::printCoverage(FILE *f) const {
  long long seen[2] = {};
  for (int q : testQueries_) seen[0] += clickTimes_[q] >= 5, seen[1] += searchedTimes_[q] >= 5;
  double n = std::max<size_t>(testQueries_.size(), 1);
  std::fprintf(f, "test impressions whose query was a training click target >= 5 times: %.1f%%; "
                  "a pre-training candidate >= 5 times: %.1f%%\n",
               100 * seen[0] / n, 100 * seen[1] / n);
}

} // namespace recc::zeus
