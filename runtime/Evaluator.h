// Evaluator: runs a model's eval step over a data set, then either computes
// the plan's metrics or writes the model's outputs per row. Batches come in
// file order; with a fixed-batch step the last batch is padded and padded
// rows are dropped from every output before metrics see them. The loss is
// the mean over real rows on every backend: for a padded batch the step is
// run once more on copies of the padding row, whose loss is taken out
// (exact for losses that are a mean of per-row terms, as bce/mse over all
// rows; a masked mean or an in-batch softmax over a padded batch is only
// approximated). Ranking metrics read top_k outputs as positions in the
// batch's rows and map them to those rows' item ids (the target column). Both work from
// a ModelState alone, so `recc eval` / `recc predict` only need a checkpoint.
#pragma once

#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/Retrieval.h"
#include "runtime/StepFunction.h"

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace recc::rt {

/// One group of a per-group table: the metric over its rows (NaN when
/// undefined, e.g. a gauc group with one class, with a note).
struct GroupRow {
  std::string name;  ///< the group's value in the data, e.g. scenario "17"
  int64_t rows = 0;
  int64_t positives = 0;
  double value = 0;
  std::string note = {};
};

/// A metric reported group by group: a gauc metric over a small grouping
/// column (vocabulary at most kMaxGroupTable; SAR-Net's per-scenario AUCs),
/// or a breakdown (`auc(p, y, by = scenario)`, Metrics.h).
struct GroupTable {
  std::string column;
  std::vector<GroupRow> groups;  ///< in the order of the group names (numerically if numbers)
  std::string kind = "gauc";     ///< the metric's kind
};
constexpr int64_t kMaxGroupTable = 4096;

/// The best evaluation of a training run under --keep-best (CheckpointPolicy.h).
struct BestEval {
  std::string metric;  ///< a metric name or "loss"
  double value = 0;
  int64_t step = 0;    ///< the global step it was evaluated at
  int64_t epoch = 0;   ///< epochs completed then
  std::string path;    ///< the checkpoint holding it; empty: none written
};

struct EvalResult {
  std::map<std::string, double> metrics;   ///< by MetricSpec::name; NaN if undefined
  /// The output each metric scores (MetricSpec::output), by metric name.
  std::map<std::string, std::string> outputs;
  std::map<std::string, std::string> notes;  ///< why a metric is NaN, what was skipped
  double loss = 0;   ///< mean eval-step Loss over rows; NaN if the step has none
  int64_t rows = 0;  ///< rows evaluated (padding excluded)
  std::map<std::string, GroupTable> byGroup;  ///< by metric name (see GroupTable)
  /// --unseen of `recc eval` ("error", "oov", "skip"; empty: not reported)
  /// and what reading the data did under it (DataSet::unseen()).
  std::string unseenPolicy;
  DataSet::Unseen unseen;
  /// Training's best evaluation (--keep-best) and why it stopped before its
  /// last epoch (--early-stop, --max-steps; empty: it did not).
  std::optional<BestEval> best;
  std::string stopped;
};

/// Evaluates `data` with `evalStep` (bound to state.plan().evalStep).
/// `threads` > 0 caps TBB and OpenMP parallelism for the call (ThreadLimit).
EvalResult evaluate(ModelState& state, StepFunction& evalStep, const DataSet& data,
                    int threads = 0);

/// Writes every Output of the eval step for each row of `data` as CSV (one
/// column per output, name_k for outputs with k > 1 values per row), atomically,
/// after the data's kept text columns (DataSet::kept, `--keep`), if any.
void predict(ModelState& state, StepFunction& evalStep, const DataSet& data,
             const std::string& csvPath, int threads = 0);

/// What predictChunks scored: rows written, and what reading did with
/// unseen ids (summed over the chunks).
struct PredictedRows {
  int64_t rows = 0;
  DataSet::Unseen unseen;
};

/// Like predict, over the chunks `nextChunk` returns in order until one of 0
/// rows (DataChunks, CsvReader.h): each chunk is scored and its lines written
/// before the next is read, so memory holds one chunk, not the data set.
/// Batches restart at each chunk (chunks a multiple of the batch size give
/// predict's batches).
PredictedRows predictChunks(ModelState& state, StepFunction& evalStep,
                            const std::function<DataSet()>& nextChunk,
                            const std::string& csvPath, int threads = 0);

/// Writes `result` as JSON, atomically: {"model", "step", "epoch", "data",
/// "rows", "loss", "metrics": {...}, "notes": {...}, "by_group": {metric:
/// {"column", "kind", "value", "by": {group: {"value", "rows", "positives"
/// [, "note"]}}}}, "by_output": {output: [metric, ...]}}; NaN becomes null
/// (a one-class group's value is null with a note). A gauc table also keeps
/// the keys it had first: "mean" (= "value") and each group's "auc".
/// "by_output" names the metrics of each output, i.e. of each task, in name
/// order; their values stay in "metrics" only, so a metric's name is followed
/// by its value once in the file.
/// With an unseenPolicy, also {"unseen": {"policy", "skipped_rows",
/// "oov_ids"}}. With `best`, also {"best": {"metric", "value", "step", "epoch",
/// "path"}}; with `stopped`, {"stopped": reason}. With `retrieval`, also
/// {"retrieval": retrievalJson(*retrieval)}.
void writeMetricsJson(const std::string& path, const ModelState& state,
                      const EvalResult& result, const std::string& dataName = "",
                      const RetrievalResult* retrieval = nullptr);

/// One line for logs: "auc 0.7312  gauc 0.6521  loss 0.4410".
std::string formatMetrics(const EvalResult& result);

/// The per-group tables, one line per group; empty if there are none.
std::string formatGroupTables(const EvalResult& result);

} // namespace recc::rt
