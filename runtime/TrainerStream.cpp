// TrainerStream: Trainer::trainStreamed, training on data read as a stream
// (Trainer.h). Each epoch starts a reader thread (ChunkPipe) on the files;
// rows pass in file order through the shuffle buffer (ShuffleBuffer.h) into
// a batch-sized data set, which the step reads as the in-memory epoch reads
// its rows. The epoch has as many steps as the in-memory one would on the
// same rows (a fixed-batch step drops the last partial batch), so the
// progress p and the step seeds line up with it; only the order differs.
//
// Under mpirun each rank streams its own files through a buffer of its own
// and trains its slice (B/N rows) of each global batch from it; every rank
// runs as many steps as the rank with the fewest rows has full slices. The
// global batches are therefore not those of one process, as they are when
// the data is in memory (docs/distributed.md).
#include "runtime/Batcher.h"
#include "runtime/ChunkPipe.h"
#include "runtime/Cluster.h"
#include "runtime/DataFiles.h"
#include "runtime/Divergence.h"
#include "runtime/Error.h"
#include "runtime/Parallel.h"
#include "runtime/Random.h"
#include "runtime/ShuffleBuffer.h"
#include "runtime/Trainer.h"
#include "runtime/TrainPosition.h"
#include "runtime/TrainerSteps.h"

#include <algorithm>
#include <numeric>

namespace recc::rt {

using namespace trainer_detail;

namespace {
/// Steps of a streamed epoch: as many as the in-memory epoch has (a
/// fixed-batch step drops the last partial batch); under mpirun, the full
/// slices of the rank with the fewest rows.
int64_t streamedSteps(const StreamedData& data, const ModelPlan& plan, const StepFunction& fn) {
  if (data.rankRows.empty())
    return Batcher::trainingBatches(data.rows, plan.batchSize, fn.fixedBatch());
  const int64_t slice = plan.batchSize / Cluster::size();
  return *std::min_element(data.rankRows.begin(), data.rankRows.end()) / slice;
}

/// The files hold other rows than the first pass counted.
[[noreturn]] void changedFiles(const std::string& source, int64_t seen, int64_t counted) {
  fail("{}: {}{} rows now, {} when training started: the data files changed during "
       "training", source, seen > counted ? "at least " : "", seen, counted);
}
} // namespace

std::vector<EpochReport> Trainer::trainStreamed(const StreamedData& train, const DataSet* eval,
                                                std::vector<const DataSet*> streams) {
  ThreadLimit limit(Options.threads);
  if (!State.statsReady())
    adoptStats(train.stats, streams);
  const std::vector<std::string> names = dataNames(describeFiles(train.files), streams);
  const auto position = [&](int64_t lastEpoch) {
    const ModelPlan& plan = State.plan();
    const int64_t batch = TrainFn.fixedBatch() > 0 ? TrainFn.fixedBatch() : plan.batchSize;
    TrainPosition now{lastEpoch, 0, streamedSteps(train, plan, TrainFn), plan.seed, batch,
                      {train.fingerprint}, train.bufferRows};
    for (const DataSet* s : streams) now.data.push_back(fingerprint(plan, *s));
    return now;
  };
  return epochLoop(
      [&](int64_t lastEpoch, ProgressLine& progress, CheckpointPolicy& policy, int64_t first) {
        return runStreamedEpoch(train, streams, lastEpoch, progress, policy, first);
      },
      eval, position, names);
}

EpochReport Trainer::runStreamedEpoch(const StreamedData& train,
                                      const std::vector<const DataSet*>& streams,
                                      int64_t lastEpoch, ProgressLine& progress,
                                      CheckpointPolicy& policy, int64_t firstBatch) {
  const ModelPlan& plan = State.plan();
  const int64_t fixed = TrainFn.fixedBatch();
  const bool ranked = !train.rankRows.empty();  // under mpirun: this rank's slices
  const int64_t slice = plan.batchSize / Cluster::size();
  if (ranked)
    checkSliceBatch(fixed, slice, plan.batchSize);
  const int64_t batchSize = ranked ? slice : fixed > 0 ? fixed : plan.batchSize;
  const int64_t steps = streamedSteps(train, plan, TrainFn);
  const std::string source = describeFiles(train.files);
  if (steps == 0)
    fail("{}: {} rows are fewer than one batch of {} for the compiled train step", source,
         train.rows, batchSize);
  std::vector<StreamCycle> cycles = streamCycles(plan, TrainFn, streams);
  std::vector<int64_t> capacity{batchSize};
  for (const StreamCycle& c : cycles) capacity.push_back(c.batchSize());
  StepRunner runner(plan.trainStep, State, TrainFn, BatchSizes(capacity), "train step");
  DivergenceGuard guard(State, Options.checkpointPath, Options.inspector, Options.norms);
  const int64_t epoch = State.epoch + 1;
  progress.startEpoch(epoch, lastEpoch, steps);
  if (Options.trainLog)
    Options.trainLog->startEpoch();
  // A buffer beyond the row count would hold nothing more (same order).
  ShuffleBuffer buffer(plan, std::min(train.bufferRows, train.rows));
  // Each rank shuffles its own rows (rank 0 as one process would).
  buffer.startEpoch(Cluster::rank() == 0 ? plan.seed : combine(plan.seed, Cluster::rank()),
                    State.epoch);
  DataSet batch(plan, batchSize, /*withLabels=*/true, /*withGroups=*/false);
  batch.setSource(source);
  std::vector<int64_t> batchRows(static_cast<size_t>(batchSize));
  std::iota(batchRows.begin(), batchRows.end(), int64_t{0});
  const int64_t sentBefore = Cluster::bytesSent();
  double lossSum = 0;
  int64_t samples = 0, b = 0, filled = 0, seen = 0;
  const double totalSteps = double(lastEpoch) * double(steps);  // as in runEpoch
  // One step on the first `rows` rows of `batch`; true: the policy stops.
  // The batches a resumed epoch already ran are drawn (the buffer's order
  // depends on them) but not run.
  const auto step = [&](int64_t rows) {
    if (b < firstBatch) {
      ++b;
      return false;
    }
    runner.setProgress(std::clamp(double(State.step) / totalSteps, 0.0, 1.0));
    std::vector<StepRunner::StreamRows> in = stepRows(
        batch, std::span<const int64_t>(batchRows.data(), size_t(rows)), streams, cycles,
        State.step);
    if (ranked) {  // this rank's slice of the global batch (dropout masks)
      in[0].firstRow = Cluster::rank() * slice;
      in[0].globalRows = plan.batchSize;
    }
    runner.run(in, stepSeed(plan.seed, State.step));
    guard.check(runner, b);
    runner.applyGradients();
    lossSum += runner.loss();
    samples += ranked ? plan.batchSize : rows;  // under mpirun: the global batch
    ++b;
    progress.update(b, samples, lossSum / double(b - firstBatch));
    if (Options.trainLog)
      Options.trainLog->step(State, epoch, {runner.loss(), runner.lossTerms()}, rows,
                             b == steps);
    // Under mpirun a rank stops at the steps every rank can run.
    return policy.afterStep(b, b == steps) || (ranked && b == steps);
  };
  bool stopped = false;
  {
    ChunkPipe pipe(train.files, plan, train.read, train.chunkRows);
    for (DataSet chunk = pipe.next(); chunk.rows() > 0 && !stopped; chunk = pipe.next()) {
      seen += chunk.rows();
      if (seen > train.rows)
        changedFiles(source, seen, train.rows);
      for (int64_t r = 0; r < chunk.rows() && !stopped; ++r)
        if (buffer.push(chunk, r, batch, filled) && ++filled == batchSize) {
          stopped = step(batchSize);
          filled = 0;
        }
    }
  }
  if (!stopped && seen != train.rows)
    changedFiles(source, seen, train.rows);
  while (!stopped && buffer.drain(batch, filled))
    if (++filled == batchSize) {
      stopped = step(batchSize);
      filled = 0;
    }
  if (!stopped && filled > 0 && fixed <= 0 && !ranked)
    stopped = step(filled);
  const double secs = progress.elapsed();
  const int64_t ran = b - firstBatch;
  const int64_t dropped =
      ranked ? train.rows - steps * slice : fixed > 0 ? train.rows % batchSize : 0;
  EpochReport r{epoch, ran, dropped, lossSum / double(std::max<int64_t>(ran, 1)), secs,
                secs > 0 ? double(samples) / secs : 0.0, std::nullopt, "", b < steps ? b : 0,
                ranked ? trafficLine(sentBefore, ran, runner) : std::string()};
  r.norms = guard.normSummary();
  if (std::string clip = runner.clipSummary(); !clip.empty())
    r.norms += (r.norms.empty() ? "" : ", ") + clip;
  if (b == steps)
    State.epoch = epoch;
  return r;
}

} // namespace recc::rt
