// TrainerStream: Trainer::trainStreamed, training on data read as a stream
// (Trainer.h). Each epoch starts a reader thread (ChunkPipe) on the files;
// rows pass in file order through the shuffle buffer (ShuffleBuffer.h) into
// a batch-sized data set, which the step reads as the in-memory epoch reads
// its rows. The epoch has as many steps as the in-memory one would on the
// same rows (a fixed-batch step drops the last partial batch), so the
// progress p and the step seeds line up with it; only the order differs.
#include "runtime/ChunkPipe.h"
#include "runtime/DataFiles.h"
#include "runtime/Divergence.h"
#include "runtime/Error.h"
#include "runtime/ShuffleBuffer.h"
#include "runtime/Trainer.h"
#include "runtime/TrainerSteps.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <numeric>

namespace recc::rt {

using namespace trainer_detail;

namespace {
/// The files hold other rows than the first pass counted.
[[noreturn]] void changedFiles(const std::string& source, int64_t seen, int64_t counted) {
  fail("{}: {}{} rows now, {} when training started: the data files changed during "
       "training", source, seen > counted ? "at least " : "", seen, counted);
}
} // namespace

std::vector<EpochReport> Trainer::trainStreamed(const StreamedData& train, const DataSet* eval,
                                                std::vector<const DataSet*> streams) {
  std::unique_ptr<tbb::global_control> limit;
  if (Options.threads > 0)
    limit = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, Options.threads);
  if (!State.statsReady())
    adoptStats(train.stats, streams);
  return epochLoop([&](int64_t lastEpoch, ProgressLine& progress) {
    return runStreamedEpoch(train, streams, lastEpoch, progress);
  }, eval);
}

EpochReport Trainer::runStreamedEpoch(const StreamedData& train,
                                      const std::vector<const DataSet*>& streams,
                                      int64_t lastEpoch, ProgressLine& progress) {
  const ModelPlan& plan = State.plan();
  const int64_t fixed = TrainFn.fixedBatch();
  const int64_t batchSize = fixed > 0 ? fixed : plan.batchSize;
  const int64_t steps = fixed > 0 ? train.rows / batchSize
                                  : (train.rows + batchSize - 1) / batchSize;
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
  // A buffer beyond the row count would hold nothing more (same order).
  ShuffleBuffer buffer(plan, std::min(train.bufferRows, train.rows));
  buffer.startEpoch(plan.seed, State.epoch);
  DataSet batch(plan, batchSize, /*withLabels=*/true, /*withGroups=*/false);
  batch.setSource(source);
  std::vector<int64_t> batchRows(static_cast<size_t>(batchSize));
  std::iota(batchRows.begin(), batchRows.end(), int64_t{0});
  double lossSum = 0;
  int64_t samples = 0, b = 0, filled = 0, seen = 0;
  const double totalSteps = double(lastEpoch) * double(steps);  // as in runEpoch
  const auto step = [&](int64_t rows) {
    runner.setProgress(std::clamp(double(State.step) / totalSteps, 0.0, 1.0));
    runner.run(stepRows(batch, std::span<const int64_t>(batchRows.data(), size_t(rows)),
                        streams, cycles, State.step),
               stepSeed(plan.seed, State.step));
    guard.check(runner, b);
    runner.applyGradients();
    lossSum += runner.loss();
    samples += rows;
    ++b;
    progress.update(b, samples, lossSum / double(b));
  };
  {
    ChunkPipe pipe(train.files, plan, train.read, train.chunkRows);
    for (DataSet chunk = pipe.next(); chunk.rows() > 0; chunk = pipe.next()) {
      seen += chunk.rows();
      if (seen > train.rows)
        changedFiles(source, seen, train.rows);
      for (int64_t r = 0; r < chunk.rows(); ++r)
        if (buffer.push(chunk, r, batch, filled) && ++filled == batchSize) {
          step(batchSize);
          filled = 0;
        }
    }
  }
  if (seen != train.rows)
    changedFiles(source, seen, train.rows);
  while (buffer.drain(batch, filled))
    if (++filled == batchSize) {
      step(batchSize);
      filled = 0;
    }
  if (filled > 0 && fixed <= 0)
    step(filled);
  const double secs = progress.elapsed();
  EpochReport r{epoch, steps, fixed > 0 ? train.rows % batchSize : 0,
                lossSum / double(steps), secs, secs > 0 ? double(samples) / secs : 0.0,
                std::nullopt, ""};
  r.norms = guard.normSummary();
  if (std::string clip = runner.clipSummary(); !clip.empty())
    r.norms += (r.norms.empty() ? "" : ", ") + clip;
  State.epoch = epoch;
  return r;
}

} // namespace recc::rt
