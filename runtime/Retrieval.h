// Retrieval: a two-tower model judged the way it serves, by retrieving from
// the whole item corpus (`recc eval/predict --corpus`; docs/retrieval.md).
//   1. The item tower runs once per corpus item (in batches): an [N, d] matrix.
//   2. The test rows (one per (user, clicked item)) are grouped into requests
//      by the user key; the user tower runs once per request, on its first row.
//   3. The exact top-K items by dot product (TopK.h), minus the items the user
//      clicked in the training data with --exclude-seen. With several top_k
//      outputs (MIND: one per interest) an item's score is its highest over
//      the queries, and the top K of that merged list is retrieved.
//   4. HitRate, Precision, Recall and NDCG @K over the requests with at least
//      one positive, or (predict) each request's list streamed to a CSV.
// Requests are processed in chunks, so memory does not grow with their number.
#pragma once

#include "runtime/ModelState.h"
#include "runtime/StepFunction.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace recc::rt {

/// The towers' step functions, as the compiler derives them (compiler/passes/Towers.h).
struct TowerSpec {
  StepSpec user;                  ///< one Output per top_k output, "<name>.query"
  StepSpec item;                  ///< one Output, "items"
  std::vector<std::string> topK;  ///< the model's top_k outputs, in order
  std::vector<int64_t> k;         ///< their k (the model's serving cut-off)
};

/// Makes the user tower's (user = true) or the item tower's step function.
using TowerFactory = std::function<std::unique_ptr<StepFunction>(bool user)>;

struct RetrievalArgs {
  std::string corpus;       ///< item-side columns of every item
  std::string excludeSeen;  ///< training data: (user, item) pairs with label 1 are left out
  std::string userKey;      ///< default: the user tower's first id input
  std::string itemKey;      ///< default: the item tower's first id input
  std::vector<int64_t> ks{50, 100, 200};
};

struct MetricsAtK {
  int64_t k = 0;
  double hitrate = 0, precision = 0, recall = 0, ndcg = 0;
};

struct RetrievalResult {
  std::string corpus, userKey, itemKey, excludeSeen;
  int64_t items = 0;       ///< corpus size
  int64_t dim = 0;         ///< vector width
  int64_t queries = 1;     ///< query vectors per user (top_k outputs)
  int64_t requests = 0;    ///< users in the test data
  int64_t users = 0;       ///< of them, with at least one positive (the metrics' mean)
  int64_t positives = 0;   ///< distinct (user, item) positives
  int64_t outsideCorpus = 0;  ///< positives whose item is not in the corpus (never hit)
  int64_t excluded = 0;    ///< (user, corpus item) pairs left out by --exclude-seen
  std::vector<MetricsAtK> atK;
  double compileSeconds = 0;  ///< making both towers' step functions (the JIT)
  double itemSeconds = 0, userSeconds = 0, scoringSeconds = 0;
  double scoringGflops() const;
};

/// Retrieval metrics of the requests in `data` (a test file's path).
RetrievalResult evaluateRetrieval(ModelState& state, const TowerSpec& towers,
                                  const TowerFactory& make, const RetrievalArgs& args,
                                  const std::string& data);

/// Writes each request's top max(ks) list as CSV `user_key,rank,item_key,score`
/// (rank from 1), streamed; returns the counts and times (no metrics).
RetrievalResult predictRetrieval(ModelState& state, const TowerSpec& towers,
                                 const TowerFactory& make, const RetrievalArgs& args,
                                 const std::string& data, const std::string& csvPath);

/// The "retrieval" object of --metrics-json.
nlohmann::json retrievalJson(const RetrievalResult& r);
/// The metrics table and the time split, for the terminal.
std::string formatRetrieval(const RetrievalResult& r);

} // namespace recc::rt
