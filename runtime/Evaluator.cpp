// Evaluator: see Evaluator.h. Outputs are collected for the real rows of each
// batch into per-output columns; metrics are then computed over the whole
// data set at once (AUC is not decomposable over batches, and the rows of one
// ranking request may lie in different batches).
#include "runtime/Evaluator.h"

#include "runtime/AtomicFile.h"
#include "runtime/Batcher.h"
#include "runtime/Error.h"
#include "runtime/Metrics.h"
#include "runtime/Random.h"
#include "runtime/StepRunner.h"

#include <nlohmann/json.hpp>
#include <tbb/global_control.h>

#include <cmath>
#include <functional>
#include <memory>

namespace recc::rt {
namespace {

/// Columns of every output (perRow values per data row, in data order).
struct Collected {
  std::vector<std::string> names;
  std::vector<int64_t> perRow;
  std::vector<std::vector<float>> values;
  double lossSum = 0;
  bool hasLoss = false;
};

std::unique_ptr<tbb::global_control> limitThreads(int threads) {
  if (threads <= 0)
    return nullptr;
  return std::make_unique<tbb::global_control>(
      tbb::global_control::max_allowed_parallelism, threads);
}

void checkStats(const ModelState& state) {
  const auto& features = state.plan().features;
  for (size_t f = 0; f < features.size(); ++f)
    if (needsStats(features[f]) && !state.stats[f].ready)
      fail("feature '{}' uses tanh_zscore but has no statistics: train the model or "
           "load a checkpoint first", features[f].name);
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
  c.hasLoss = runner.hasLoss();
  const uint64_t key = combine(plan.seed, hashString("eval"));
  for (int64_t b = 0; b < batcher.numBatches(); ++b) {
    Batcher::Batch batch = batcher.batch(b);
    runner.run(data, batch.rows, stepSeed(key, b));
    c.lossSum += double(runner.loss()) * double(batch.valid);
    std::vector<StepRunner::Output> outs = runner.outputs();
    for (size_t i = 0; i < outs.size(); ++i)
      if (outs[i].batched)
        c.values[i].insert(c.values[i].end(), outs[i].data,
                           outs[i].data + batch.valid * outs[i].perRow);
  }
  return c;
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

/// The top_k output of ranking metric `m` as ids; step buffers are float, so
/// ids arrive as floats and are rounded back (exact below 2^24).
std::vector<int64_t> topIdsFor(const Collected& c, const MetricSpec& m, int64_t& width) {
  size_t i = outputFor(c, m);
  width = c.perRow[i];
  if (width < 1)
    fail("metric '{}' ranks the ids in output '{}', which has no values per row", m.name,
         m.output);
  if (m.k > width)
    fail("metric '{}' has k = {}, but output '{}' retrieves only {} items per row", m.name,
         m.k, m.output, width);
  std::vector<int64_t> ids(c.values[i].size());
  for (size_t j = 0; j < ids.size(); ++j) {
    float v = c.values[i][j];
    // A NaN id would match nothing silently; padding is any negative id.
    if (!std::isfinite(v))
      fail("metric '{}': output '{}' holds a non-finite item id at row {}", m.name,
           m.output, int64_t(j) / width);
    ids[j] = int64_t(std::llround(v));
  }
  return ids;
}

MetricResult rankingMetric(const ModelState& state, const Collected& c, const DataSet& data,
                           const MetricSpec& m, std::span<const float> filter) {
  int64_t width = 0;
  std::vector<int64_t> top = topIdsFor(c, m, width);
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

} // namespace

EvalResult evaluate(ModelState& state, StepFunction& evalStep, const DataSet& data,
                    int threads) {
  auto limit = limitThreads(threads);
  Collected c = runEval(state, evalStep, data);
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
      std::span<const int64_t> groups;
      if (m.kind == "gauc")
        groups = data.groups(m.groupColumn);
      mr = computeMetric(m, scoresFor(c, m), labelsFor(state, data, m, m.label), filter,
                         groups);
    }
    r.metrics[m.name] = mr.value;
    if (!mr.note.empty())
      r.notes[m.name] = mr.note;
  }
  return r;
}

void predict(ModelState& state, StepFunction& evalStep, const DataSet& data,
             const std::string& csvPath, int threads) {
  auto limit = limitThreads(threads);
  Collected c = runEval(state, evalStep, data);
  std::string header;
  for (size_t i = 0; i < c.names.size(); ++i)
    for (int64_t k = 0; k < c.perRow[i]; ++k)
      header += fmt::format("{}{}", header.empty() ? "" : ",",
                            c.perRow[i] == 1 ? c.names[i] : fmt::format("{}_{}", c.names[i], k));
  if (header.empty())
    fail("predict: the eval step has no per-row outputs");
  AtomicFileWriter out(csvPath);
  out.write(header + "\n");
  fmt::memory_buffer line;
  for (int64_t r = 0; r < data.rows(); ++r) {
    line.clear();
    for (size_t i = 0; i < c.names.size(); ++i)
      for (int64_t k = 0; k < c.perRow[i]; ++k)
        fmt::format_to(std::back_inserter(line), "{}{}", line.size() ? "," : "",
                       c.values[i][r * c.perRow[i] + k]);
    line.push_back('\n');
    out.write(line.data(), line.size());
  }
  out.commit();
}

void writeMetricsJson(const std::string& path, const ModelState& state,
                      const EvalResult& result, const std::string& dataName) {
  auto number = [](double v) {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
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

} // namespace recc::rt
