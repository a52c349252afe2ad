// examples/sarnet/Simulator.cpp: drawing impressions and calibrating intercepts.
#include "examples/sarnet/Simulator.h"

#include <algorithm>

namespace recc::sarnet {

namespace {

/// Picks the impression's item (and whether it was promoted) as Simulator.h describes.
void drawItem(const World &w, Request &r, Rng &rng) {
  const Scenario &sc = w.scenarios[r.scenario];
  r.promoted = rng.chance(sc.promoteRate);
  if (r.promoted) {
    r.item = sc.promoted[rng.below(int(sc.promoted.size()))];
  } else if (!r.seq.empty() && rng.chance(sc.personalRate)) {
    const Item &seen = w.items[r.seq[rng.below(std::min<int>(20, int(r.seq.size())))].item];
    r.item = rng.chance(0.7) ? w.sampleFrom(w.catItems, w.catIds, seen.category, rng)
                             : w.sampleFrom(w.destItems, w.destIds, seen.dest, rng);
  } else {
    r.item = w.sampleFrom(w.themeItems, w.themeIds, sc.themes.sample(rng), rng);
  }
}

void drawContext(const World &w, Request &r, Rng &rng) {
  r.scnId = r.scenario * kSubPages + rng.below(w.scenarios[r.scenario].subPages);
  r.user = w.sampleFrom(w.usersOf, w.usersOfIds, r.scenario, rng);
}

} // namespace

void calibrate(World &w, PreWindowHistories &pre) {
  constexpr int kPerScenario = 3000;
  for (int s = 0; s < kScenarios; ++s) {
    Scenario &sc = w.scenarios[s];
    sc.intercept = 0;
    Rng rng(gen::mix64(w.seed ^ (0xca11b4a7eULL + uint64_t(s))));
    std::vector<double> z(kPerScenario), kappa(kPerScenario);
    for (int k = 0; k < kPerScenario; ++k) {
      Request r;
      r.scenario = s;
      drawContext(w, r, rng);
      std::vector<Behaviour> seq = pre.of(r.user);
      std::reverse(seq.begin(), seq.end());  // most recent first
      r.seq = seq, r.hours = kWindowHours * rng.uniform();
      drawItem(w, r, rng);
      z[k] = clickLogit(w, r), kappa[k] = r.promoted ? sc.promotedClickRate : 1.0;
    }
    sc.intercept = gen::bisect(
        [&](double a) {
          double sum = 0;
          for (int k = 0; k < kPerScenario; ++k) sum += kappa[k] * gen::sigmoid(a + z[k]);
          return sum / kPerScenario;
        },
        sc.ctr);
  }
}

Simulator::Simulator(const World &w, PreWindowHistories &pre, long long totalRows)
    : world_(w), rng_(gen::mix64(w.seed ^ 0x10651e5ULL)), histories_(pre), total_(totalRows) {}

const Impression &Simulator::next(bool trueLabels) {
  Request &r = cur_.req;
  r.scenario = world_.scenarioOfRequest.sample(rng_);
  drawContext(world_, r, rng_);
  r.hours = kWindowHours * (double(k_++) + rng_.uniform()) / double(total_);
  int n = histories_.recent(r.user, cur_.seq);
  r.seq = std::span<const Behaviour>(cur_.seq.data(), n);
  drawItem(world_, r, rng_);
  cur_.p = clickProbability(world_, r);
  cur_.click = rng_.uniform() < (trueLabels ? cur_.p.truth : cur_.p.logged);
  if (cur_.click) histories_.push(r.user, {r.item, r.scnId, float(r.hours)});
  return cur_;
}

} // namespace recc::sarnet
