// examples/zeus/RowFormat.cpp: writing rows.
#include "examples/zeus/RowFormat.h"

namespace recc::zeus {

namespace {

using gen::CsvBuffer;

const char *kContext = "sq_id,sq_ws,sq_cat,sc_id,sc_ws,sc_cat,sc_brand";
const char *kProfile = "age,gender,q_ctr,q_clicks,power,match";

template <class Item> void putWords(CsvBuffer &csv, const Item &it, char sep) {
  for (int j = 0; j < it.nWords; ++j) {
    if (j) csv.sep(sep);
    csv.put(World::wordId(it.words[j]));
  }
}

/// A '|'-list of one field of the elements of `r`.
template <class F> void putList(CsvBuffer &csv, const Recent &r, F field) {
  for (int i = 0; i < r.n; ++i) {
    if (i) csv.sep('|');
    field(r.ids[i]);
  }
  csv.sep(',');
}

void putContext(CsvBuffer &csv, const World &w, const UserState &st) {
  putList(csv, st.queries, [&](int q) { csv.put(World::queryId(q)); });
  putList(csv, st.queries, [&](int q) { putWords(csv, w.queries[q], ';'); });
  putList(csv, st.queries, [&](int q) { csv.put(w.queries[q].cat); });
  putList(csv, st.products, [&](int p) { csv.put(World::productId(p)); });
  putList(csv, st.products, [&](int p) { putWords(csv, w.products[p], ';'); });
  putList(csv, st.products, [&](int p) { csv.put(w.products[p].cat); });
  putList(csv, st.products, [&](int p) { csv.put(w.products[p].brand); });
}

double genderMatch(const User &u, const Query &q) {
  return q.gender < 0 || u.gender == 0 ? 0.0 : q.gender == u.gender ? 1.0 : -1.0;
}

void putProfile(CsvBuffer &csv, const User &u, double ctr, double clicks, double match) {
  csv.put(u.age), csv.sep(','), csv.put(u.gender), csv.sep(',');
  csv.put(ctr), csv.sep(','), csv.put(clicks), csv.sep(',');
  csv.put(double(u.power)), csv.sep(','), csv.put(match), csv.sep(',');
}

void putTarget(CsvBuffer &csv, const World &w, int q) {
  csv.put(World::queryId(q)), csv.sep(',');
  putWords(csv, w.queries[q], '|'), csv.sep(',');
  csv.put(w.queries[q].cat), csv.sep(',');
}

} // namespace

std::string clickHeader() {
  return std::string("scenario,tq_id,tq_ws,tq_cat,") + kContext +
         ",pos_id,pos_cat,neg_id,neg_cat," + kProfile + ",click\n";
}

std::string pretrainHeader() {
  return std::string("scenario,tq_id,tq_ws,tq_cat,") + kContext + "," + kProfile + ",searched\n";
}

void formatClick(CsvBuffer &csv, const World &w, const Impression &m) {
  const User &u = w.users[m.user];
  const Query &q = w.queries[m.query];
  csv.put(m.scenario + 1), csv.sep(',');
  putTarget(csv, w, m.query);
  putContext(csv, w, m.before);
  putList(csv, m.before.clicked, [&](int x) { csv.put(World::queryId(x)); });
  putList(csv, m.before.clicked, [&](int x) { csv.put(w.queries[x].cat); });
  putList(csv, m.before.skipped, [&](int x) { csv.put(World::queryId(x)); });
  putList(csv, m.before.skipped, [&](int x) { csv.put(w.queries[x].cat); });
  putProfile(csv, u, q.ctr, q.logPop, genderMatch(u, q));
  csv.put(int(m.click)), csv.sep('\n');
}

void formatSearchRows(CsvBuffer &csv, const World &w, const SearchGroup &g) {
  const User &u = w.users[g.user];
  for (int j = 0; j <= kNegatives; ++j) {
    const Query &q = w.queries[g.candidates[j]];
    csv.put(kSearchScenario), csv.sep(',');
    putTarget(csv, w, g.candidates[j]);
    putContext(csv, w, g.before);
    putProfile(csv, u, q.ctr, q.logPop, genderMatch(u, q));
    csv.put(int(j == 0)), csv.sep('\n');
  }
}

void formatSearchGroup(CsvBuffer &csv, const World &w, const SearchGroup &g) {
  const User &u = w.users[g.user];
  double ctr = 0, clicks = 0, match = 0;
  csv.put(kSearchScenario), csv.sep(',');
  for (int j = 0; j <= kNegatives; ++j) {
    const Query &q = w.queries[g.candidates[j]];
    if (j) csv.sep('|');
    csv.put(World::queryId(g.candidates[j]));
    ctr += q.ctr, clicks += q.logPop, match += genderMatch(u, q);
  }
  csv.sep(',');
  for (int j = 0; j <= kNegatives; ++j) {
    if (j) csv.sep('|');
    putWords(csv, w.queries[g.candidates[j]], ';');
  }
  csv.sep(',');
  for (int j = 0; j <= kNegatives; ++j) {
    if (j) csv.sep('|');
    csv.put(w.queries[g.candidates[j]].cat);
  }
  csv.sep(',');
  putContext(csv, w, g.before);
  const double n = 1 + kNegatives;
  putProfile(csv, u, ctr / n, clicks / n, match / n);
  csv.put(1), csv.sep('\n');
}

} // namespace recc::zeus
