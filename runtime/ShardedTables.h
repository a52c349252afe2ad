// ShardedTables: embedding tables split by row over the ranks of a job
// (`recc train --shard-tables` under mpirun, docs/distributed.md). Rank r
// owns the rows whose id % N == r and holds only those that training has
// touched (dynamic storage: a row's initial value depends only on the seed,
// the table and the id, so it is the same wherever it lives). A table N times
// larger than one process's memory therefore trains over N ranks.
//
// A step asks the owners for the rows of its batch's distinct ids and they
// answer (FetchedRows::fetch, two all-to-alls). After the backward pass each
// rank sends its row gradients, summed per id, to their owners
// (sendToOwners), and each owner alone applies the lazy sparse optimizer to
// its rows, with every rank's gradients in rank order.
#pragma once

#include "runtime/Cluster.h"
#include "runtime/EmbeddingTable.h"
#include "runtime/ModelState.h"

#include <map>
#include <span>
#include <vector>

namespace recc::rt {

/// The rank that owns row `id` of every table.
inline int rowOwner(int64_t id) { return static_cast<int>(id % Cluster::size()); }

/// Rows fetched from their owners, per table: the distinct ids asked for,
/// increasing, and their rows.
class FetchedRows {
public:
  /// A collective call: fetches the rows of `idsByTable[t]` (per index of
  /// state.tables; ids -1 are skipped, repeats are fetched once) from their
  /// owners, and serves the rows the other ranks ask of this one.
  void fetch(const ModelState& state, const std::vector<std::vector<int64_t>>& idsByTable);
  /// Writes the row of each of `ids` (all fetched) to out[i*dim ..]; -1
  /// gives zeros.
  void gather(int table, std::span<const int64_t> ids, float* out) const;

private:
  std::vector<std::vector<int64_t>> Ids;
  std::vector<std::vector<float>> Rows;
  std::vector<int64_t> Dims;
};

/// What this rank owns of every rank's row gradients after sendToOwners:
/// one entry per (sending rank, table), in rank order.
struct OwnedGradients {
  std::vector<int> tables;
  std::vector<std::vector<int64_t>> ids;
  std::vector<std::vector<float>> grads;
};

/// A collective call: sends each table's summed row gradients (`local`, by
/// index of state.tables) to the owners of their rows, scaled by `scale`.
OwnedGradients sendToOwners(const ModelState& state, const std::map<int, SummedRows>& local,
                            float scale);

/// A collective call: the rows of each table (by name) that this rank will
/// own once every rank has trained on its rows of `data`: the distinct ids of
/// all ranks' rows that this rank owns. For the memory check (TouchedRows.h).
std::map<std::string, int64_t> ownedTouchedRows(const ModelPlan& plan, const DataSet& data);

} // namespace recc::rt
