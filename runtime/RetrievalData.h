// RetrievalData: the files retrieval reads (Retrieval.h) and what they are
// turned into. The corpus holds the item tower's inputs and the item key of
// every item, one row each (a key twice is an error); the test data holds the
// user tower's inputs, the user key and the item key (and the labels, when
// present), one row per (user, clicked item); the --exclude-seen file holds the
// user and item keys (and the first label) of the training rows. Keys are id
// inputs of the model (--user-key / --item-key), by default the first id input
// each tower reads.
#pragma once

#include "runtime/DataSet.h"
#include "runtime/Retrieval.h"

#include <string>
#include <unordered_map>
#include <vector>

namespace recc::rt {

/// Plan feature index of a key: `name` (an id input or its column), or the
/// first id input `tower` reads. `flag` and `side` name it in messages.
int keyFeature(const ModelPlan& plan, const StepSpec& tower, const std::string& name,
               const std::string& flag, const std::string& side);

struct Corpus {
  DataSet data;
  std::vector<int64_t> keys;                    ///< item key of each row
  std::unordered_map<int64_t, int32_t> row;     ///< item key -> row
};
Corpus readCorpus(const std::string& path, const ModelPlan& plan, const StepSpec& itemTower,
                  int itemKey);

struct Requests {
  DataSet data;
  std::vector<int64_t> first;   ///< per request: its first row (fed to the user tower)
  std::vector<int64_t> userKey; ///< per request
  /// per request: the corpus rows of its positives, sorted, and how many
  /// positive items are not in the corpus.
  std::vector<std::vector<int32_t>> positives;
  std::vector<int32_t> outside;
  int64_t size() const { return int64_t(first.size()); }
};
/// Rows grouped by user key in order of first appearance; a row is a positive
/// unless the model's first label is present and 0.
Requests readRequests(const std::string& path, const ModelPlan& plan, const StepSpec& userTower,
                      int userKey, int itemKey, const Corpus& corpus);

/// Per request: the sorted corpus rows of the items its user clicked in
/// `path` (rows whose first label is 1; every row when it has no label).
std::vector<std::vector<int32_t>> readSeen(const std::string& path, const ModelPlan& plan,
                                           int userKey, int itemKey, const Requests& requests,
                                           const Corpus& corpus);

} // namespace recc::rt
