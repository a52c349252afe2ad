// DataSetRows: see DataSetRows.h.
#include "runtime/DataSetRows.h"

#include "runtime/Error.h"

#include <algorithm>

namespace recc::rt {

DataSet keepRows(const ModelPlan& plan, const DataSet& data, std::span<const char> keep) {
  if (static_cast<int64_t>(keep.size()) != data.rows())
    fail("{}: {} row flags for {} rows", data.source(), keep.size(), data.rows());
  const int64_t kept = std::count(keep.begin(), keep.end(), char(1));
  DataSet out(plan, kept, /*withLabels=*/false, /*withGroups=*/false);
  out.setSource(data.source());
  out.setUnseen(data.unseen());
  for (size_t l = 0; l < plan.labels.size(); ++l)
    if (data.hasLabel(static_cast<int>(l)))
      out.addLabelColumn(static_cast<int>(l));
  for (const std::string& column : groupColumns(plan))
    if (data.hasGroups(column)) {
      out.groupsMut(column).resize(kept);
      auto names = data.groupNames(column);
      out.groupNamesMut(column).assign(names.begin(), names.end());
    }
  for (const std::string& column : data.keptNames()) {
    auto text = data.kept(column);
    std::vector<std::string>& into = out.keptMut(column);
    for (int64_t r = 0; r < data.rows(); ++r)
      if (keep[r])
        into.push_back(text[r]);
  }
  int64_t to = 0;
  for (int64_t from = 0; from < data.rows(); ++from) {
    if (!keep[from])
      continue;
    for (size_t f = 0; f < plan.features.size(); ++f) {
      const int fi = static_cast<int>(f);
      if (plan.features[f].kind == FeatureSpec::Kind::Dense) {
        out.dense(fi)[to] = data.dense(fi)[from];
      } else {
        const int64_t w = data.width(fi);
        std::copy_n(data.ids(fi).begin() + from * w, w, out.ids(fi).begin() + to * w);
      }
    }
    for (size_t l = 0; l < plan.labels.size(); ++l)
      if (data.hasLabel(static_cast<int>(l)) && data.rows() > 0)
        out.label(static_cast<int>(l))[to] = data.label(static_cast<int>(l))[from];
    for (const std::string& column : groupColumns(plan))
      if (data.hasGroups(column))
        out.groupsMut(column)[to] = data.groups(column)[from];
    ++to;
  }
  return out;
}

} // namespace recc::rt
