// ShuffleBuffer: the shuffle of streaming training. Rows arrive in file order
// and leave in a seeded random order through a buffer of `capacity` rows:
// the first `capacity` rows fill it; after that each arriving row takes the
// place of a row drawn at random, which leaves; at the end of the epoch the
// rows left leave in random order. Draw k of an epoch is
// combine(combine(seed, epoch), k) (Random.h), so the order depends only on
// the seed, the epoch and the rows in order: not on chunk sizes or thread
// timing. A row can leave at most `capacity` rows before its place in the
// file, and rows of a file's end can only mix with the last `capacity` ones:
// a larger buffer shuffles better (docs/data.md). Memory: `capacity` rows.
#pragma once

#include "runtime/DataSet.h"

namespace recc::rt {

class ShuffleBuffer {
public:
  /// A buffer of `capacity` rows of `plan`'s features and labels.
  ShuffleBuffer(const ModelPlan& plan, int64_t capacity);

  /// Starts an epoch: empties the buffer and seeds the draws.
  void startEpoch(uint64_t seed, int64_t epoch);
  /// Adds row `row` of `chunk`; when the buffer was full, a drawn row leaves
  /// into row `outRow` of `out` and the result is true.
  bool push(const DataSet& chunk, int64_t row, DataSet& out, int64_t outRow);
  /// At the end of the data: moves a drawn row out into row `outRow` of
  /// `out`; false once the buffer is empty.
  bool drain(DataSet& out, int64_t outRow);

  int64_t capacity() const { return Capacity; }

private:
  int64_t draw(int64_t bound);

  const ModelPlan& Plan;
  int64_t Capacity;
  DataSet Rows;
  int64_t Size = 0;
  uint64_t Key = 0;
  uint64_t Draws = 0;
};

/// Copies row `from` of `src` to row `to` of `dst`: every feature, and the
/// labels both hold (group and kept columns are not copied).
void copyRow(const ModelPlan& plan, const DataSet& src, int64_t from, DataSet& dst, int64_t to);

} // namespace recc::rt
