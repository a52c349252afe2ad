// examples/uma2/Rows.cpp: formatting one row of each file.
#include "examples/uma2/Rows.h"

namespace recc::uma2 {

namespace {

void putUserAndItem(gen::CsvBuffer &csv, const World &w, int user, int item) {
  const User &u = w.user(user);
  csv.put(user), csv.sep(','), csv.put(u.gender), csv.sep(','), csv.put(u.age), csv.sep(',');
  for (size_t t = 0; t < u.hist.size(); ++t) {
    if (t) csv.sep('|');
    csv.put(u.hist[t]);
  }
  csv.sep(',');
  putCorpusRow(csv, w, item);
}

} // namespace

void putCorpusRow(gen::CsvBuffer &csv, const World &w, int item) {
  csv.put(item), csv.sep(','), csv.put(w.item(item).cate), csv.sep(',');
  csv.put(w.item(item).ctr);
}

void putTrainRow(gen::CsvBuffer &csv, const World &w, int user, const Sample &s) {
  putUserAndItem(csv, w, user, s.item);
  const int sp = int(s.space);
  const int flags[7] = {sp == 0, sp == 0, sp == 1, sp == 2, sp == 3, sp <= 2, sp <= 1};
  for (int f : flags) csv.sep(','), csv.put(f);
  csv.sep(','), csv.put(s.wSos), csv.sep('\n');
}

void putTestRow(gen::CsvBuffer &csv, const World &w, int user, int item) {
  putTrainRow(csv, w, user, Sample{item, Space::Pos, 1});
}

} // namespace recc::uma2
