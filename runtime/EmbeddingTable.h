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
#pragma once

#include "runtime/OptimizerMath.h"
#include "runtime/Tensor.h"

#include <span>
#include <string>

namespace recc::rt {

class EmbeddingTable {
public:
  EmbeddingTable(std::string name, int64_t rows, int64_t dim);

  const std::string& name() const { return Name; }
  int64_t rows() const { return Weights.dim(0); }
  int64_t dim() const { return Weights.dim(1); }
  Tensor& weights() { return Weights; }
  const Tensor& weights() const { return Weights; }

  /// Writes row ids[i] to out[i*dim .. (i+1)*dim) for every i; id -1 gives
  /// zeros. A [B,L] id matrix is passed flattened and yields [B,L,dim].
  /// Ids must be in [-1, rows) (the data reader checks them).
  void gather(std::span<const int64_t> ids, float* out) const;

  /// Gradients for rows: grads[i*dim ..] belongs to ids[i]; id -1 is skipped.
  struct RowGradients {
    std::span<const int64_t> ids;
    const float* grads;
  };
  /// Sums the gradients of all sources per distinct id, then applies one
  /// optimizer update (global step `t`, 1-based) to each touched row.
  void applyGradients(std::span<const RowGradients> sources,
                      const OptimizerSpec& spec, int64_t t);

  /// True if optimizer state exists (after the first update or a load).
  bool hasOptimizerState(OptimizerKind kind) const;
  /// State slot `s`, allocated at its initial value if needed ([rows, dim]).
  Tensor& slot(const OptimizerSpec& spec, int s);
  /// State slot `s` if allocated, else null.
  const Tensor* slotIfAllocated(int s) const {
    return Slots[s].empty() ? nullptr : &Slots[s];
  }

private:
  std::string Name;
  Tensor Weights;
  Tensor Slots[2];
};

} // namespace recc::rt
