// DataSet: construction and lookups; see DataSet.h.
#include "runtime/DataSet.h"

#include "runtime/CheckedMath.h"
#include "runtime/Error.h"

#include <algorithm>

namespace recc::rt {

DataSet::DataSet(const ModelPlan& plan, int64_t rows, bool withLabels,
                 bool withGroups)
    : Rows(rows) {
  for (const FeatureSpec& f : plan.features) {
    FeatureColumn c;
    if (f.kind == FeatureSpec::Kind::Dense) {
      c.Dense.assign(rows, 0.0f);
    } else {
      c.Width = idsPerRow(f);
      auto ids = checkedMul(rows, c.Width);
      if (!ids || !checkedMul(*ids, sizeof(int64_t)))
        fail("data set: {} rows of {} ids of feature '{}' overflow 64-bit sizes", rows,
             c.Width, f.name);
      c.Ids.assign(*ids, -1);
    }
    Features.push_back(std::move(c));
  }
  for (const LabelSpec& l : plan.labels) {
    LabelNames.push_back(l.name);
    Labels.emplace_back(withLabels ? rows : 0, 0.0f);
  }
  if (withGroups)
    for (const std::string& col : groupColumns(plan))
      Groups[col].assign(rows, 0);
}

int DataSet::labelIndex(const std::string& name) const {
  auto it = std::find(LabelNames.begin(), LabelNames.end(), name);
  return it == LabelNames.end() ? -1 : static_cast<int>(it - LabelNames.begin());
}

std::span<const int64_t> DataSet::groups(const std::string& column) const {
  auto it = Groups.find(column);
  if (it == Groups.end())
    fail("{}: no group column '{}' was read", Source, column);
  return it->second;
}

std::span<const std::string> DataSet::groupNames(const std::string& column) const {
  auto it = GroupNames.find(column);
  if (it == GroupNames.end())
    return {};
  return it->second;
}

std::span<const std::string> DataSet::kept(const std::string& column) const {
  auto it = Kept.find(column);
  if (it == Kept.end())
    fail("{}: column '{}' was not kept", Source, column);
  return it->second;
}

std::vector<std::string>& DataSet::keptMut(const std::string& column) {
  if (!Kept.count(column))
    KeptNames.push_back(column);
  return Kept[column];
}

std::vector<std::string> groupColumns(const ModelPlan& plan) {
  std::vector<std::string> cols;
  for (const MetricSpec& m : plan.metrics)
    if (!m.groupColumn.empty() &&
        std::find(cols.begin(), cols.end(), m.groupColumn) == cols.end())
      cols.push_back(m.groupColumn);
  return cols;
}

} // namespace recc::rt
