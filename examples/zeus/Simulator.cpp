// examples/zeus/Simulator.cpp: the behaviour stream and the click model.
//
// Click model, per scenario s, for user u shown query q (every weight per scenario):
//   logit = intercept_s + wIntent_s * <u, q>               (the latent intent)
//         + wSession_s * [cat(q) = category of u's latest behaviour]
//         + wQuality_s * quality(q) + wMatch_s * gender match(u, q)
//         + wPrice_s * (0.8 - |power(u) - price(q)|)
// The intent is not a column: a model reads it only through the user's sequences and
// the query's embeddings, and searches reveal it far more often than clicks do.
#include "examples/zeus/Simulator.h"

#include <cmath>
#include <vector>

namespace recc::zeus {

namespace {
constexpr double kSkipFromScenario = 0;   // negatives are judged by Homepage's click model
}

ClickTerms clickTerms(const World &w, const Scenario &s, const User &u, const UserState &st, int q) {
  const Query &x = w.queries[q];
  ClickTerms t;
  t.intercept = s.intercept;
  t.intent = s.wIntent * w.intent(u, x.f);
  t.session = st.lastCat == x.cat ? s.wSession : 0;
  t.quality = s.wQuality * x.quality;
  t.match = s.wMatch * (x.gender < 0 || u.gender == 0 ? 0.0 : x.gender == u.gender ? 1.0 : -1.0);
  t.price = s.wPrice * (0.8 - std::fabs(u.power - x.price));
  return t;
}

Simulator::Simulator(const World &w, uint64_t stream)
    : w_(w), rng_(gen::mix64(w.seed ^ gen::mix64(stream))), states_(w.users.size()),
      scenarioPick_(std::vector<double>(kTable1Share.begin(), kTable1Share.end())) {
  for (int i = 0; i < int(w.users.size()); ++i) {
    const User &u = w.users[i];
    for (int n = int(u.activity * 24); n > 0; --n) {
      if (rng_.chance(0.5)) searchBy(i, w.chooseQuery(u, rng_));
      else {
        int p = w.chooseProduct(u, rng_);
        states_[i].products.push(p), states_[i].lastCat = w.products[p].cat;
      }
    }
  }
}

void Simulator::searchBy(int user, int q) {
  states_[user].queries.push(q);
  states_[user].lastCat = w_.queries[q].cat;
}

int Simulator::exposedUnclicked(int user, int positive, const std::array<int, 1 + kNegatives> &taken,
                                int n) {
  const User &u = w_.users[user];
  const Scenario &home = w_.scenarios[int(kSkipFromScenario)];
  for (;;) {
    int q = w_.exposeQuery(u, home.personalRate, rng_);
    bool dup = q == positive;
    for (int j = 1; j < n; ++j) dup = dup || taken[j] == q;
    if (dup) continue;
    double p = gen::sigmoid(clickTerms(w_, home, u, states_[user], q).logit());
    if (!rng_.chance(p)) return q;   // exposed, and not clicked
  }
}

SearchGroup Simulator::search() {
  SearchGroup g;
  g.user = drawUser();
  g.before = states_[g.user];
  g.candidates[0] = w_.chooseQuery(w_.users[g.user], rng_);
  for (int j = 1; j <= kNegatives; ++j) g.candidates[j] = exposedUnclicked(g.user, g.candidates[0], g.candidates, j);
  searchBy(g.user, g.candidates[0]);
  return g;
}

Impression Simulator::impress(int scenario) {
  Impression m;
  m.user = drawUser(), m.scenario = scenario;
  const User &u = w_.users[m.user];
  const Scenario &s = w_.scenarios[scenario];
  UserState &st = states_[m.user];
  m.before = st;
  m.query = w_.exposeQuery(u, s.personalRate, rng_);
  m.terms = clickTerms(w_, s, u, st, m.query);
  m.click = rng_.chance(gen::sigmoid(m.terms.logit()));
  if (m.click) {
    st.clicked.push(m.query);
    searchBy(m.user, m.query);   // a clicked recommended query joins S_q (spec 2.2)
  } else {
    st.skipped.push(m.query);
  }
  return m;
}

void Simulator::clickProduct() {
  int user = drawUser();
  int p = w_.chooseProduct(w_.users[user], rng_);
  states_[user].products.push(p), states_[user].lastCat = w_.products[p].cat;
}

void calibrate(World &w) {
  constexpr int kRows = 20000;
  for (int s = 0; s < kScenarios; ++s) {
    Simulator sim(w, 0xca1b0000ULL + s);
    std::vector<double> rest(kRows);
    w.scenarios[s].intercept = 0;
    for (int i = 0; i < kRows; ++i) {
      rest[i] = sim.impress(s).terms.logit();
      if (i % 2) sim.clickProduct();
    }
    w.scenarios[s].intercept = gen::bisect(
        [&](double b) {
          double sum = 0;
          for (double r : rest) sum += gen::sigmoid(b + r);
          return sum / kRows;
        },
        w.scenarios[s].ctr);
  }
}

} // namespace recc::zeus
