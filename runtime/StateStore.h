// StateStore: the model state (ModelPlan::states) the runtime keeps across
// steps but no optimizer trains, one float tensor per StateSpec, in plan order:
//   running_stat  batch_norm's running mean/variance, running_mean's centres:
//                 initialized per spec.init (variances ones, means zeros) and
//                 replaced after each train step by the step's StateUpdate
//                 output of the same name (StepRunner).
//   ema           the EMA shadow of a dense parameter or of a table (`of`),
//                 starting as a copy of its source. After each optimizer step
//                 shadow = decay*shadow + (1-decay)*source:
//                 - a parameter's shadow: every element, every step;
//                 - a table's shadow: lazily, for the rows the step updated.
//                   A row the optimizer did not touch did not change (lazy
//                   Adam, Adagrad and SGD update touched rows only), so a
//                   dense EMA would have moved its shadow by the closed form
//                     shadow_t = row + decay^k * (shadow - row)
//                   over the k untouched steps. That catch-up is applied
//                   whenever a row is read (rowsAt), before its next update,
//                   and when a checkpoint is written: every row's shadow is
//                   exactly what a dense EMA of the whole table would hold,
//                   which is what a mean teacher expects. Without it, an id
//                   seen once every 10^4 steps would keep its random initial
//                   shadow for ever, however well its row is trained. The
//                   cost is one step counter per row.
#pragma once

#include "runtime/EmbeddingTable.h"
#include "runtime/ModelPlan.h"
#include "runtime/ParamStore.h"
#include "runtime/Tensor.h"

#include <span>
#include <string>
#include <vector>

namespace recc::rt {

class StateStore {
public:
  /// Allocates and initializes every state of `plan`; params and tables must
  /// be initialized already (an EMA shadow copies its source). Throws a
  /// RuntimeError naming a state whose source does not exist or differs in
  /// shape.
  void init(const ModelPlan& plan, const ParamStore& params,
            const std::vector<EmbeddingTable>& tables);

  int size() const { return static_cast<int>(Entries.size()); }
  /// Index of the state named `name`, or -1.
  int indexOf(const std::string& name) const;
  const StateSpec& spec(int i) const { return Entries[i].Spec; }
  Tensor& value(int i) { return Entries[i].Value; }
  const Tensor& value(int i) const { return Entries[i].Value; }
  /// Index of the EMA shadow of table `table`, or -1.
  int shadowOfTable(const std::string& table) const;
  /// An EMA shadow's source: a ParamStore index, or a table index if spec.table.
  int source(int i) const { return Entries[i].Source; }

  /// Rows `ids` of table shadow `i` as of step `now` (caught up), written like
  /// EmbeddingTable::gather (id -1 gives zeros).
  void rowsAt(int i, const EmbeddingTable& table, std::span<const int64_t> ids,
              int64_t now, float* out) const;
  /// The whole table shadow `i` as of step `now` (for checkpoints).
  std::vector<float> tableAt(int i, const EmbeddingTable& table, int64_t now) const;

  /// Optimizer step `t` is about to update rows `ids` (distinct, >= 0) of
  /// table `table`: brings their shadows up to step t-1 with the rows' values
  /// before the update.
  void beforeRowUpdate(const EmbeddingTable& table, std::span<const int64_t> ids, int64_t t);
  /// Step `t` updated those rows: shadow = decay*shadow + (1-decay)*row.
  void afterRowUpdate(const EmbeddingTable& table, std::span<const int64_t> ids, int64_t t);
  /// Step `t` updated the dense parameters: every parameter shadow moves.
  void afterDenseUpdate(const ParamStore& params);

  /// Table shadow `i`'s lazy state besides value(i): the step each row is
  /// current at. A checkpoint keeps both, so a resumed run catches rows up
  /// exactly when and as the uninterrupted one would (a catch-up split in two
  /// rounds differently from one).
  std::span<const int64_t> rowSteps(int i) const { return Entries[i].RowStep; }
  std::span<int64_t> rowSteps(int i) { return Entries[i].RowStep; }
  /// After a load: the stored values are current as of step `now`.
  void markCurrent(int64_t now);
  /// Re-copies EMA shadow `i` from its source (a transfer load without it).
  void resetShadow(int i, const ParamStore& params, const std::vector<EmbeddingTable>& tables);

private:
  struct Entry {
    StateSpec Spec;
    Tensor Value;
    int Source = -1;
    std::vector<int64_t> RowStep;  // table shadows: the step each row is current at
    std::vector<float> Powers;     // table shadows: decay^k for small k (decayPower)
  };
  /// float(decay^steps) for a shadow row `steps` updates behind, from the
  /// entry's table when steps is small: the value std::pow gives, without a
  /// pow call per row.
  static float decayPower(const Entry& e, int64_t steps);
  Entry* shadowEntry(const std::string& table);
  /// Prefetches the shadow and table rows of ids[j], if j < end and the id
  /// is not padding (the row loops' next rows).
  static void prefetchShadowRows(const Entry& e, const EmbeddingTable& table,
                                 std::span<const int64_t> ids, int64_t j, int64_t end);
  std::vector<Entry> Entries;
};

} // namespace recc::rt
