// Evaluator: see Evaluator.h. Outputs are collected for the real rows of each
// batch into per-output columns; metrics are then computed over the whole
// data set at once (AUC is not decomposable over batches, and the rows of one
// ranking request may lie in different batches).
#include "runtime/Evaluator.h"

#include "runtime/AtomicFile.h"
#include "runtime/Batcher.h"
#include "runtime/Bytes.h"
#include "runtime/Cluster.h"
#include "runtime/Error.h"
#include "runtime/Metrics.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"
#include "runtime/ShardedData.h"
#include "runtime/StepRunner.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>

namespace recc::rt {
namespace {

/// Columns of every output (perRow values per data row, in data order), and
/// the retrieved item ids of each ranking metric (by metric name).
struct Collected {
  std::vector<std::string> names;
  std::vector<int64_t> perRow;
  std::vector<std::vector<float>> values;
  std::map<std::string, std::vector<int64_t>> ranked;
  double lossSum = 0;
  bool hasLoss = false;
};

void checkStats(const ModelState& state) {
  const auto& features = state.plan().features;
  for (size_t f = 0; f < features.size(); ++f)
    if (needsStats(features[f]) && !state.stats[f].ready)
      fail("feature '{}' uses {} but has no statistics: train the model or "
           "load a checkpoint first", features[f].name, features[f].transform);
}

/// A ranking metric's top_k output (an index into the step's outputs) and the
/// feature whose ids name the items of the batch rows it ranks.
struct RankedOutput {
  const MetricSpec* metric;
  size_t output;
  int itemFeature;
};

std::vector<RankedOutput> rankedOutputs(const ModelState& state,
                                        const std::vector<StepRunner::Output>& outs) {
  std::vector<RankedOutput> r;
  for (const MetricSpec& m : state.plan().metrics) {
    if (!isRankingMetric(m.kind))
      continue;
    size_t i = 0;
    while (i < outs.size() && outs[i].name != m.output)
      ++i;
    if (i == outs.size())
      fail("metric '{}' scores output '{}', which the eval step does not produce", m.name,
           m.output);
    if (!outs[i].batched || outs[i].perRow < 1)
      fail("metric '{}' ranks the ids in output '{}', which has no values per row", m.name,
           m.output);
    if (m.k > outs[i].perRow)
      fail("metric '{}' has k = {}, but output '{}' retrieves only {} items per row", m.name,
           m.k, m.output, outs[i].perRow);
    r.push_back({&m, i, targetFeature(state.plan(), m)});
  }
  return r;
}

/// Appends the item ids the batch's real rows retrieved: top_k positions
/// index the batch rows (padding included: it was part of the ranked corpus).
void collectRanked(const RankedOutput& ro, const StepRunner::Output& out, const DataSet& data,
                   const Batcher::Batch& batch, Collected& c) {
  std::span<const int64_t> ids = data.ids(ro.itemFeature);
  std::vector<int64_t> corpus(batch.rows.size());
  for (size_t j = 0; j < corpus.size(); ++j)
    corpus[j] = ids[batch.rows[j]];
  std::vector<int64_t> got =
      itemIdsAt({out.data, size_t(batch.valid * out.perRow)}, out.perRow, corpus,
                fmt::format("metric '{}': output '{}'", ro.metric->name, out.name));
  auto& dst = c.ranked[ro.metric->name];
  dst.insert(dst.end(), got.begin(), got.end());
}

/// The eval loss of a padded last batch over its real rows only. The step
/// averaged over all B rows, B - v of them copies of the padding row; a batch
/// of B copies of that row gives that row's loss l. For a loss that is a mean
/// of per-row terms (plus terms that do not depend on the rows), the real
/// rows' loss is exactly (B·L - (B - v)·l) / v. Losses that couple rows (a
/// masked mean, an in-batch softmax) are approximated; see Evaluator.h.
double realRowsLoss(StepRunner& runner, const DataSet& data, const Batcher::Batch& batch,
                    double padded, uint32_t seed) {
  const double b = double(batch.rows.size()), v = double(batch.valid);
  std::vector<int64_t> copies(batch.rows.size(), batch.rows[batch.valid]);
  runner.reuseFetchedRows();  // a row of the batch just run
  runner.run(data, copies, seed);
  return (b * padded - (b - v) * double(runner.loss())) / v;
}

Collected runEval(ModelState& state, StepFunction& fn, const DataSet& data) {
  checkStats(state);
  const ModelPlan& plan = state.plan();
  Batcher batcher = Batcher::forEvaluation(data.rows(), plan.batchSize, fn.fixedBatch());
  StepRunner runner(plan.evalStep, state, fn, batcher.batchSize(), "eval step");
  Collected c;
  for (const StepRunner::Output& o : runner.outputs()) {
    c.names.push_back(o.name);
    c.perRow.push_back(o.batched ? o.perRow : 0);
    c.values.emplace_back();
    c.values.back().reserve(o.batched ? data.rows() * o.perRow : 0);
  }
  const std::vector<RankedOutput> ranked = rankedOutputs(state, runner.outputs());
  c.hasLoss = runner.hasLoss();
  const uint64_t key = combine(plan.seed, hashString("eval"));
  // Sharded tables: each batch fetches its rows (a collective call), so a
  // rank with fewer batches joins the other ranks' last fetches.
  const int64_t batches = batcher.numBatches();
  int64_t rounds = batches;
  if (runner.fetchesRows())
    for (int64_t n : allGatherValue(batches)) rounds = std::max(rounds, n);
  for (int64_t b = batches; b < rounds; ++b) runner.joinFetch();
  for (int64_t b = 0; b < batches; ++b) {
    Batcher::Batch batch = batcher.batch(b);
    runner.run(data, batch.rows, stepSeed(key, b));
    double loss = runner.loss();
    std::vector<StepRunner::Output> outs = runner.outputs();
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].batched)
        c.values[i].insert(c.values[i].end(), outs[i].data,
                           outs[i].data + batch.valid * outs[i].perRow);
    for (const RankedOutput& ro : ranked)
      collectRanked(ro, outs[ro.output], data, batch, c);
    // Last: this reruns the step, overwriting the outputs read above.
    if (c.hasLoss && batch.valid < int64_t(batch.rows.size()))
      loss = realRowsLoss(runner, data, batch, loss, stepSeed(key, b));
    c.lossSum += loss * double(batch.valid);
  }
  return c;
}

/// Under mpirun: every rank's collected outputs, in rank order (the order of
/// gatherAll's rows), and the summed loss, on every rank.
Collected gatherCollected(const Collected& mine) {
  std::string bytes;
  for (const std::vector<float>& v : mine.values) putCounted(bytes, std::span<const float>(v));
  for (const auto& [name, ids] : mine.ranked) putCounted(bytes, std::span<const int64_t>(ids));
  Collected all = mine;
  for (std::vector<float>& v : all.values) v.clear();
  for (auto& [name, ids] : all.ranked) ids.clear();
  for (const std::string& rank : Cluster::allGather(bytes)) {
    ByteReader in(rank, "evaluation outputs");
    for (std::vector<float>& v : all.values) in.appendCounted(v);
    for (auto& [name, ids] : all.ranked) in.appendCounted(ids);
  }
  all.lossSum = sumOverRanks(mine.lossSum);
  return all;
}

size_t outputFor(const Collected& c, const MetricSpec& m) {
  for (size_t i = 0; i < c.names.size(); ++i)
    if (c.names[i] == m.output)
      return i;
  fail("metric '{}' scores output '{}', which the eval step does not produce", m.name,
       m.output);
}

std::span<const float> scoresFor(const Collected& c, const MetricSpec& m) {
  size_t i = outputFor(c, m);
  if (c.perRow[i] != 1)
    fail("metric '{}' scores output '{}', which has {} values per row; expected 1", m.name,
         m.output, c.perRow[i]);
  return c.values[i];
}

MetricResult rankingMetric(const ModelState& state, const Collected& c, const DataSet& data,
                           const MetricSpec& m, std::span<const float> filter) {
  const int64_t width = c.perRow[outputFor(c, m)];
  const std::vector<int64_t>& top = c.ranked.at(m.name);
  int f = targetFeature(state.plan(), m);
  std::span<const int64_t> groups;
  if (!m.groupColumn.empty())
    groups = data.groups(m.groupColumn);
  return computeRankingMetric(m, top, width, data.ids(f), filter, groups);
}

std::span<const float> labelsFor(const ModelState& state, const DataSet& data,
                                 const MetricSpec& m, const std::string& name) {
  int l = state.labelIndex(name);
  if (!data.hasLabel(l))
    fail("metric '{}' needs label '{}', which {} does not have", m.name, name,
         data.source());
  return data.label(l);
}

/// Whether gauc metric `m` groups by a column small enough to report group
/// by group: an id input's column with at most kMaxGroupTable ids.
bool reportsGroups(const ModelPlan& plan, const MetricSpec& m) {
  for (const FeatureSpec& f : plan.features)
    if (f.column == m.groupColumn && f.kind == FeatureSpec::Kind::Categorical)
      return f.vocab <= kMaxGroupTable;
  return false;
}

/// True if `s` is a decimal integer (the group names are then sorted as numbers).
bool isInteger(const std::string& s) {
  return !s.empty() && s.size() < 19 &&
         std::all_of(s.begin() + (s[0] == '-'), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
         s != "-";
}

GroupTable groupTable(const MetricSpec& m, const MetricResult& mr, const DataSet& data) {
  std::span<const std::string> names = data.groupNames(m.groupColumn);
  GroupTable t{m.groupColumn, {}};
  t.kind = m.kind;
  for (const GroupValue& g : mr.byGroup)
    t.groups.push_back({g.group < int64_t(names.size()) ? names[g.group] : std::to_string(g.group),
                        g.rows, g.positives, g.value, g.note});
  const bool numeric = std::all_of(t.groups.begin(), t.groups.end(),
                                   [](const GroupRow& r) { return isInteger(r.name); });
  std::stable_sort(t.groups.begin(), t.groups.end(), [&](const GroupRow& a, const GroupRow& b) {
    return numeric ? std::stoll(a.name) < std::stoll(b.name) : a.name < b.name;
  });
  return t;
}

} // namespace

EvalResult evaluate(ModelState& state, StepFunction& evalStep, const DataSet& shard,
                    int threads) {
  ThreadLimit limit(threads);
  Collected c = runEval(state, evalStep, shard);
  // Under mpirun each rank evaluated its own rows (ShardedData.h); metrics
  // such as AUC and GAUC are computed over all ranks' rows, on every rank.
  std::optional<DataSet> all;
  if (Cluster::distributed()) {
    c = gatherCollected(c);
    all = gatherAll(state.plan(), shard);
  }
  const DataSet& data = all ? *all : shard;
  EvalResult r;
  r.rows = data.rows();
  r.loss = c.hasLoss && r.rows ? c.lossSum / double(r.rows) : NAN;
  for (const MetricSpec& m : state.plan().metrics) {
    std::span<const float> filter;
    if (!m.filterLabel.empty())
      filter = labelsFor(state, data, m, m.filterLabel);
    MetricResult mr;
    if (isRankingMetric(m.kind)) {
      mr = rankingMetric(state, c, data, m, filter);
    } else {
      std::span<const int64_t> groups;  // gauc's groups, or a breakdown's
      if (!m.groupColumn.empty())
        groups = data.groups(m.groupColumn);
      mr = computeMetric(m, scoresFor(c, m), labelsFor(state, data, m, m.label), filter,
                         groups);
    }
    r.metrics[m.name] = mr.value;
    r.outputs[m.name] = m.output;
    if (m.kind == "gauc" ? reportsGroups(state.plan(), m) : !mr.byGroup.empty())
      r.byGroup[m.name] = groupTable(m, mr, data);
    if (!mr.note.empty())
      r.notes[m.name] = mr.note;
  }
  return r;
}

/// `text` as one CSV field: quoted (quotes doubled) when it holds a comma, a
/// quote or a line break, as RFC 4180 has it.
void appendCsvField(fmt::memory_buffer& line, std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) {
    line.append(text);
    return;
  }
  line.push_back('"');
  for (char ch : text) {
    if (ch == '"') line.push_back('"');
    line.push_back(ch);
  }
  line.push_back('"');
}

namespace {
/// The scores file's header: the kept columns, then one per output value.
std::string predictionHeader(const Collected& c, const DataSet& data) {
  std::string header;
  for (size_t i = 0; i < c.names.size(); ++i)
    for (int64_t k = 0; k < c.perRow[i]; ++k)
      header += fmt::format("{}{}", header.empty() ? "" : ",",
                            c.perRow[i] == 1 ? c.names[i] : fmt::format("{}_{}", c.names[i], k));
  if (header.empty())
    fail("predict: the eval step has no per-row outputs");
  const std::vector<std::string>& kept = data.keptNames();
  for (const std::string& k : kept)
    if (std::find(c.names.begin(), c.names.end(), k) != c.names.end())
      fail("--keep: column '{}' has the name of a model output; the scores file would "
           "have it twice", k);
  if (!kept.empty())
    header = fmt::format("{},{}", fmt::join(kept, ","), header);
  return header;
}

/// One line per row of `data`: its kept text, then its outputs in `c`.
void writePredictionRows(AtomicFileWriter& out, const Collected& c, const DataSet& data) {
  std::vector<std::span<const std::string>> keptText;
  for (const std::string& k : data.keptNames())
    keptText.push_back(data.kept(k));
  fmt::memory_buffer line;
  for (int64_t r = 0; r < data.rows(); ++r) {
    line.clear();
    for (const auto& text : keptText) {
      if (line.size()) line.push_back(',');
      appendCsvField(line, text[r]);
    }
    for (size_t i = 0; i < c.names.size(); ++i)
      for (int64_t k = 0; k < c.perRow[i]; ++k)
        fmt::format_to(std::back_inserter(line), "{}{}", line.size() ? "," : "",
                       c.values[i][r * c.perRow[i] + k]);
    line.push_back('\n');
    out.write(line.data(), line.size());
  }
}
} // namespace

void predict(ModelState& state, StepFunction& evalStep, const DataSet& data,
             const std::string& csvPath, int threads) {
  ThreadLimit limit(threads);
  Collected c = runEval(state, evalStep, data);
  const std::string header = predictionHeader(c, data);
  AtomicFileWriter out(csvPath);
  out.write(header + "\n");
  writePredictionRows(out, c, data);
  out.commit();
}

PredictedRows predictChunks(ModelState& state, StepFunction& evalStep,
                            const std::function<DataSet()>& nextChunk,
                            const std::string& csvPath, int threads) {
  ThreadLimit limit(threads);
  AtomicFileWriter out(csvPath);
  PredictedRows done;
  for (DataSet chunk = nextChunk(); chunk.rows() > 0; chunk = nextChunk()) {
    Collected c = runEval(state, evalStep, chunk);
    if (done.rows == 0)
      out.write(predictionHeader(c, chunk) + "\n");
    writePredictionRows(out, c, chunk);
    done.rows += chunk.rows();
    done.unseen.skippedRows += chunk.unseen().skippedRows;
    done.unseen.oovIds += chunk.unseen().oovIds;
  }
  if (done.rows == 0)
    fail("predict: no rows to score (every row was skipped under --unseen skip)");
  out.commit();
  return done;
}

namespace {
nlohmann::json number(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

/// One by_group entry (see writeMetricsJson).
nlohmann::json groupTableJson(const GroupTable& table, double value) {
  const bool gauc = table.kind == "gauc";
  nlohmann::json t;
  t["column"] = table.column;
  t["kind"] = table.kind;
  t["value"] = number(value);
  if (gauc)
    t["mean"] = number(value);
  t["by"] = nlohmann::json::object();
  for (const GroupRow& g : table.groups) {
    nlohmann::json& row = t["by"][g.name];
    row["value"] = number(g.value);
    if (gauc || table.kind == "auc")
      row["auc"] = number(g.value);
    row["rows"] = g.rows;
    row["positives"] = g.positives;
    if (!g.note.empty())
      row["note"] = g.note;
  }
  return t;
}
} // namespace

void writeMetricsJson(const std::string& path, const ModelState& state,
                      const EvalResult& result, const std::string& dataName,
                      const RetrievalResult* retrieval) {
  if (Cluster::rank() != 0)  // under mpirun every rank holds the same result
    return;
  nlohmann::json j;
  j["model"] = state.plan().model;
  j["step"] = state.step;
  j["epoch"] = state.epoch;
  if (!dataName.empty())
    j["data"] = dataName;
  j["rows"] = result.rows;
  j["loss"] = number(result.loss);
  j["metrics"] = nlohmann::json::object();
  for (const auto& [name, value] : result.metrics)
    j["metrics"][name] = number(value);
  j["notes"] = result.notes;
  if (!result.byGroup.empty()) {
    nlohmann::json& tables = j["by_group"];
    for (const auto& [name, table] : result.byGroup)
      tables[name] = groupTableJson(table, result.metrics.at(name));
  }
  if (!result.outputs.empty()) {
    nlohmann::json& byOutput = j["by_output"];
    for (const auto& [name, output] : result.outputs)
      byOutput[output].push_back(name);
  }
  if (!result.unseenPolicy.empty())
    j["unseen"] = {{"policy", result.unseenPolicy},
                   {"skipped_rows", result.unseen.skippedRows},
                   {"oov_ids", result.unseen.oovIds}};
  if (result.best)
    j["best"] = {{"metric", result.best->metric}, {"value", number(result.best->value)},
                 {"step", result.best->step}, {"epoch", result.best->epoch},
                 {"path", result.best->path}};
  if (!result.stopped.empty())
    j["stopped"] = result.stopped;
  if (retrieval)
    j["retrieval"] = retrievalJson(*retrieval);
  writeFileAtomically(path, j.dump(2) + "\n");
}

std::string formatMetrics(const EvalResult& result) {
  std::string s;
  for (const auto& [name, value] : result.metrics)
    s += fmt::format("{}{} {:.4f}", s.empty() ? "" : "  ", name, value);
  if (std::isfinite(result.loss))
    s += fmt::format("{}loss {:.4f}", s.empty() ? "" : "  ", result.loss);
  return s;
}

std::string formatGroupTables(const EvalResult& result) {
  std::string s;
  for (const auto& [name, table] : result.byGroup) {
    const auto defined = std::count_if(table.groups.begin(), table.groups.end(),
                                       [](const GroupRow& g) { return !std::isnan(g.value); });
    const bool gauc = table.kind == "gauc";
    if (gauc)
      s += fmt::format("{} by {}: mean {:.4f} over the {} of {} groups with both classes\n",
                       name, table.column, result.metrics.at(name), defined, table.groups.size());
    else
      s += fmt::format("{} by {}: {:.4f} over all rows; defined in {} of {} groups\n", name,
                       table.column, result.metrics.at(name), defined, table.groups.size());
    s += fmt::format("  {:>10} {:>10} {:>10}  {}\n", table.column, "rows", "positives",
                     gauc ? "auc" : table.kind);
    for (const GroupRow& g : table.groups)
      s += fmt::format("  {:>10} {:>10} {:>10}  {}\n", g.name, g.rows, g.positives,
                       !std::isnan(g.value) ? fmt::format("{:.4f}", g.value)
                       : gauc              ? std::string("n/a (one class)")
                                           : "n/a (" + g.note + ")");
  }
  return s;
}

} // namespace recc::rt
