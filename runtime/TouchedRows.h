// TouchedRows: how many rows each dynamic table will hold, for the memory
// check (MemoryCheck.h), counted before any table is allocated. Training
// inserts at most the rows whose ids occur in the training data (an update
// touches only ids of its batch; gathering an unseen id, in training or
// evaluation, inserts nothing; a fixed-batch step leaves the last partial
// batch out), so the count is the number of distinct ids the training data
// holds over all the inputs that read the table, plus the rows a checkpoint
// it starts from stores (their union is at most the sum).
// The distinct count is exact: a bitmap over the table's rows (rows/8 bytes,
// 12.5 MB for 10^8 rows) or, when the data holds fewer ids than that, a
// sorted copy of the ids; either is freed before the tables are allocated.
#pragma once

#include "runtime/DataSet.h"
#include "runtime/MemoryCheck.h"

namespace recc::rt {

/// Distinct ids of `data` per dynamic table of `plan` (by table name).
DynamicRowCounts touchedRows(const ModelPlan& plan, const DataSet& data);

/// Adds the rows each table holds in checkpoint `path` (if stored by rows),
/// its shard files' too; with `owned`, only the rows this rank owns under
/// --shard-tables.
void addStoredRows(DynamicRowCounts& counts, const std::string& path, const ModelPlan& plan,
                   bool owned = false);

} // namespace recc::rt
