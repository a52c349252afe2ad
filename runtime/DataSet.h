// DataSet: a data file held in memory column by column, holding exactly the
// columns a ModelPlan needs: one column per feature (raw dense values, or ids
// with -1 padding, `width` per row), one per label, and one interned group id
// per row for each metric's group column (gauc's groups, a breakdown's,
// ranking requests), with the text each group id stands for. Columns are
// indexed like the plan's features and labels, so batching is a strided copy
// with no name lookups.
// A DataSet comes from readDataFile (CsvReader.h) or is built in code, e.g. by
// a synthetic data generator or a test, through the same accessors.
#pragma once

#include "runtime/ModelPlan.h"

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace recc::rt {

class DataSet {
public:
  DataSet() = default;
  /// An all-zero data set of `rows` rows shaped for `plan` (ids -1); labels
  /// and group columns are only present if `withLabels` / `withGroups`.
  DataSet(const ModelPlan& plan, int64_t rows, bool withLabels = true,
          bool withGroups = true);

  /// Where the data came from, for messages ("train.csv").
  const std::string& source() const { return Source; }
  void setSource(std::string s) { Source = std::move(s); }
  int64_t rows() const { return Rows; }

  /// Ids per row of feature `f`: 1 for Categorical, maxLen for Multi (times
  /// words for a bag of words per element, stored [maxLen, words]), 0 for Dense.
  int64_t width(int f) const { return Features[f].Width; }
  /// Raw (untransformed) values of dense feature `f`, one per row.
  std::span<const float> dense(int f) const { return Features[f].Dense; }
  std::span<float> dense(int f) { return Features[f].Dense; }
  /// Ids of categorical feature `f`, rows x width(f), padding -1.
  std::span<const int64_t> ids(int f) const { return Features[f].Ids; }
  std::span<int64_t> ids(int f) { return Features[f].Ids; }

  bool hasLabel(int l) const { return !Labels[l].empty() || Rows == 0; }
  std::span<const float> label(int l) const { return Labels[l]; }
  std::span<float> label(int l) { return Labels[l]; }
  /// Index of the plan label named `name`, or -1.
  int labelIndex(const std::string& name) const;

  /// Group ids (equal ids = same group) of data column `column`.
  bool hasGroups(const std::string& column) const { return Groups.count(column) > 0; }
  std::span<const int64_t> groups(const std::string& column) const;
  std::vector<int64_t>& groupsMut(const std::string& column) { return Groups[column]; }
  /// The data text of each group id of `column` (group id g is names[g]);
  /// empty for a data set built in code, whose group ids are their own names.
  std::span<const std::string> groupNames(const std::string& column) const;
  std::vector<std::string>& groupNamesMut(const std::string& column) {
    return GroupNames[column];
  }

  /// Makes room for labels/groups that the constructor left out.
  void addLabelColumn(int l) { Labels[l].assign(Rows, 0.0f); }

  /// What reading did with values outside a vocabulary (CsvReader.h,
  /// ReadOptions::unseen): rows skipped, and ids mapped to the
  /// out-of-vocabulary id (integer ids under --unseen oov, and the values a
  /// vocabulary file lacks).
  struct Unseen {
    int64_t skippedRows = 0;
    int64_t oovIds = 0;
  };
  const Unseen& unseen() const { return UnseenCounts; }
  void setUnseen(Unseen u) { UnseenCounts = u; }

  /// Data columns carried as text, one value per row, to be written beside
  /// the scores (`recc predict --keep`); in the order they were added.
  const std::vector<std::string>& keptNames() const { return KeptNames; }
  std::span<const std::string> kept(const std::string& column) const;
  std::vector<std::string>& keptMut(const std::string& column);

private:
  struct FeatureColumn {
    int64_t Width = 0;
    std::vector<float> Dense;
    std::vector<int64_t> Ids;
  };
  std::string Source = "<memory>";
  int64_t Rows = 0;
  std::vector<std::string> LabelNames;
  std::vector<FeatureColumn> Features;
  std::vector<std::vector<float>> Labels;
  std::map<std::string, std::vector<int64_t>> Groups;
  std::map<std::string, std::vector<std::string>> GroupNames;
  Unseen UnseenCounts;
  std::vector<std::string> KeptNames;
  std::map<std::string, std::vector<std::string>> Kept;
};

/// The data columns the metrics of `plan` group by (deduplicated, in order).
std::vector<std::string> groupColumns(const ModelPlan& plan);

} // namespace recc::rt
