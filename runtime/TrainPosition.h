// TrainPosition: where a training run stands, written into every checkpoint
// training writes (metadata "position", JSON) so that `--init` continues
// exactly where the run stopped, mid-epoch included:
//   {"last_epoch": 2, "epoch_step": 37, "epoch_batches": 94, "seed": 42,
//    "batch": 16, "data": [{"rows": 1500, "fingerprint": "9f3a..."}, ...]}
// plus "stream_buffer": ROWS for a source read through --stream-buffer, and
// "ranks": N for a run of N ranks under mpirun, and "fingerprints": "rows"
// when the data fingerprints are rowFingerprint's (any number of ranks).
// Everything else a step depends on is a function of counters the checkpoint
// already keeps: the epoch's permutation of (seed, epoch), a stream's batch
// and a step's dropout seed of (seed, step), the progress p of (step,
// last_epoch, epoch_batches). A mid-epoch resume therefore needs the same data
// (same rows in the same order: row count and a fingerprint of every column
// the model reads, per stream), seed and batch size; anything else is refused
// naming what differs. A checkpoint at an epoch boundary may resume on other
// data (continued training on a new day's data).
#pragma once

#include "runtime/DataSet.h"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace recc::rt {

/// The identity of a data set as training reads it.
struct DataFingerprint {
  int64_t rows = 0;
  uint64_t hash = 0;  ///< of every feature and label column, in plan order
  bool operator==(const DataFingerprint&) const = default;
};

/// Hashes the columns `plan` reads from `data` (parallel, deterministic).
DataFingerprint fingerprint(const ModelPlan& plan, const DataSet& data);

/// Like fingerprint, but a sum over the rows of a hash of (row number, the
/// row's columns): rows [first, first + data.rows()) of a larger data set
/// hash to parts that add up to the whole's, however it is split (under
/// mpirun each rank adds its rows, ShardedData.h).
DataFingerprint rowFingerprint(const ModelPlan& plan, const DataSet& data, int64_t first);

/// Folds `chunk` into `whole`, the fingerprint of data read chunk by chunk
/// (a streamed run's first pass): rows add up, hashes chain in order.
void addChunk(DataFingerprint& whole, const DataFingerprint& chunk);

struct TrainPosition {
  int64_t lastEpoch = 0;     ///< the epoch the run trains to
  int64_t epochStep = 0;     ///< batches of epoch `epoch + 1` done; 0 at a boundary
  int64_t epochBatches = 0;  ///< batches per epoch
  uint64_t seed = 0;
  int64_t batch = 0;         ///< rows per step of the source
  std::vector<DataFingerprint> data;  ///< the source's, then each stream's
  /// --stream-buffer's rows when the source was streamed (its order is the
  /// shuffle buffer's, and its fingerprint the first pass's); 0: in memory.
  int64_t streamBuffer = 0;
  /// The ranks that trained it under mpirun (1: one process).
  int64_t ranks = 1;
  /// The data fingerprints are rowFingerprint's, which do not depend on how
  /// the rows are split over ranks (written under mpirun, and by a run
  /// resumed from such a checkpoint); else fingerprint's.
  bool rowFingerprints = false;
};

/// The metadata key and its JSON value.
inline constexpr const char* kPositionKey = "position";
std::string positionJson(const TrainPosition& position);

/// The position in checkpoint metadata, if any; throws naming `path` if it
/// is malformed.
std::optional<TrainPosition> readPosition(const std::map<std::string, std::string>& meta,
                                          const std::string& path);

/// Throws unless a run at `now` (the same fields, as this run computes them)
/// can continue mid-epoch from `saved`, read from checkpoint `path`.
/// `dataNames` names the source's and each stream's data for the message.
void checkMidEpochResume(const TrainPosition& saved, const TrainPosition& now,
                         int64_t epoch, const std::string& path,
                         const std::vector<std::string>& dataNames);

} // namespace recc::rt
