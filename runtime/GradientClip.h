// GradientClip: `train { clip_norm = X }`, the global gradient-norm clipping of
// PyTorch's torch.nn.utils.clip_grad_norm_(model.parameters(), X) over every
// gradient one train step returns:
//   - each dense parameter's gradient (frozen parameters have none);
//   - each table's gradient as PyTorch's (non-sparse) nn.Embedding holds it:
//     one row per distinct id of the batch, the sum of the row gradients of
//     all its occurrences (in every feature that reads the table); padding
//     ids (-1) have none.
// norm = sqrt(sum of the squares of all those elements), accumulated in
// double; every gradient is then multiplied by min(1, X / (norm + 1e-6)).
// Scaling each occurrence's row by the factor scales the per-id sums by it,
// so the sparse updates see exactly the clipped gradient.
#pragma once

#include "runtime/EmbeddingTable.h"

#include <cstdint>
#include <span>

namespace recc::rt {

/// Sum of the squares of `n` floats, in double.
double squaredNorm(const float* x, int64_t n);

/// Sum of the squares of the per-id sums of a table's row gradients (rows of
/// `dim` floats, summed in run order): the squared norm of the table's
/// gradient.
double summedRowsSquaredNorm(const EmbeddingTable::RowRuns& runs, int64_t dim);

/// clip_grad_norm_'s factor: min(1, maxNorm / (norm + 1e-6)). A non-finite
/// norm gives NaN (the divergence check reports it before any update).
double clipFactor(double norm, double maxNorm);

/// A table's gradient, for the norm: its row runs and their width.
struct TableGradient {
  const EmbeddingTable::RowRuns* runs;
  int64_t dim;
};

/// The squared norms of the dense gradients and of the tables' gradients,
/// each computed by one chunk on the team's threads, then summed in the order
/// given, so the totals do not depend on which thread computed what.
struct SquaredNorms {
  double dense = 0, tables = 0;
};
SquaredNorms squaredNorms(std::span<const std::span<const float>> dense,
                          std::span<const TableGradient> tables);

/// Multiplies every float of `buffers` by `factor`, on the team's threads in
/// pieces of at most 16k floats (one thread scaling a DAMCAR generator step's
/// gradients took 0.4% of its samples while the other waited).
void scaleInPlace(std::span<const std::span<float>> buffers, float factor);

} // namespace recc::rt
