// DataSetRows: a copy of a DataSet holding only some of its rows, in order
// (the reader drops the rows `--unseen skip` skips this way).
#pragma once

#include "runtime/DataSet.h"

#include <span>

namespace recc::rt {

/// The rows of `data` whose `keep` flag is set (keep.size() == data.rows()),
/// with every feature, label, group and kept text column; source and unseen
/// counts are carried over.
DataSet keepRows(const ModelPlan& plan, const DataSet& data, std::span<const char> keep);

} // namespace recc::rt
