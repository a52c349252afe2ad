// Batcher: see Batcher.h. The shuffle is Fisher-Yates driven by the
// counter-based generator of Random.h.
#include "runtime/Batcher.h"

#include "runtime/Random.h"

#include <algorithm>
#include <numeric>

namespace recc::rt {

Batcher Batcher::forTraining(int64_t rows, int64_t planBatch, int64_t fixedBatch,
                             uint64_t seed) {
  Options o;
  o.batchSize = fixedBatch > 0 ? fixedBatch : planBatch;
  o.shuffle = true;
  o.dropLast = fixedBatch > 0;
  o.seed = seed;
  return Batcher(rows, o);
}

int64_t Batcher::trainingBatches(int64_t rows, int64_t planBatch, int64_t fixedBatch) {
  if (fixedBatch > 0)
    return rows / fixedBatch;
  return (rows + planBatch - 1) / planBatch;
}

Batcher Batcher::forEvaluation(int64_t rows, int64_t planBatch, int64_t fixedBatch) {
  Options o;
  o.batchSize = fixedBatch > 0 ? fixedBatch : planBatch;
  o.padLast = fixedBatch > 0;
  return Batcher(rows, o);
}

Batcher::Batcher(int64_t rows, const Options& options) : Rows(rows), Opts(options) {
  Order.resize(static_cast<size_t>(rows));
  std::iota(Order.begin(), Order.end(), int64_t{0});
}

void Batcher::startEpoch(int64_t epoch) {
  if (!Opts.shuffle)
    return;
  std::iota(Order.begin(), Order.end(), int64_t{0});
  const uint64_t key = combine(Opts.seed, static_cast<uint64_t>(epoch));
  for (int64_t i = Rows - 1; i > 0; --i) {
    int64_t j = static_cast<int64_t>(combine(key, i) % static_cast<uint64_t>(i + 1));
    std::swap(Order[i], Order[j]);
  }
}

int64_t Batcher::numBatches() const {
  if (Opts.dropLast)
    return Rows / Opts.batchSize;
  return (Rows + Opts.batchSize - 1) / Opts.batchSize;
}

int64_t Batcher::droppedRows() const {
  return Opts.dropLast ? Rows % Opts.batchSize : 0;
}

Batcher::Batch Batcher::batch(int64_t b) {
  const int64_t begin = b * Opts.batchSize;
  const int64_t n = std::min(Opts.batchSize, Rows - begin);
  std::span<const int64_t> rows(Order.data() + begin, static_cast<size_t>(n));
  if (n == Opts.batchSize || !Opts.padLast)
    return {rows, n};
  Padded.assign(rows.begin(), rows.end());
  Padded.resize(static_cast<size_t>(Opts.batchSize), 0);  // repeat row 0
  return {Padded, n};
}

} // namespace recc::rt
