// ModelState: everything that training changes and a checkpoint keeps: dense
// parameters, embedding tables, optimizer state, feature statistics, model
// state (running statistics, EMA shadows), and the global step and epoch
// counters. It is built from a ModelPlan (validated, then
// initialized deterministically from plan.seed), trained by the Trainer, and
// saved/loaded by Checkpoint. Evaluation and prediction need only this and an
// eval step function.
#pragma once

#include "runtime/DenseOptimizer.h"
#include "runtime/EmbeddingTable.h"
#include "runtime/FeatureTransform.h"
#include "runtime/ModelPlan.h"
#include "runtime/ParamStore.h"
#include "runtime/StateStore.h"

#include <string>
#include <vector>

namespace recc::rt {

/// Checks a plan's internal consistency (unique names, features referencing
/// existing tables with vocab <= rows, known initializers, optimizer, metric
/// kinds and labels, state kinds, shapes and decays); throws a RuntimeError naming the first problem.
void validatePlan(const ModelPlan& plan);

class ModelState {
public:
  /// Validates `plan` and initializes parameters and tables from plan.seed.
  explicit ModelState(ModelPlan plan);

  const ModelPlan& plan() const { return Plan; }

  ParamStore params;
  std::vector<EmbeddingTable> tables;  ///< in plan.tables order
  DenseOptimizer denseOptimizer;
  std::vector<FeatureStats> stats;     ///< in plan.features order
  StateStore states;                   ///< in plan.states order
  int64_t step = 0;   ///< optimizer steps applied so far (Adam's t after a step)
  int64_t epoch = 0;  ///< epochs completed
  /// Under mpirun --shard-tables: each rank's tables hold the rows it owns,
  /// and steps fetch the others' from their owners (ShardedTables.h).
  bool shardedTables = false;

  /// Index into `tables` of the table named `name`, or -1.
  int tableIndex(const std::string& name) const;
  /// Index of the plan feature named `name`, or -1.
  int featureIndex(const std::string& name) const;
  /// Index of the plan label named `name`, or -1.
  int labelIndex(const std::string& name) const;
  /// True if every feature with a transform has statistics.
  bool statsReady() const;

private:
  ModelPlan Plan;
};

} // namespace recc::rt
