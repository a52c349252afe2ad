// TouchedRows: see TouchedRows.h.
#include "runtime/TouchedRows.h"

#include "runtime/Checkpoint.h"
#include "runtime/DynamicCheckpoint.h"

#include <algorithm>

namespace recc::rt {
namespace {

/// Distinct ids >= 0 among `columns`, ids in [0, rows).
int64_t distinctIds(const std::vector<std::span<const int64_t>>& columns, int64_t rows) {
  int64_t total = 0;
  for (const auto& c : columns)
    total += int64_t(c.size());
  if (rows / 64 + 1 <= total) {  // the bitmap is the smaller of the two
    std::vector<uint64_t> seen(size_t(rows / 64 + 1), 0);
    int64_t distinct = 0;
    for (const auto& c : columns)
      for (int64_t id : c)
        if (id >= 0 && id < rows) {
          uint64_t& word = seen[size_t(id >> 6)];
          const uint64_t bit = uint64_t(1) << (id & 63);
          distinct += (word & bit) == 0;
          word |= bit;
        }
    return distinct;
  }
  std::vector<int64_t> ids;
  ids.reserve(size_t(total));
  for (const auto& c : columns)
    for (int64_t id : c)
      if (id >= 0)
        ids.push_back(id);
  std::sort(ids.begin(), ids.end());
  return int64_t(std::unique(ids.begin(), ids.end()) - ids.begin());
}

} // namespace

DynamicRowCounts touchedRows(const ModelPlan& plan, const DataSet& data) {
  DynamicRowCounts counts;
  for (const TableSpec& t : plan.tables) {
    if (!t.dynamic)
      continue;
    std::vector<std::span<const int64_t>> columns;
    for (size_t f = 0; f < plan.features.size(); ++f)
      if (plan.features[f].table == t.name)
        columns.push_back(data.ids(int(f)));
    counts[t.name] = distinctIds(columns, t.rows);
  }
  return counts;
}

void addStoredRows(DynamicRowCounts& counts, const std::string& path, const ModelPlan& plan,
                   bool owned) {
  for (const std::string& file : checkpointFiles(path))
    for (const auto& [table, rows] : storedRows(file, plan, owned))
      counts[table] += rows;
}

} // namespace recc::rt
