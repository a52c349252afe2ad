// ShardedData: see ShardedData.h. Packed rows are column by column: each
// feature's values (dense floats, or `width` ids per row), then each label
// (a presence byte, then floats), then with groups each group column (a
// presence byte, then per row its text, length first).
#include "runtime/ShardedData.h"

#include "runtime/Bytes.h"
#include "runtime/Cluster.h"
#include "runtime/Error.h"
#include "runtime/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <unordered_map>

namespace recc::rt {
namespace {

std::string groupText(const DataSet& data, const std::string& column, int64_t row) {
  const int64_t id = data.groups(column)[size_t(row)];
  std::span<const std::string> names = data.groupNames(column);
  return id < int64_t(names.size()) ? names[size_t(id)] : std::to_string(id);
}

} // namespace

ShardLayout::ShardLayout(int64_t localRows) : First{0} {
  for (int64_t n : allGatherValue(localRows)) First.push_back(First.back() + n);
}

int ShardLayout::owner(int64_t g) const {
  auto it = std::upper_bound(First.begin(), First.end() - 1, g);
  return int(it - First.begin()) - 1;
}

std::vector<std::string> rankFiles(const std::vector<std::string>& files) {
  const size_t ranks = size_t(Cluster::size()), rank = size_t(Cluster::rank());
  return {files.begin() + std::ptrdiff_t(files.size() * rank / ranks),
          files.begin() + std::ptrdiff_t(files.size() * (rank + 1) / ranks)};
}

void packRows(const ModelPlan& plan, const DataSet& data, std::span<const int64_t> rows,
              bool groups, std::string& out) {
  for (size_t f = 0; f < plan.features.size(); ++f) {
    const int fi = int(f);
    if (plan.features[f].kind == FeatureSpec::Kind::Dense) {
      for (int64_t r : rows) putValue(out, data.dense(fi)[size_t(r)]);
      continue;
    }
    const int64_t w = data.width(fi);
    for (int64_t r : rows) putValues(out, data.ids(fi).data() + r * w, size_t(w));
  }
  for (size_t l = 0; l < plan.labels.size(); ++l) {
    const bool has = data.hasLabel(int(l)) && data.rows() > 0;
    putValue(out, char(has));
    if (has)
      for (int64_t r : rows) putValue(out, data.label(int(l))[size_t(r)]);
  }
  if (!groups)
    return;
  for (const std::string& column : groupColumns(plan)) {
    const bool has = data.hasGroups(column);
    putValue(out, char(has));
    if (has)
      for (int64_t r : rows) {
        const std::string text = groupText(data, column, r);
        putValue(out, uint32_t(text.size()));
        out += text;
      }
  }
}

size_t unpackRows(const ModelPlan& plan, std::string_view bytes, DataSet& into,
                  std::span<const int64_t> at, bool groups) {
  ByteReader in(bytes, "packed rows");
  for (size_t f = 0; f < plan.features.size(); ++f) {
    const int fi = int(f);
    if (plan.features[f].kind == FeatureSpec::Kind::Dense) {
      for (int64_t r : at) into.dense(fi)[size_t(r)] = in.get<float>();
      continue;
    }
    const int64_t w = into.width(fi);
    for (int64_t r : at) in.read(into.ids(fi).data() + r * w, size_t(w));
  }
  for (size_t l = 0; l < plan.labels.size(); ++l) {
    if (!in.get<char>())
      continue;
    if (!into.hasLabel(int(l)))
      into.addLabelColumn(int(l));
    for (int64_t r : at) into.label(int(l))[size_t(r)] = in.get<float>();
  }
  if (!groups)
    return in.position();
  for (const std::string& column : groupColumns(plan)) {
    if (!in.get<char>())
      continue;
    std::vector<int64_t>& ids = into.groupsMut(column);
    ids.resize(size_t(into.rows()), 0);
    std::vector<std::string>& names = into.groupNamesMut(column);
    std::unordered_map<std::string, int64_t> index;
    for (size_t k = 0; k < names.size(); ++k) index.emplace(names[k], int64_t(k));
    for (int64_t r : at) {
      const uint32_t n = in.get<uint32_t>();
      std::string text(in.take(n), n);
      auto [it, added] = index.emplace(text, int64_t(names.size()));
      if (added)
        names.push_back(std::move(text));
      ids[size_t(r)] = it->second;
    }
  }
  return in.position();
}

void gatherStepRows(const ModelPlan& plan, const ShardLayout& layout, const DataSet& shard,
                    std::span<const int64_t> batch, DataSet& step) {
  const int ranks = Cluster::size(), me = Cluster::rank();
  const int64_t slice = step.rows();
  if (int64_t(batch.size()) != slice * ranks)
    fail("{}: a global batch of {} rows for {} ranks of {} rows", Cluster::where(),
         batch.size(), ranks, slice);
  // Rows go in batch order, so each receiver knows which rows come from whom.
  const size_t n = static_cast<size_t>(ranks);
  std::vector<std::vector<int64_t>> sendRows(n);
  const int64_t first = layout.firstRow(me);
  for (size_t j = 0; j < batch.size(); ++j)
    if (layout.owner(batch[j]) == me)
      sendRows[j / size_t(slice)].push_back(batch[j] - first);
  std::vector<std::string> out(n);
  for (int s = 0; s < ranks; ++s)
    packRows(plan, shard, sendRows[size_t(s)], false, out[size_t(s)]);
  std::vector<std::string> in = Cluster::exchange(out);
  std::vector<std::vector<int64_t>> at(n);
  for (int64_t j = 0; j < slice; ++j)
    at[size_t(layout.owner(batch[size_t(me * slice + j)]))].push_back(j);
  for (int r = 0; r < ranks; ++r)
    if (unpackRows(plan, in[size_t(r)], step, at[size_t(r)], false) != in[size_t(r)].size())
      fail("{}: rank {} sent rows this rank did not expect", Cluster::where(), r);
}

std::vector<FeatureStats> globalFeatureStats(const ModelPlan& plan, const DataSet& shard) {
  return combineFeatureStats(computeFeatureStats(plan, shard), shard.rows());
}

std::vector<FeatureStats> combineFeatureStats(const std::vector<FeatureStats>& local,
                                              int64_t rows) {
  // Per feature: rows, mean, sum of squared deviations (the last from stddev).
  std::string mine;
  for (const FeatureStats& s : local) {
    const double n = double(rows);
    putValue(mine, s.ready ? n : 0.0);
    putValue(mine, s.mean);
    putValue(mine, s.stddev * s.stddev * n);
  }
  std::vector<FeatureStats> out = local;
  std::vector<double> n(local.size(), 0), mean(local.size(), 0), m2(local.size(), 0);
  for (const std::string& rank : Cluster::allGather(mine)) {
    ByteReader in(rank, "feature statistics");
    for (size_t f = 0; f < local.size(); ++f) {
      const double nb = in.get<double>(), meanb = in.get<double>(), m2b = in.get<double>();
      if (nb == 0)
        continue;
      // Chan et al.'s pairwise update, applied in rank order.
      const double total = n[f] + nb, delta = meanb - mean[f];
      mean[f] += delta * nb / total;
      m2[f] += m2b + delta * delta * n[f] * nb / total;
      n[f] = total;
    }
  }
  for (size_t f = 0; f < local.size(); ++f)
    if (n[f] > 0)
      out[f] = {mean[f], std::sqrt(m2[f] / n[f]), true};
  return out;
}

DataFingerprint shardedFingerprint(const ModelPlan& plan, const DataSet& shard) {
  const ShardLayout layout(shard.rows());
  const DataFingerprint mine = rowFingerprint(plan, shard, layout.firstRow(Cluster::rank()));
  DataFingerprint all{layout.globalRows(), 0};
  for (uint64_t part : allGatherValue(mine.hash)) all.hash += part;
  return all;
}

DataFingerprint rankedFingerprint(const DataFingerprint& mine) {
  DataFingerprint all{0, 0};
  uint64_t rank = 0;
  for (const DataFingerprint& part : allGatherValue(mine)) {
    all.rows += part.rows;
    all.hash += combine(part.hash, ++rank);
  }
  return all;
}

DataSet gatherAll(const ModelPlan& plan, const DataSet& shard) {
  std::vector<int64_t> rows(size_t(shard.rows()));
  for (size_t r = 0; r < rows.size(); ++r) rows[r] = int64_t(r);
  std::string mine;
  packRows(plan, shard, rows, true, mine);
  const ShardLayout layout(shard.rows());
  std::vector<std::string> all = Cluster::allGather(mine);
  DataSet out(plan, layout.globalRows(), /*withLabels=*/false, /*withGroups=*/false);
  out.setSource(shard.source());
  out.setUnseen({int64_t(sumOverRanks(double(shard.unseen().skippedRows))),
                 int64_t(sumOverRanks(double(shard.unseen().oovIds)))});
  for (int r = 0; r < int(all.size()); ++r) {
    std::vector<int64_t> at(size_t(layout.rows(r)));
    for (size_t k = 0; k < at.size(); ++k) at[k] = layout.firstRow(r) + int64_t(k);
    unpackRows(plan, all[size_t(r)], out, at, true);
  }
  return out;
}

} // namespace recc::rt
