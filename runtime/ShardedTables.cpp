// ShardedTables: see ShardedTables.h. Messages hold, per table in index
// order, a count and then that many ids (a request), rows (an answer), or ids
// and gradients (sendToOwners).
#include "runtime/ShardedTables.h"

#include "runtime/Bytes.h"
#include "runtime/Error.h"

#include <algorithm>
#include <cstring>
#include <string>

namespace recc::rt {

void FetchedRows::fetch(const ModelState& state,
                        const std::vector<std::vector<int64_t>>& idsByTable) {
  const size_t tables = state.tables.size(), ranks = size_t(Cluster::size());
  Ids.assign(tables, {});
  Rows.assign(tables, {});
  Dims.assign(tables, 0);
  // Requests: per owner, per table, the distinct ids it owns.
  std::vector<std::string> requests(ranks);
  std::vector<std::vector<std::vector<size_t>>> asked(ranks, std::vector<std::vector<size_t>>(tables));
  for (size_t t = 0; t < tables; ++t) {
    Dims[t] = state.tables[t].dim();
    std::vector<int64_t>& ids = Ids[t];
    if (t < idsByTable.size())
      for (int64_t id : idsByTable[t])
        if (id >= 0) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
    Rows[t].resize(ids.size() * size_t(Dims[t]));
    for (size_t k = 0; k < ids.size(); ++k) asked[size_t(rowOwner(ids[k]))][t].push_back(k);
  }
  for (size_t s = 0; s < ranks; ++s)
    for (size_t t = 0; t < tables; ++t) {
      putValue(requests[s], int64_t(asked[s][t].size()));
      for (size_t k : asked[s][t]) putValues(requests[s], &Ids[t][k], 1);
    }
  // Answers: the rows each rank asked of this one, from this rank's tables.
  std::vector<std::string> incoming = Cluster::exchange(requests);
  std::vector<std::string> answers(ranks);
  std::vector<int64_t> ids;
  std::vector<float> rows;
  for (size_t r = 0; r < ranks; ++r) {
    ByteReader in(incoming[r], "row requests");
    for (size_t t = 0; t < tables; ++t) {
      ids.resize(size_t(in.get<int64_t>()));
      in.read(ids.data(), ids.size());
      for (int64_t id : ids)
        if (id >= state.tables[t].rows() || rowOwner(id) != Cluster::rank())
          fail("{}: rank {} asked for row {} of table '{}', which this rank does not hold",
               Cluster::where(), r, id, state.tables[t].name());
      rows.resize(ids.size() * size_t(Dims[t]));
      state.tables[t].gather(ids, rows.data());
      putValues(answers[r], rows.data(), rows.size());
    }
  }
  std::vector<std::string> got = Cluster::exchange(answers);
  for (size_t s = 0; s < ranks; ++s) {
    ByteReader in(got[s], "fetched rows");
    for (size_t t = 0; t < tables; ++t)
      for (size_t k : asked[s][t]) in.read(Rows[t].data() + k * size_t(Dims[t]), size_t(Dims[t]));
  }
}

void FetchedRows::gather(int table, std::span<const int64_t> ids, float* out) const {
  const std::vector<int64_t>& have = Ids[size_t(table)];
  const size_t dim = size_t(Dims[size_t(table)]);
  for (size_t i = 0; i < ids.size(); ++i) {
    float* row = out + i * dim;
    if (ids[i] < 0) {
      std::fill_n(row, dim, 0.0f);
      continue;
    }
    auto it = std::lower_bound(have.begin(), have.end(), ids[i]);
    if (it == have.end() || *it != ids[i])
      fail("{}: row {} of table {} was not fetched before the step read it", Cluster::where(),
           ids[i], table);
    std::memcpy(row, Rows[size_t(table)].data() + size_t(it - have.begin()) * dim,
                dim * sizeof(float));
  }
}

OwnedGradients sendToOwners(const ModelState& state, const std::map<int, SummedRows>& local,
                            float scale) {
  const size_t ranks = size_t(Cluster::size());
  std::vector<std::string> out(ranks);
  for (const auto& [table, sums] : local) {
    const size_t dim = size_t(state.tables[size_t(table)].dim());
    std::vector<std::vector<size_t>> owned(ranks);
    for (size_t k = 0; k < sums.ids.size(); ++k) owned[size_t(rowOwner(sums.ids[k]))].push_back(k);
    for (size_t s = 0; s < ranks; ++s) {
      putValue(out[s], int64_t(owned[s].size()));
      for (size_t k : owned[s]) putValues(out[s], &sums.ids[k], 1);
      for (size_t k : owned[s]) putValues(out[s], sums.grads.data() + k * dim, dim);
    }
  }
  OwnedGradients mine;
  std::vector<std::string> in = Cluster::exchange(out);
  for (size_t r = 0; r < ranks; ++r) {
    ByteReader from(in[r], "row gradients");
    for (const auto& [table, sums] : local) {
      const size_t dim = size_t(state.tables[size_t(table)].dim());
      mine.tables.push_back(table);
      mine.ids.emplace_back(size_t(from.get<int64_t>()));
      from.read(mine.ids.back().data(), mine.ids.back().size());
      mine.grads.emplace_back(mine.ids.back().size() * dim);
      from.read(mine.grads.back().data(), mine.grads.back().size());
      for (float& g : mine.grads.back()) g *= scale;
    }
  }
  return mine;
}

std::map<std::string, int64_t> ownedTouchedRows(const ModelPlan& plan, const DataSet& data) {
  const size_t ranks = size_t(Cluster::size());
  std::map<std::string, std::vector<int64_t>> ids;  // per table, this rank's distinct ids
  for (const TableSpec& t : plan.tables) ids[t.name];
  for (size_t f = 0; f < plan.features.size(); ++f)
    if (plan.features[f].kind != FeatureSpec::Kind::Dense)
      for (int64_t id : data.ids(int(f)))
        if (id >= 0) ids[plan.features[f].table].push_back(id);
  std::vector<std::string> out(ranks);
  for (auto& [table, v] : ids) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
    std::vector<std::vector<int64_t>> owned(ranks);
    for (int64_t id : v) owned[size_t(rowOwner(id))].push_back(id);
    for (size_t s = 0; s < ranks; ++s) putCounted(out[s], std::span<const int64_t>(owned[s]));
    std::vector<int64_t>().swap(v);
  }
  // Each table's ids from every rank, in the map's (name) order.
  std::map<std::string, std::vector<int64_t>> mine;
  for (const std::string& from : Cluster::exchange(out)) {
    ByteReader in(from, "touched ids");
    for (auto& [table, unused] : ids) in.appendCounted(mine[table]);
  }
  std::map<std::string, int64_t> counts;
  for (auto& [table, v] : mine) {
    std::sort(v.begin(), v.end());
    counts[table] = int64_t(std::unique(v.begin(), v.end()) - v.begin());
  }
  return counts;
}

} // namespace recc::rt
