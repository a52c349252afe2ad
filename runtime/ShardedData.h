// ShardedData: a data set split over the ranks of a job (Cluster.h) by row
// range. Rank r reads rows [R*r/N, R*(r+1)/N) of the files (ReadOptions::
// shard), so the ranks' rows, in rank order, are the files' rows in order:
// global row g is the single-process run's row g.
//
// Training keeps the single-process batches: every rank computes the epoch's
// permutation of all R rows, and global batch b (B rows) is split into N
// slices of B/N, slice r trained by rank r. The rows of a slice live on
// whichever ranks read them; gatherStepRows sends each row to the rank that
// trains it (one all-to-all per step, of the columns the model reads).
// Evaluation gathers every rank's rows and outputs, so metrics such as AUC
// and GAUC are computed over all rows exactly (gatherAll).
#pragma once

#include "runtime/DataSet.h"
#include "runtime/FeatureTransform.h"
#include "runtime/TrainPosition.h"

#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace recc::rt {

/// Where each rank's rows sit among all ranks' rows.
class ShardLayout {
public:
  /// A collective call: every rank passes its own row count.
  explicit ShardLayout(int64_t localRows);
  int64_t globalRows() const { return First.back(); }
  int64_t firstRow(int rank) const { return First[size_t(rank)]; }
  int64_t rows(int rank) const { return First[size_t(rank) + 1] - First[size_t(rank)]; }
  /// The rank holding global row `g`.
  int owner(int64_t g) const;

private:
  std::vector<int64_t> First;  // per rank, then the total
};

/// Under mpirun, with at least a file per rank: rank r's consecutive range
/// [F·r/N, F·(r+1)/N) of the F files, which the other ranks never open.
std::vector<std::string> rankFiles(const std::vector<std::string>& files);

/// Appends the columns `plan` reads (features, labels and, with `groups`,
/// each group column's text) of `data`'s rows `rows` to `out`.
void packRows(const ModelPlan& plan, const DataSet& data, std::span<const int64_t> rows,
              bool groups, std::string& out);
/// Writes rows packed by packRows (the same `groups`) into rows `at` of
/// `into`, interning group text into its group ids; returns the bytes read.
size_t unpackRows(const ModelPlan& plan, std::string_view bytes, DataSet& into,
                  std::span<const int64_t> at, bool groups);

/// Fills `step` (B/N rows) with this rank's slice of the global batch
/// `batch` (B global row numbers): every rank sends the rows it holds to
/// the rank whose slice they are in. A collective call.
void gatherStepRows(const ModelPlan& plan, const ShardLayout& layout, const DataSet& shard,
                    std::span<const int64_t> batch, DataSet& step);

/// The statistics computeFeatureStats would give over all ranks' rows
/// (each rank's mean and squared deviations, combined in rank order).
std::vector<FeatureStats> globalFeatureStats(const ModelPlan& plan, const DataSet& shard);
/// Each rank's statistics of its `rows` rows, combined over all ranks the
/// same way. A collective call.
std::vector<FeatureStats> combineFeatureStats(const std::vector<FeatureStats>& local,
                                              int64_t rows);

/// The identity of all ranks' rows for a checkpoint's position: the rows in
/// all and rowFingerprint's hash of them (each rank's part, summed), which
/// is the same under any number of ranks and in one process
/// (TrainPosition.h).
DataFingerprint shardedFingerprint(const ModelPlan& plan, const DataSet& shard);
/// The identity of streamed data read by rank from its own files: every
/// rank's fingerprint, in rank order (the same files under another number of
/// ranks give another one). A collective call.
DataFingerprint rankedFingerprint(const DataFingerprint& mine);

/// All ranks' rows of `shard` in rank order (every column packRows carries,
/// group text included), on every rank. A collective call.
DataSet gatherAll(const ModelPlan& plan, const DataSet& shard);

} // namespace recc::rt
