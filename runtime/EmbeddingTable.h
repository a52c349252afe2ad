// EmbeddingTable: a rows x dim float table read by id, with sparse optimizer
// updates. Compiled step functions never see a table: the runtime gathers the
// rows a batch needs into a dense buffer, the step returns gradients for those
// rows, and the table applies them. Per-step work is proportional to the ids in
// the batch, never to the table size, so tables of 10^7 rows cost only memory:
//   - gather: id -1 (padding) yields a zero row;
//   - update: duplicate ids are summed first (in a fixed order, so results are
//     deterministic), then each distinct row gets one optimizer update;
//   - Adam is lazy (TF LazyAdam / torch SparseAdam): only touched rows' moments
//     decay, with bias correction from the global step; Adagrad and SGD update
//     touched rows only, which is exact for them.
//
// A table is dense (one [rows, dim] buffer) or dynamic (TableSpec::dynamic,
// DynamicRows.h): a dynamic table holds only the rows an update has touched,
// each with its optimizer state, so 10^8-row tables cost memory in proportion
// to the rows the data uses. Both kinds compute the same values:
//   - a row never touched reads as its initial value, which depends only on
//     (seed, table name, id) and equals the dense table's (Init.h); gather
//     computes it without inserting the row, so evaluation and prediction of
//     unseen ids never grow the table;
//   - an update inserts the rows it touches (in increasing id order, after
//     looking every distinct id up in parallel), initializes the new ones and
//     their optimizer state, then applies the same per-row rule as a dense
//     table (OptimizerMath.h).
#pragma once

#include "runtime/DynamicRows.h"
#include "runtime/Init.h"
#include "runtime/OptimizerMath.h"
#include "runtime/Tensor.h"

#include <memory>
#include <span>
#include <string>
#include <vector>

namespace recc::rt {

class EmbeddingTable {
public:
  /// A dense table, zero-filled.
  EmbeddingTable(std::string name, int64_t rows, int64_t dim);
  /// A dynamic table whose rows start at `init` (seeded by `seed` and the
  /// table's name) with the state of `optimizer`. Holds no row yet.
  static EmbeddingTable dynamic(std::string name, int64_t rows, int64_t dim,
                                const InitSpec& init, uint64_t seed,
                                const OptimizerSpec& optimizer);

  const std::string& name() const { return Name; }
  int64_t rows() const { return Rows; }
  int64_t dim() const { return Dim; }
  bool isDynamic() const { return Dynamic != nullptr; }
  /// The dense weights [rows, dim]; a dynamic table has none (RuntimeError).
  Tensor& weights();
  const Tensor& weights() const;
  /// The rows of a dynamic table (null for a dense one).
  DynamicRows* dynamicRows() { return Dynamic.get(); }
  const DynamicRows* dynamicRows() const { return Dynamic.get(); }
  /// A dynamic table's row `id` as it starts, before any update.
  void initialRow(int64_t id, float* out) const { Init->row(id, Dim, out); }
  /// The optimizer state of a row not yet updated (dynamic tables).
  float initialSlotValue() const { return InitialSlot; }

  /// Writes row ids[i] to out[i*dim .. (i+1)*dim) for every i; id -1 gives
  /// zeros. A [B,L] id matrix is passed flattened and yields [B,L,dim].
  /// Ids must be in [-1, rows) (the data reader checks them).
  void gather(std::span<const int64_t> ids, float* out) const;

  /// Gradients for rows: grads[i*dim ..] belongs to ids[i]; id -1 is skipped.
  struct RowGradients {
    std::span<const int64_t> ids;
    const float* grads;
  };
  /// Row gradients sorted by (id, place among the sources' valid ids), so
  /// that equal ids form runs: run k is grads[start[k] .. start[k+1]) of
  /// ids[k]. A step sorts each table's ids once (sortRows); the clip norm,
  /// the EMA shadows and the update all walk these runs.
  struct RowRuns {
    std::vector<int64_t> ids;         ///< the distinct ids, increasing
    std::vector<size_t> start;        ///< ids.size() + 1 run boundaries
    std::vector<const float*> grads;  ///< gradient rows, in run order
  };
  /// The runs of `sources` (id -1 skipped).
  RowRuns sortRows(std::span<const RowGradients> sources) const;

  /// Sums the gradients of all sources per distinct id, then applies one
  /// optimizer update (global step `t`, 1-based) to each touched row.
  void applyGradients(std::span<const RowGradients> sources,
                      const OptimizerSpec& spec, int64_t t) {
    applyGradients(sortRows(sources), spec, t);
  }
  /// The same from the runs of sortRows.
  void applyGradients(const RowRuns& runs, const OptimizerSpec& spec, int64_t t);

  /// True if optimizer state exists (after the first update or a load).
  bool hasOptimizerState(OptimizerKind kind) const;
  /// State slot `s` of a dense table, allocated at its initial value if
  /// needed ([rows, dim]).
  Tensor& slot(const OptimizerSpec& spec, int s);
  /// State slot `s` if allocated, else null (always null when dynamic).
  const Tensor* slotIfAllocated(int s) const {
    return Slots[s].empty() ? nullptr : &Slots[s];
  }

private:
  EmbeddingTable() = default;
  void gatherDynamic(std::span<const int64_t> ids, float* out) const;
  /// The records of `ids` (distinct, increasing) in a dynamic table,
  /// inserting and initializing the rows not held yet.
  std::vector<float*> touchRows(std::span<const int64_t> ids);

  std::string Name;
  int64_t Rows = 0, Dim = 0;
  Tensor Weights;
  Tensor Slots[2];
  std::unique_ptr<DynamicRows> Dynamic;
  std::shared_ptr<const ElementInit> Init;  // dynamic: a row's initial value
  float InitialSlot = 0;
};

/// Row gradients summed per distinct id: ids increasing, grads[i*dim ..]
/// the sum of every gradient of ids[i] (in the order of the sources and
/// their positions). Under mpirun a rank sends these instead of one row per
/// id occurrence (StepRunner.h).
struct SummedRows {
  std::vector<int64_t> ids;
  std::vector<float> grads;
};
/// Sums `sources` (of a table of `rows` rows and `dim` columns; id -1 skipped).
SummedRows sumRowGradients(std::span<const EmbeddingTable::RowGradients> sources,
                           int64_t rows, int64_t dim);

} // namespace recc::rt
