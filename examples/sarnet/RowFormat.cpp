// examples/sarnet/RowFormat.cpp: writing one impression as a CSV row.
#include "examples/sarnet/RowFormat.h"

namespace recc::sarnet {

std::string_view csvHeader(bool withFc) {
  return withFc ? "scenario,scn_id,scn_type,scn_time,user_id,country,item_id,category,dest,"
                  "item_score,seq_item,seq_cat,seq_dest,seq_scn,seq_type,seq_time,user_x_cat,"
                  "promoted,fc,click\n"
                : "scenario,scn_id,scn_type,scn_time,user_id,country,item_id,category,dest,"
                  "item_score,seq_item,seq_cat,seq_dest,seq_scn,seq_type,seq_time,user_x_cat,"
                  "promoted,click\n";
}

int userCrossCategory(int user, int category) {
  return int(gen::mix64(uint64_t(user) * 5003 + uint64_t(category)) % kCrossVocab);
}

namespace {

/// One '|'-separated list column: field(b) of every behaviour.
template <class Field>
void putList(gen::CsvBuffer &csv, std::span<const Behaviour> seq, Field field) {
  for (size_t k = 0; k < seq.size(); ++k) {
    if (k) csv.sep('|');
    csv.put(field(seq[k]));
  }
  csv.sep(',');
}

} // namespace

void formatRow(gen::CsvBuffer &csv, const World &w, const Impression &m, std::optional<double> fc) {
  const Request &r = m.req;
  const Item &it = w.items[r.item];
  const User &u = w.users[r.user];
  for (int v : {r.scenario, r.scnId, w.scenarios[r.scenario].type, 0, r.user, u.country, r.item,
                it.category, it.dest})
    csv.put(v), csv.sep(',');
  csv.put(double(it.score)), csv.sep(',');
  putList(csv, r.seq, [&](const Behaviour &b) { return b.item; });
  putList(csv, r.seq, [&](const Behaviour &b) { return w.items[b.item].category; });
  putList(csv, r.seq, [&](const Behaviour &b) { return w.items[b.item].dest; });
  putList(csv, r.seq, [&](const Behaviour &b) { return b.scnId; });
  putList(csv, r.seq, [&](const Behaviour &b) { return w.typeOfContext(b.scnId); });
  putList(csv, r.seq, [&](const Behaviour &b) { return timeBucket(r.hours - b.hours); });
  csv.put(userCrossCategory(r.user, it.category)), csv.sep(',');
  csv.put(int(r.promoted)), csv.sep(',');
  if (fc) csv.put(*fc), csv.sep(',');
  csv.put(m.click), csv.sep('\n');
}

} // namespace recc::sarnet
