// Batcher: which data rows make up each batch of an epoch. Training shuffles
// every epoch with a permutation that depends only on (seed, epoch), so runs
// are reproducible and independent of the thread count. A step function
// compiled for one batch size (fixedBatch() > 0) cannot take a short batch:
// training then drops the last partial batch (the count is reported), and
// evaluation pads it by repeating the data set's row 0 and marks how many rows
// are real, so padded outputs are ignored.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace recc::rt {

class Batcher {
public:
  struct Options {
    int64_t batchSize = 256;
    bool shuffle = false;
    bool dropLast = false;  ///< drop a final partial batch
    bool padLast = false;   ///< pad a final partial batch to batchSize
    uint64_t seed = 0;
  };

  /// Training batches: shuffled; drops the last partial batch if the step
  /// function has a fixed batch (which then is the batch size).
  static Batcher forTraining(int64_t rows, int64_t planBatch, int64_t fixedBatch,
                             uint64_t seed);
  /// The number of batches forTraining makes of `rows` rows.
  static int64_t trainingBatches(int64_t rows, int64_t planBatch, int64_t fixedBatch);
  /// Evaluation batches: in file order; pads the last batch if fixed.
  static Batcher forEvaluation(int64_t rows, int64_t planBatch, int64_t fixedBatch);

  Batcher(int64_t rows, const Options& options);

  /// Sets the row order of `epoch` (a no-op without shuffling).
  void startEpoch(int64_t epoch);
  int64_t numBatches() const;
  int64_t batchSize() const { return Opts.batchSize; }
  /// Rows left out of every epoch by dropLast.
  int64_t droppedRows() const;

  struct Batch {
    std::span<const int64_t> rows;  ///< row indices, padding included
    int64_t valid;                  ///< the first `valid` rows are real
  };
  /// Batch `b` of the current epoch; the span lives until the next call.
  Batch batch(int64_t b);

private:
  int64_t Rows;
  Options Opts;
  std::vector<int64_t> Order;
  std::vector<int64_t> Padded;
};

} // namespace recc::rt
