// ModelState: plan validation and initialization; see ModelState.h.
#include "runtime/ModelState.h"

#include "runtime/Error.h"
#include "runtime/Init.h"

#include <set>

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
  if (f.kind == FeatureSpec::Kind::Dense)
    return;
  const TableSpec* table = findTable(plan, f.table);
  if (!table)
    fail("model plan: feature '{}' reads unknown table '{}'", f.name, f.table);
  if (f.vocab <= 0 || f.vocab > table->rows)
    fail("model plan: feature '{}' has vocabulary {} but table '{}' has {} rows",
         f.name, f.vocab, f.table, table->rows);
  if (f.kind == FeatureSpec::Kind::MultiCategorical && f.maxLen <= 0)
    fail("model plan: multi-valued feature '{}' needs maxLen > 0", f.name);
}

void validateMetric(const ModelPlan& plan, const MetricSpec& m) {
  if (m.kind != "auc" && m.kind != "gauc" && m.kind != "logloss")
    fail("model plan: metric '{}' has unknown kind '{}' (expected auc, gauc or logloss)",
         m.name, m.kind);
  if (m.kind == "gauc" && m.groupColumn.empty())
    fail("model plan: gauc metric '{}' needs a group column", m.name);
  auto hasLabel = [&](const std::string& name) {
    for (const LabelSpec& l : plan.labels)
      if (l.name == name)
        return true;
    return false;
  };
  if (!hasLabel(m.label))
    fail("model plan: metric '{}' uses unknown label '{}'", m.name, m.label);
  if (!m.filterLabel.empty() && !hasLabel(m.filterLabel))
    fail("model plan: metric '{}' filters on unknown label '{}'", m.name, m.filterLabel);
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
  return plan;
}
} // namespace

ModelState::ModelState(ModelPlan plan)
    : denseOptimizer(validated(plan).optimizer), Plan(std::move(plan)) {
  params.addAll(Plan.params, Plan.seed);
  for (const TableSpec& t : Plan.tables) {
    tables.emplace_back(t.name, t.rows, t.dim);
    initialize(t.init, t.name, Plan.seed, tables.back().weights());
  }
  stats.resize(Plan.features.size());
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
