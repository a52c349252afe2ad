// examples/sarnet/Summary.cpp: accumulating and printing the run summary.
#include "examples/sarnet/Summary.h"

#include "examples/sarnet/Fairness.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <numeric>

namespace recc::sarnet {

Summary::Summary(const World &w) : w_(w), visited_(kUsers, 0) {
  for (const Scenario &s : w.scenarios) {
    pooled_.wQuality += s.wQuality / kScenarios, pooled_.wCountry += s.wCountry / kScenarios;
    pooled_.wFactor += s.wFactor / kScenarios, pooled_.wInterest += s.wInterest / kScenarios;
  }
}

int Summary::matchClass(const World &w, const Request &r) {
  const Item &target = w.items[r.item];
  const int type = w.scenarios[r.scenario].type;
  int cls = 2;
  for (const Behaviour &b : r.seq) {
    if (b.category != target.category && b.dest != target.dest) continue;
    bool sameScenario = b.scnId < kScenarios * kSubPages && b.scnId / kSubPages == r.scenario;
    if (sameScenario || w.typeOfContext(b.scnId) == type) return 0;
    cls = 1;
  }
  return cls;
}

void Summary::addRow(const Impression &m, int file) {
  const Request &r = m.req;
  PerScenario &s = sc_[r.scenario];
  s.rows[file]++, s.clicks[file] += m.click, s.promoted[file] += r.promoted;
  int cls = matchClass(w_, r);
  s.matchRows[cls]++, s.matchClicks[cls] += m.click;
  const Item &it = w_.items[r.item];
  int high = it.score >= 0.05, home = w_.destCountry[it.dest] == w_.users[r.user].country;
  s.scoreRows[high]++, s.scoreClicks[high] += m.click;
  s.homeRows[home]++, s.homeClicks[home] += m.click;
  uint32_t &seen = visited_[r.user];
  if (!seen)  // first request: its behaviours are the user's pre-window month
    for (const Behaviour &b : r.seq)
      if (b.scnId < kScenarios * kSubPages) seen |= 1u << (b.scnId / kSubPages);
  seen |= 1u << r.scenario;
}

void Summary::addTrain(const Impression &m, double fc, bool lowPv) {
  addRow(m, 0);
  if (m.req.promoted) promotedRows_++, promotedClicks_ += m.click, promotedTruth_ += m.p.truth;
  int g = m.req.promoted;
  fcSum_[g] += fc, fcLogSq_[g] += std::log(fc) * std::log(fc), fcRows_[g]++;
  fcClipped_ += fc == FairnessTable::kMin || fc == FairnessTable::kMax;
  fcDefault_ += lowPv;
}

void Summary::addTest(const Impression &m) {
  addRow(m, 1);
  labels_.push_back(uint8_t(m.click));
  scores_[kTruth].push_back(float(m.p.truth));
  scores_[kLogged].push_back(float(m.p.logged));
  scores_[kPooled].push_back(float(clickLogit(w_, m.req, {.pooledWeights = &pooled_})));
  scores_[kNoRelatedness].push_back(float(clickLogit(w_, m.req, {.relatedness = false})));
  scores_[kNoBehaviours].push_back(float(clickLogit(w_, m.req, {.behaviours = false})));
}

namespace {
double pct(double a, double b) { return b > 0 ? 100.0 * a / b : 0.0; }
} // namespace

void Summary::printScenarios(FILE *f) const {
  long long rows[2] = {};
  for (const PerScenario &s : sc_) rows[0] += s.rows[0], rows[1] += s.rows[1];
  std::fprintf(f, "  scen  share%% (T1)      CTR%% train (T1)  CTR%% test  promoted%%  "
                  "| CTR%% by behaviours: related match / other match / none (rows%%)\n");
  for (int k = 0; k < kScenarios; ++k) {
    const PerScenario &s = sc_[k];
    long long all = s.rows[0] + s.rows[1];
    std::fprintf(f, "  #%-3d %6.2f (%5.2f)   %5.2f (%5.2f)    %5.2f     %5.1f     | ", k + 1,
                 pct(s.rows[0], rows[0]), 100 * kTable1Share[k], pct(s.clicks[0], s.rows[0]),
                 100 * kTable1Ctr[k], pct(s.clicks[1], s.rows[1]), pct(s.promoted[0], s.rows[0]));
    for (int c = 0; c < 3; ++c)
      std::fprintf(f, "%5.2f (%2.0f) ", pct(s.matchClicks[c], s.matchRows[c]),
                   pct(s.matchRows[c], all));
    std::fputc('\n', f);
  }
  std::fprintf(f, "  per-scenario feature effects, CTR ratio: item_score >= 0.05 vs below | "
                  "destination in the user's country vs abroad\n ");
  auto lift = [](const long long *clicks, const long long *rows) {
    double lo = rows[0] ? double(clicks[0]) / rows[0] : 0, hi = rows[1] ? double(clicks[1]) / rows[1] : 0;
    return lo > 0 ? hi / lo : 0.0;
  };
  for (int k = 0; k < kScenarios; ++k)
    std::fprintf(f, " #%d %.2f|%.2f", k + 1, lift(sc_[k].scoreClicks, sc_[k].scoreRows),
                 lift(sc_[k].homeClicks, sc_[k].homeRows));
  std::fputc('\n', f);
  long long m[3] = {}, c[3] = {};
  for (const PerScenario &s : sc_)
    for (int k = 0; k < 3; ++k) m[k] += s.matchRows[k], c[k] += s.matchClicks[k];
  std::fprintf(f, "  all rows, CTR%% by behaviours: related match %.2f (%.0f%% of rows), other "
                  "match %.2f (%.0f%%), none %.2f (%.0f%%)\n",
               pct(c[0], m[0]), pct(m[0], m[0] + m[1] + m[2]), pct(c[1], m[1]),
               pct(m[1], m[0] + m[1] + m[2]), pct(c[2], m[2]), pct(m[2], m[0] + m[1] + m[2]));
}

void Summary::printBias(FILE *f) const {
  long long trainRows = 0;
  for (const PerScenario &s : sc_) trainRows += s.rows[0];
  std::fprintf(f, "  promoted: %.2f%% of training rows; their logged CTR %.2f%% vs true "
                  "preference %.2f%%\n",
               pct(promotedRows_, trainRows), pct(promotedClicks_, promotedRows_),
               pct(promotedTruth_, promotedRows_));
  auto stats = [&](int g) {
    double mean = fcRows_[g] ? fcSum_[g] / fcRows_[g] : 0;
    double rms = fcRows_[g] ? std::sqrt(fcLogSq_[g] / fcRows_[g]) : 0;
    std::fprintf(f, "mean %.3f, rms log %.3f", mean, rms);
  };
  std::fprintf(f, "  fc on promoted rows: ");
  stats(1);
  std::fprintf(f, "; on organic rows: ");
  stats(0);
  std::fprintf(f, "\n  fc = 1 for PV < 10: %lld rows (%.1f%%); clipped to [0.1, 10]: %lld rows\n",
               fcDefault_, pct(fcDefault_, trainRows), fcClipped_);
}

void Summary::printUsers(FILE *f) const {
  double world[6] = {}, files[6] = {}, nWorld = 0, nFiles = 0;
  auto bin = [](int nos) {
    int b = 0;
    while (b < 5 && nos > kNosBinHi[b]) ++b;
    return b;
  };
  for (int u = 0; u < kUsers; ++u) {
    world[bin(w_.users[u].nos)]++, nWorld++;
    if (visited_[u]) files[bin(std::popcount(visited_[u]))]++, nFiles++;
  }
  std::fprintf(f, "  users by scenarios visited   <2     2~4    4~6    6~8    8~10   >10\n");
  auto row = [&](const char *name, const double *v, double n) {
    std::fprintf(f, "  %-27s", name);
    for (int b = 0; b < 6; ++b) std::fprintf(f, " %5.1f%%", pct(v[b], n));
    std::fputc('\n', f);
  };
  double table2[6];
  for (int b = 0; b < 6; ++b) table2[b] = kTable2Share[b];
  row("paper Table 2", table2, 1.0);
  row("world (all users)", world, nWorld);
  std::fprintf(f, "  in the files (%6.0f users)", nFiles);
  for (int b = 0; b < 6; ++b) std::fprintf(f, " %5.1f%%", pct(files[b], nFiles));
  std::fputc('\n', f);
}

void Summary::printOracle(FILE *f) const {
  if (labels_.empty()) return;
  std::fprintf(f, "  oracle test AUC (click model's own scores): true %.4f | no debias (logged "
                  "P) %.4f | pooled scenario weights %.4f | no scenario relatedness %.4f | "
                  "no behaviours %.4f\n",
               rocAuc(scores_[kTruth], labels_), rocAuc(scores_[kLogged], labels_),
               rocAuc(scores_[kPooled], labels_), rocAuc(scores_[kNoRelatedness], labels_),
               rocAuc(scores_[kNoBehaviours], labels_));
}

void Summary::print(FILE *f) const {
  printScenarios(f);
  printBias(f);
  printUsers(f);
  printOracle(f);
}

} // namespace recc::sarnet
