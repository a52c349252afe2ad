// Trainer: the training loop. Each epoch it shuffles the training rows, and
// per batch fills the train step's inputs (with the training progress
// p = step / total steps), runs it, checks the loss, and applies the returned
// state updates and gradients (dense optimizer on parameters, lazy sparse
// updates on tables, then EMA shadows). Evaluation feeds p = 1. After each
// epoch it optionally evaluates and writes a checkpoint; between steps a
// CheckpointPolicy writes checkpoints every N steps, evaluates, keeps the
// best model and stops early (--max-steps, --early-stop). A run resumed from
// a mid-epoch checkpoint goes on with the next batch of the same
// permutation (TrainPosition.h). A model with other input streams (`stream` blocks) draws one
// batch of each per step besides the source's, from its own data set, cycled
// and reshuffled each time it is exhausted (StreamCycle.h); the epoch and
// the progress p follow the source. A non-finite loss or output stops
// training with an error naming the step, the loss term (or output), and the
// first op that went bad when the options carry an inspector (Divergence.h);
// that step's update is not applied and no checkpoint is written, so the last
// good checkpoint on disk survives.
//
// Under mpirun (Cluster.h) each rank holds its row range of the training
// data, and the batches are those of all ranks' rows: each rank trains its
// slice of every batch and the gradients are averaged (ShardedData.h).
//
// Typical driver:
//   ModelState state(plan);                 // or loadCheckpoint(path, state)
//   Trainer trainer(state, *trainFn, *evalFn, {.epochs = 3, .checkpointPath = out});
//   trainer.train(trainData, &evalData);
//   writeMetricsJson(metricsPath, state, trainer.evaluate(testData));
#pragma once

#include "runtime/CheckpointPolicy.h"
#include "runtime/CsvReader.h"
#include "runtime/DataSet.h"
#include "runtime/Evaluator.h"
#include "runtime/ModelState.h"
#include "runtime/Progress.h"
#include "runtime/ShardedData.h"
#include "runtime/StepRunner.h"
#include "runtime/StreamCycle.h"
#include "runtime/StepFunction.h"
#include "runtime/StepInspector.h"
#include "runtime/TrainLog.h"

#include <cstdio>
#include <memory>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace recc::rt {

struct TrainOptions {
  int64_t epochs = 0;           ///< epochs to run; 0 means plan.epochs (see train())
  int threads = 0;              ///< TBB and OpenMP threads (ThreadLimit); 0 means all cores
  std::string checkpointPath;   ///< written after every epoch; empty: none
  std::FILE* log = stderr;      ///< progress and epoch summaries; null: silent
  double plainProgressInterval = 10.0;  ///< seconds between lines when not a tty
  /// Replays a step that went bad to name the op at fault (Divergence.h); null: none.
  StepInspector* inspector = nullptr;
  NormCheck norms;              ///< --check-norms (needs an inspector)
  /// --log: the training curve as JSON lines (TrainLog.h); null: none.
  TrainLog* trainLog = nullptr;
  /// --checkpoint-every, --eval-every, --keep-best, --early-stop, --max-steps
  /// (CheckpointPolicy.h); their path is checkpointPath.
  CheckpointOptions checkpoints;
  /// The metadata of the --init checkpoint the state was loaded from, and its
  /// path: training continues at its position (TrainPosition.h; mid-epoch
  /// from the next batch) with its best evaluation. Empty: a fresh run.
  std::map<std::string, std::string> resumeMeta;
  std::string resumePath;
  /// Names of the source's and each stream's data, for messages.
  std::vector<std::string> dataNames;
};

struct EpochReport {
  int64_t epoch;          ///< 1-based, counting epochs of earlier runs
  int64_t steps;
  int64_t droppedRows;    ///< rows left out by a fixed-batch step
  double meanLoss;        ///< mean train Loss over the epoch's steps
  double seconds;
  double samplesPerSecond;
  std::optional<EvalResult> eval;  ///< if an eval data set was given
  /// --check-norms: the largest row norm seen (Divergence.h); clip_norm:
  /// the gradient norms (GradientClip.h). Empty without either.
  std::string norms;
  /// Batches of the epoch done when training stopped in its middle
  /// (--max-steps, --early-stop); 0: the epoch completed.
  int64_t stoppedAt = 0;
  /// Under mpirun: the ranks and the bytes rank 0 sent per step (rows,
  /// gradients); empty in one process.
  std::string traffic;
};

/// Training data read as a stream (docs/data.md, `--stream-buffer`): the
/// files, read again each epoch in chunks through a shuffle buffer, and what
/// a first pass over them found (StreamSurvey.h).
struct StreamedData {
  std::vector<std::string> files;
  ReadOptions read;
  int64_t bufferRows = 0;   ///< shuffle buffer (ShuffleBuffer.h)
  int64_t chunkRows = 0;    ///< rows parsed at a time by the reader thread
  int64_t rows = 0;         ///< rows of all files (the first pass)
  std::vector<FeatureStats> stats;  ///< of the source's features (the first pass)
  /// The rows in file order, as parsed chunk by chunk (the first pass); a
  /// mid-epoch resume checks it (TrainPosition.h). Under mpirun: every
  /// rank's, in rank order (rankedFingerprint).
  DataFingerprint fingerprint;
  /// Under mpirun, where each rank streams its own files: every rank's rows.
  std::vector<int64_t> rankRows;
};

class Trainer {
public:
  /// `trainStep` is bound to plan.trainStep, `evalStep` to plan.evalStep.
  Trainer(ModelState& state, StepFunction& trainStep, StepFunction& evalStep,
          TrainOptions options = {});

  /// Trains for options.epochs epochs (continuing state.epoch; an
  /// interrupted epoch of a resumed run counts as one, and without
  /// options.epochs an unfinished resumed run goes on to its last epoch),
  /// or until the checkpoint policy stops it. `streams`
  /// holds the data of each of the plan's other streams, in order. Computes
  /// feature statistics (each feature's from its stream's data) if the
  /// state has none yet. Throws a RuntimeError on a non-finite loss or bad
  /// input.
  std::vector<EpochReport> train(const DataSet& train, const DataSet* eval = nullptr,
                                 std::vector<const DataSet*> streams = {});

  /// Trains like train() on data streamed from files (TrainerStream.cpp):
  /// memory holds the shuffle buffer and a few chunks, not the data set;
  /// parsing runs on a reader thread, overlapped with the steps. Batches
  /// depend only on the seed, the epoch and the files (ShuffleBuffer.h).
  std::vector<EpochReport> trainStreamed(const StreamedData& train,
                                         const DataSet* eval = nullptr,
                                         std::vector<const DataSet*> streams = {});

  /// Metrics of the plan over `data` with the eval step.
  EvalResult evaluate(const DataSet& data);
  /// Writes the eval step's outputs for every row of `data` as CSV.
  void predict(const DataSet& data, const std::string& csvPath);

  ModelState& state() { return State; }
  /// Why the last train() stopped before its last epoch; empty if it did not.
  const std::string& stopReason() const { return Stopped; }
  /// The best evaluation of the last train() under --keep-best.
  const std::optional<BestEval>& best() const { return Best; }

private:
  EpochReport runEpoch(const DataSet& train, const std::vector<const DataSet*>& streams,
                       int64_t lastEpoch, ProgressLine& progress, CheckpointPolicy& policy,
                       int64_t firstBatch);
  EpochReport runStreamedEpoch(const StreamedData& train, const std::vector<const DataSet*>& streams,
                               int64_t lastEpoch, ProgressLine& progress,
                               CheckpointPolicy& policy, int64_t firstBatch);
  /// The names of the source's (`source`) and each stream's data for
  /// messages, unless the options name them.
  std::vector<std::string> dataNames(const std::string& source,
                                     const std::vector<const DataSet*>& streams) const;
  /// Takes `fresh` statistics (the source's) for features that have none;
  /// a stream's features take those of its data set.
  void adoptStats(std::vector<FeatureStats> fresh, const std::vector<const DataSet*>& streams);
  /// One epoch from batch `firstBatch` (a resumed epoch's next), stepping
  /// the policy after each step.
  using EpochRunner = std::function<EpochReport(int64_t lastEpoch, ProgressLine&,
                                                CheckpointPolicy&, int64_t firstBatch)>;
  /// The run's position at its start (`now`: this run's, without the epoch
  /// step); checks a mid-epoch `saved` position against it and returns the
  /// batch to start with.
  int64_t resumeAt(const TrainPosition& now, const std::optional<TrainPosition>& saved,
                   const std::vector<std::string>& dataNames);
  /// The epochs from the resumed position: each run by `runOne`, then
  /// summarized, evaluated, judged by the checkpoint policy. `position`
  /// gives this run's position for its last epoch.
  std::vector<EpochReport> epochLoop(const EpochRunner& runOne, const DataSet* eval,
                                     const std::function<TrainPosition(int64_t)>& position,
                                     const std::vector<std::string>& dataNames);
  /// This in-memory run's position for `lastEpoch` (TrainPosition.h).
  TrainPosition positionOf(const DataSet& train, const std::vector<const DataSet*>& streams,
                           int64_t lastEpoch, bool fingerprints);

  /// Under mpirun (ShardedData.h): where the ranks' rows of the source and
  /// of each stream lie, checked against the plan's batches.
  void shardOver(const DataSet& train, const std::vector<const DataSet*>& streams);
  /// Under mpirun: this rank's slice of the source's `batch` and of each
  /// stream's batch of the step, gathered from the ranks holding the rows.
  std::vector<StepRunner::StreamRows> shardedStep(const DataSet& train,
                                                  const std::vector<const DataSet*>& streams,
                                                  std::span<const int64_t> batch,
                                                  std::vector<StreamCycle>& cycles,
                                                  const std::vector<int64_t>& slice);
  /// The rows the epoch's batches are drawn from, and their fixed size (all
  /// ranks' under mpirun).
  int64_t batchedRows(const DataSet& train) const;
  int64_t fixedBatch() const;

  ModelState& State;
  StepFunction& TrainFn;
  StepFunction& EvalFn;
  TrainOptions Options;
  std::string Stopped;
  std::optional<BestEval> Best;
  /// Under mpirun, per stream (the source first): where the ranks' rows
  /// lie, this rank's slice of a step's batch, and the global batch size.
  struct ShardedBatches {
    std::vector<ShardLayout> layouts;
    std::vector<DataSet> slices;
    std::vector<int64_t> globalBatch;
  };
  std::optional<ShardedBatches> Shards;
};

} // namespace recc::rt
