// StreamCycle: see StreamCycle.h. The permutation is the Batcher's
// Fisher-Yates shuffle keyed by (seed, stream, cycle).
#include "runtime/StreamCycle.h"

#include "runtime/Error.h"
#include "runtime/Random.h"

#include <numeric>

namespace recc::rt {

StreamCycle::StreamCycle(int64_t rows, int64_t batch, uint64_t seed, int stream)
    : Rows(rows), Batch(batch),
      Key(combine(combine(seed, hashString("stream")), static_cast<uint64_t>(stream))),
      Out(static_cast<size_t>(batch)) {
  if (rows <= 0 || batch <= 0)
    fail("stream {}: {} rows in batches of {}: a cycled stream needs rows and a positive "
         "batch", stream, rows, batch);
}

void StreamCycle::permute(int64_t cycle) {
  Order.resize(static_cast<size_t>(Rows));
  std::iota(Order.begin(), Order.end(), int64_t{0});
  const uint64_t key = combine(Key, static_cast<uint64_t>(cycle));
  for (int64_t i = Rows - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(combine(key, i) % static_cast<uint64_t>(i + 1));
    std::swap(Order[i], Order[j]);
  }
  Cycle = cycle;
}

std::span<const int64_t> StreamCycle::batch(int64_t step) {
  const int64_t first = step * Batch;
  for (int64_t i = 0; i < Batch; ++i) {
    const int64_t pos = first + i;
    if (pos / Rows != Cycle)
      permute(pos / Rows);
    Out[static_cast<size_t>(i)] = Order[static_cast<size_t>(pos % Rows)];
  }
  return Out;
}

} // namespace recc::rt
