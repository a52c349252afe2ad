// DynamicCheckpoint: how a checkpoint stores a dynamic table: the rows it
// holds (those training touched), sorted by id, never the whole vocabulary.
//   ids/<table>                 I64 [n]       the row ids, increasing
//   <table>                     F32 [n, dim]  their weights, in that order
//   adam_m/<table>, adam_v/<table>, adagrad_acc/<table>
//                               F32 [n, dim]  their optimizer state
// A row missing from the file is one training never touched: it loads as its
// initial value (Init.h), as it would have read before the save.
// Loading takes this layout into a dynamic table (inserting the n rows) or
// into a dense table of the same name (scattering them over its initialized
// rows), so a table may change storage between runs. A dense [rows, dim]
// tensor cannot be loaded into a dynamic table: that would insert every row.
// Loading checks everything first (ids increasing and inside the table, one
// row per id, shapes, CRC-32, finite values) and names the tensor, e.g.
//   ckpt.safetensors: tensor 'query_emb' has 9 rows but 'ids/query_emb' lists 10 ids
#pragma once

#include "runtime/ModelState.h"
#include "runtime/SafeTensors.h"

#include <map>
#include <string>
#include <vector>

namespace recc::rt {

/// The name of the id list of table `table` ("ids/<table>").
std::string idsTensorName(const std::string& table);

/// Appends the tensors of every dynamic table of `state` (produced in
/// chunks when written, so a save copies no table whole).
void collectDynamicTables(const ModelState& state, std::vector<TensorRef>& out);

/// True if table `t` loads from `in` by rows and ids: it is dynamic, or the
/// checkpoint stores it so.
bool loadsByRows(const SafeTensorsReader& in, const EmbeddingTable& t);

/// One validated table load by rows.
struct RowsLoad {
  int table;                  ///< index into ModelState::tables
  std::vector<int64_t> ids;   ///< the stored ids, increasing
  std::vector<std::string> slots;  ///< optimizer state tensors (empty names: absent)
};

/// Checks every table of `state` that loads by rows from `in`, changing
/// nothing; throws a RuntimeError naming the tensor on any problem.
/// `required`: a missing table is an error (not in a transfer load);
/// `withOptimizer`: optimizer state is loaded too; `allowNonFinite`: NaN and
/// infinities are accepted.
std::vector<RowsLoad> checkRowsLoads(const SafeTensorsReader& in, const ModelState& state,
                                     bool required, bool withOptimizer, bool allowNonFinite);
/// Loads what checkRowsLoads validated. `replace`: a dynamic table drops the
/// rows it held first (false: the rows are added, as from the second file of
/// a sharded checkpoint). With sharded tables (ShardedTables.h) a rank takes
/// only the rows it owns.
void loadRows(const SafeTensorsReader& in, ModelState& state, const std::vector<RowsLoad>& loads,
              bool replace = true);

/// Rows each table of `plan` holds in checkpoint file `path` stored by rows
/// (for the memory check of a resumed or evaluated model), with `owned` only
/// the rows this rank owns under --shard-tables; {} if it cannot tell.
std::map<std::string, int64_t> storedRows(const std::string& path, const ModelPlan& plan,
                                          bool owned = false);

} // namespace recc::rt
