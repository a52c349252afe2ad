// StreamCycle: the batches a training step draws from a model's other input
// streams (`stream` blocks, docs/streams.md). An epoch is one pass over the
// source stream; every other stream cycles: its batches are consecutive runs
// of `batch` rows through an endless sequence of permutations of its rows, a
// fresh permutation (seeded by the plan seed, the stream and the cycle count)
// each time the previous one is exhausted. A batch that reaches the end of a
// permutation continues into the next one, so every batch is full and each
// row is seen once per cycle. Step t's batch depends only on (seed, stream,
// t): a resumed run (the checkpoint keeps the step count) goes on where the
// earlier one stopped, and the thread count changes nothing.
//
//   rows 3, batch 2:  step 0 = P0[0], P0[1];  step 1 = P0[2], P1[0];
//                     step 2 = P1[1], P1[2];  step 3 = P2[0], P2[1]; ...
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace recc::rt {

class StreamCycle {
public:
  /// Stream `stream` (>= 1) of `rows` rows (> 0), in batches of `batch` rows.
  StreamCycle(int64_t rows, int64_t batch, uint64_t seed, int stream);

  int64_t batchSize() const { return Batch; }
  /// The rows of step `step`'s batch (0-based over the whole training, all
  /// epochs); the span lives until the next call.
  std::span<const int64_t> batch(int64_t step);
  /// Which cycle (0-based) step `step`'s first row belongs to.
  int64_t cycleOf(int64_t step) const { return step * Batch / Rows; }

private:
  /// Order := the permutation of cycle `cycle`.
  void permute(int64_t cycle);

  int64_t Rows;
  int64_t Batch;
  uint64_t Key;
  int64_t Cycle = -1;            // the cycle Order holds
  std::vector<int64_t> Order;
  std::vector<int64_t> Out;
};

} // namespace recc::rt
