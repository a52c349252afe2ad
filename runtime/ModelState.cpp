// ModelState: plan validation and initialization; see ModelState.h.
#include "runtime/ModelState.h"

#include "runtime/CheckedMath.h"
#include "runtime/Error.h"
#include "runtime/Init.h"
#include "runtime/MemoryCheck.h"
#include "runtime/Metrics.h"
#include "runtime/OptimizerMath.h"

#include <new>
#include <optional>
#include <set>
#include <string>

namespace recc::rt {
namespace {

void checkUnique(std::set<std::string>& seen, const std::string& name, const char* what) {
  if (name.empty())
    fail("model plan: {} with an empty name", what);
  if (!seen.insert(name).second)
    fail("model plan: duplicate {} '{}'", what, name);
}

const TableSpec* findTable(const ModelPlan& plan, const std::string& name) {
  for (const TableSpec& t : plan.tables)
    if (t.name == name)
      return &t;
  return nullptr;
}

void validateFeature(const ModelPlan& plan, const FeatureSpec& f) {
  checkTransform(f);
  checkLookup(f);
  if (f.kind == FeatureSpec::Kind::Dense)
    return;
  // An id input read only as raw ids (one_hot, `by =`) has no table.
  if (!f.table.empty()) {
    const TableSpec* table = findTable(plan, f.table);
    if (!table)
      fail("model plan: feature '{}' reads unknown table '{}'", f.name, f.table);
    if (f.vocab <= 0 || f.vocab > table->rows)
      fail("model plan: feature '{}' has vocabulary {} but table '{}' has {} rows",
           f.name, f.vocab, f.table, table->rows);
  }
  if (f.kind == FeatureSpec::Kind::MultiCategorical && f.maxLen <= 0)
    fail("model plan: multi-valued feature '{}' needs maxLen > 0", f.name);
}

void validateMetric(const ModelPlan& plan, const MetricSpec& m) {
  const bool ranking = isRankingMetric(m.kind);
  if (!isBinaryMetric(m.kind) && !ranking)
    fail("model plan: metric '{}' has unknown kind '{}' (expected auc, gauc, logloss, ne, "
         "calibration, ctr, pctr, recall, precision, hitrate, ndcg, mrr or map)",
         m.name, m.kind);
  if (m.kind == "gauc" && m.groupColumn.empty())
    fail("model plan: gauc metric '{}' needs a group column", m.name);
  GaucReduce reduce;
  if (!m.reduce.empty() && (m.kind != "gauc" || !parseGaucReduce(m.reduce, reduce)))
    fail("model plan: metric '{}' has reduce '{}'; only gauc has one, and it is mean, "
         "mean_by_sample_num or mean_by_positive_num", m.name, m.reduce);
  auto hasLabel = [&](const std::string& name) {
    for (const LabelSpec& l : plan.labels)
      if (l.name == name)
        return true;
    return false;
  };
  if (ranking) {
    // The evaluator compares retrieved ids with the ids the reader parsed for
    // this column, so it must be read as a single-id feature.
    if (targetFeature(plan, m) < 0)
      fail("model plan: ranking metric '{}' needs target column '{}' to be the column of "
           "a single-id categorical feature",
           m.name, m.targetColumn);
    if (m.k < 0)
      fail("model plan: ranking metric '{}' has k = {}; expected k >= 0", m.name, m.k);
  } else if (!hasLabel(m.label))
    fail("model plan: metric '{}' uses unknown label '{}'", m.name, m.label);
  if (!m.filterLabel.empty() && !hasLabel(m.filterLabel))
    fail("model plan: metric '{}' filters on unknown label '{}'", m.name, m.filterLabel);
}

void validateState(const StateSpec& s) {
  if (s.kind != "running_stat" && s.kind != "ema")
    fail("model plan: state '{}' has unknown kind '{}' (expected running_stat or ema)", s.name,
         s.kind);
  for (int64_t d : s.shape)
    if (d <= 0)
      fail("model plan: state '{}' has invalid shape {}", s.name, shapeString(s.shape));
  if (!(s.decay >= 0 && s.decay <= 1))
    fail("model plan: state '{}' has decay {}; expected a value in [0, 1]", s.name, s.decay);
  if (s.kind == "ema" && s.of.empty())
    fail("model plan: EMA state '{}' names no source ('of')", s.name);
}

} // namespace

void validatePlan(const ModelPlan& plan) {
  std::set<std::string> features, labels, stored, metrics;
  for (const FeatureSpec& f : plan.features) {
    checkUnique(features, f.name, "feature");
    validateFeature(plan, f);
  }
  for (const LabelSpec& l : plan.labels)
    checkUnique(labels, l.name, "label");
  // Tables and parameters share the checkpoint's namespace.
  for (const TableSpec& t : plan.tables) {
    checkUnique(stored, t.name, "table or parameter");
    if (t.rows <= 0 || t.dim <= 0)
      fail("model plan: table '{}' has invalid size {} x {}", t.name, t.rows, t.dim);
  }
  for (const ParamSpec& p : plan.params)
    checkUnique(stored, p.name, "table or parameter");
  std::set<std::string> states;
  for (const StateSpec& s : plan.states) {
    checkUnique(states, s.name, "state");
    validateState(s);
    const TableSpec* source = s.table ? findTable(plan, s.of) : nullptr;
    if (source && source->dynamic)
      fail("model plan: state '{}' is an EMA shadow of table '{}', which is dynamic; a dynamic "
           "table has no shadow (declare the table 'dense')", s.name, s.of);
  }
  for (const MetricSpec& m : plan.metrics) {
    checkUnique(metrics, m.name, "metric");
    validateMetric(plan, m);
  }
  optimizerKind(plan.optimizer.kind);
  if (plan.batchSize <= 0)
    fail("model plan: batch size must be positive, got {}", plan.batchSize);
}

namespace {

const ModelPlan& validated(const ModelPlan& plan) {
  validatePlan(plan);
  checkMemory(plan);
  return plan;
}
} // namespace

ModelState::ModelState(ModelPlan plan)
    : denseOptimizer(validated(plan).optimizer), Plan(std::move(plan)) {
  params.addAll(Plan.params, Plan.seed);
  for (const TableSpec& t : Plan.tables) {
    if (t.dynamic) {  // no row yet: each starts at its initial value when touched
      tables.push_back(EmbeddingTable::dynamic(t.name, t.rows, t.dim, t.init, Plan.seed,
                                               Plan.optimizer));
      continue;
    }
    try {
      tables.emplace_back(t.name, t.rows, t.dim);
    } catch (const std::bad_alloc&) {
      // The memory check passed, but another process may have taken the
      // memory since: name what could not be allocated.
      fail("model '{}': out of memory allocating table '{}' [{}, {}] ({})", Plan.model, t.name,
           t.rows, t.dim, formatBytes(4.0 * (double)t.rows * (double)t.dim));
    }
    initialize(t.init, t.name, Plan.seed, tables.back().weights());
  }
  stats.resize(Plan.features.size());
  states.init(Plan, params, tables);
}

int ModelState::tableIndex(const std::string& name) const {
  for (size_t i = 0; i < tables.size(); ++i)
    if (tables[i].name() == name)
      return static_cast<int>(i);
  return -1;
}

int ModelState::featureIndex(const std::string& name) const {
  for (size_t i = 0; i < Plan.features.size(); ++i)
    if (Plan.features[i].name == name)
      return static_cast<int>(i);
  return -1;
}

int ModelState::labelIndex(const std::string& name) const {
  for (size_t i = 0; i < Plan.labels.size(); ++i)
    if (Plan.labels[i].name == name)
      return static_cast<int>(i);
  return -1;
}

bool ModelState::statsReady() const {
  for (size_t f = 0; f < Plan.features.size(); ++f)
    if (needsStats(Plan.features[f]) && !stats[f].ready)
      return false;
  return true;
}

} // namespace recc::rt
