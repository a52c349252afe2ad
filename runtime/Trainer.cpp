// Trainer: see Trainer.h.
#include "runtime/Trainer.h"

#include "runtime/Batcher.h"
#include "runtime/Checkpoint.h"
#include "runtime/Cluster.h"
#include "runtime/Divergence.h"
#include "runtime/Error.h"
#include "runtime/MemoryCheck.h"
#include "runtime/Parallel.h"
#include "runtime/Progress.h"
#include "runtime/Random.h"
#include "runtime/ShardedData.h"
#include "runtime/StepRunner.h"
#include "runtime/StreamCycle.h"
#include "runtime/TrainPosition.h"
#include "runtime/TrainerSteps.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>

namespace recc::rt {

Trainer::Trainer(ModelState& state, StepFunction& trainStep, StepFunction& evalStep,
                 TrainOptions options)
    : State(state), TrainFn(trainStep), EvalFn(evalStep), Options(std::move(options)) {}

namespace {
std::string joinNonEmpty(std::initializer_list<std::string> parts) {
  std::string out;
  for (const std::string& p : parts)
    if (!p.empty())
      out += (out.empty() ? "" : ", ") + p;
  return out;
}
} // namespace

namespace trainer_detail {
/// The batches of the plan's other streams, cycled (StreamCycle.h), each of
/// the compiled step's fixed size or else the plan's.
std::vector<StreamCycle> streamCycles(const ModelPlan& plan, const StepFunction& fn,
                                      const std::vector<const DataSet*>& streams) {
  if (streams.size() != plan.streams.size())
    fail("model '{}' reads {} other input streams, {} given", plan.model, plan.streams.size(),
         streams.size());
  std::vector<StreamCycle> cycles;
  for (size_t k = 1; k <= streams.size(); ++k) {
    const int64_t batch = fn.fixedBatch() > 0 ? fn.fixedBatches().stream(k) : streamBatch(plan, k);
    if (streams[k - 1]->rows() == 0)
      fail("{}: stream '{}' has no rows", streams[k - 1]->source(), plan.streams[k - 1].name);
    cycles.emplace_back(streams[k - 1]->rows(), batch, plan.seed, static_cast<int>(k));
  }
  return cycles;
}

/// One step's rows of each stream: the source's batch, then each cycle's.
std::vector<StepRunner::StreamRows> stepRows(const DataSet& train, std::span<const int64_t> rows,
                                             const std::vector<const DataSet*>& streams,
                                             std::vector<StreamCycle>& cycles, int64_t step) {
  std::vector<StepRunner::StreamRows> in{{&train, rows}};
  for (size_t k = 0; k < cycles.size(); ++k)
    in.push_back({streams[k], cycles[k].batch(step)});
  return in;
}

void checkSliceBatch(int64_t made, int64_t mine, int64_t global) {
  if (made > 0 && made != mine)
    fail("the train step was made for batches of {} rows; each of {} ranks trains {} rows "
         "of the global batch of {}", made, Cluster::size(), mine, global);
}

std::string trafficLine(int64_t sentBefore, int64_t steps, const StepRunner& runner) {
  const double perStep =
      double(Cluster::bytesSent() - sentBefore) / double(std::max<int64_t>(steps, 1));
  return joinNonEmpty({fmt::format("{} ranks, {} sent per step by rank {}", Cluster::size(),
                                   formatBytes(perStep), Cluster::rank()),
                       runner.overlapSummary()});
}
} // namespace trainer_detail
using namespace trainer_detail;

int64_t Trainer::batchedRows(const DataSet& train) const {
  return Shards ? Shards->layouts[0].globalRows() : train.rows();
}

int64_t Trainer::fixedBatch() const {
  // Under mpirun every global batch is whole: N slices of the step's batch.
  return Shards ? State.plan().batchSize : TrainFn.fixedBatch();
}

void Trainer::shardOver(const DataSet& train, const std::vector<const DataSet*>& streams) {
  if (!Cluster::distributed())
    return;
  const ModelPlan& plan = State.plan();
  const int ranks = Cluster::size();
  if (streams.size() != plan.streams.size())
    fail("model '{}' reads {} other input streams, {} given", plan.model, plan.streams.size(),
         streams.size());
  const ModelPlan slice = rankSlice(plan, ranks);  // checks that the batches split
  ShardedBatches sharded;
  for (size_t k = 0; k <= streams.size(); ++k) {
    const int64_t global = streamBatch(plan, k), mine = streamBatch(slice, k);
    const int64_t made = TrainFn.fixedBatch() > 0 ? TrainFn.fixedBatches().stream(k) : 0;
    checkSliceBatch(made, mine, global);
    sharded.layouts.emplace_back(k == 0 ? train.rows() : streams[k - 1]->rows());
    sharded.slices.emplace_back(plan, mine);
    sharded.globalBatch.push_back(global);
  }
  for (size_t k = 1; k < sharded.layouts.size(); ++k)
    if (sharded.layouts[k].globalRows() == 0)
      fail("{}: stream '{}' has no rows", streams[k - 1]->source(), plan.streams[k - 1].name);
  Shards = std::move(sharded);
}

std::vector<StepRunner::StreamRows> Trainer::shardedStep(
    const DataSet& train, const std::vector<const DataSet*>& streams,
    std::span<const int64_t> batch, std::vector<StreamCycle>& cycles,
    const std::vector<int64_t>& slice) {
  const ModelPlan& plan = State.plan();
  std::vector<StepRunner::StreamRows> in;
  for (size_t k = 0; k < Shards->layouts.size(); ++k) {
    DataSet& mine = Shards->slices[k];
    gatherStepRows(plan, Shards->layouts[k], k == 0 ? train : *streams[k - 1],
                   k == 0 ? batch : cycles[k - 1].batch(State.step), mine);
    // Slice r is rows [r·B/N, (r+1)·B/N) of the global batch (gatherStepRows).
    in.push_back({&mine, std::span<const int64_t>(slice).first(size_t(mine.rows())),
                  Cluster::rank() * mine.rows(), Shards->globalBatch[k]});
  }
  return in;
}

EpochReport Trainer::runEpoch(const DataSet& train, const std::vector<const DataSet*>& streams,
                              int64_t lastEpoch, ProgressLine& progress,
                              CheckpointPolicy& policy, int64_t firstBatch) {
  const ModelPlan& plan = State.plan();
  Batcher batcher =
      Batcher::forTraining(batchedRows(train), plan.batchSize, fixedBatch(), plan.seed);
  if (batcher.numBatches() == 0)
    fail("{}: {} rows are fewer than one batch of {} for the compiled train step",
         train.source(), batchedRows(train), batcher.batchSize());
  // Under mpirun this rank runs the step on its slice of each stream's
  // batch, which the streams' cycles draw from all ranks' rows.
  std::vector<StreamCycle> cycles;
  std::vector<int64_t> capacity, slice;
  if (Shards) {
    for (size_t k = 1; k < Shards->layouts.size(); ++k)
      cycles.emplace_back(Shards->layouts[k].globalRows(), Shards->globalBatch[k], plan.seed,
                          static_cast<int>(k));
    for (const DataSet& s : Shards->slices) {
      capacity.push_back(s.rows());
      slice.resize(std::max<size_t>(slice.size(), size_t(s.rows())));
    }
    std::iota(slice.begin(), slice.end(), int64_t(0));
  } else {
    cycles = streamCycles(plan, TrainFn, streams);
    capacity.push_back(batcher.batchSize());
    for (const StreamCycle& c : cycles) capacity.push_back(c.batchSize());
  }
  StepRunner runner(plan.trainStep, State, TrainFn, BatchSizes(capacity), "train step");
  DivergenceGuard guard(State, Options.checkpointPath, Options.inspector, Options.norms);
  const int64_t epoch = State.epoch + 1;
  progress.startEpoch(epoch, lastEpoch, batcher.numBatches());
  if (Options.trainLog)
    Options.trainLog->startEpoch();
  batcher.startEpoch(State.epoch);
  const int64_t sentBefore = Cluster::bytesSent();
  double lossSum = 0;
  int64_t samples = 0;
  // Training progress p = step / total steps, in [0,1), for schedules such
  // as grad_reverse's dann ramp; the total counts the epochs of earlier runs
  // (resumed training continues the ramp, mid-epoch too).
  const double totalSteps = double(lastEpoch) * double(batcher.numBatches());
  const int64_t batches = batcher.numBatches();
  int64_t b = firstBatch;  // a resumed epoch goes on with its next batch
  while (b < batches) {
    Batcher::Batch batch = batcher.batch(b);
    runner.setProgress(std::clamp(double(State.step) / totalSteps, 0.0, 1.0));
    if (Shards) {
      // Every rank draws its slice of the one-process dropout masks (BatchSlice).
      runner.run(shardedStep(train, streams, batch.rows, cycles, slice),
                 stepSeed(plan.seed, State.step));
    } else {
      runner.run(stepRows(train, batch.rows, streams, cycles, State.step),
                 stepSeed(plan.seed, State.step));
    }
    guard.check(runner, b);
    runner.applyGradients();
    lossSum += runner.loss();
    samples += batch.valid;
    ++b;
    progress.update(b, samples, lossSum / double(b - firstBatch));
    if (Options.trainLog)
      Options.trainLog->step(State, epoch, {runner.loss(), runner.lossTerms()}, batch.valid,
                             b == batches);
    if (policy.afterStep(b, b == batches))
      break;
  }
  double secs = progress.elapsed();
  const std::string traffic = Shards ? trafficLine(sentBefore, b - firstBatch, runner) : "";
  EpochReport r{epoch, b - firstBatch, batcher.droppedRows(),
                lossSum / double(std::max<int64_t>(b - firstBatch, 1)), secs,
                secs > 0 ? double(samples) / secs : 0.0, std::nullopt,
                joinNonEmpty({guard.normSummary(), runner.clipSummary()}),
                b < batches ? b : 0,
                traffic};
  if (b == batches)
    State.epoch = epoch;
  return r;
}

std::vector<EpochReport> Trainer::train(const DataSet& train, const DataSet* eval,
                                        std::vector<const DataSet*> streams) {
  ThreadLimit limit(Options.threads);
  shardOver(train, streams);
  if (!State.statsReady())
    adoptStats(Shards ? globalFeatureStats(State.plan(), train)
                      : computeFeatureStats(State.plan(), train),
               streams);
  const std::vector<std::string> names = dataNames(train.source(), streams);
  // The data's identity is recorded in every checkpoint (hashing it costs
  // one pass over the data per run) and checked on a mid-epoch resume.
  const bool fingerprints = !Options.checkpointPath.empty() || !Options.resumeMeta.empty();
  return epochLoop(
      [&](int64_t lastEpoch, ProgressLine& progress, CheckpointPolicy& policy, int64_t first) {
        return runEpoch(train, streams, lastEpoch, progress, policy, first);
      },
      eval, [&](int64_t lastEpoch) { return positionOf(train, streams, lastEpoch, fingerprints); },
      names);
}

std::vector<std::string> Trainer::dataNames(const std::string& source,
                                            const std::vector<const DataSet*>& streams) const {
  if (!Options.dataNames.empty())
    return Options.dataNames;
  std::vector<std::string> names{source};
  for (const DataSet* s : streams) names.push_back(s->source());
  return names;
}

void Trainer::adoptStats(std::vector<FeatureStats> fresh,
                         const std::vector<const DataSet*>& streams) {
  // A stream's features are standardized by that stream's data.
  for (size_t k = 0; k < streams.size() && k < State.plan().streams.size(); ++k) {
    std::vector<FeatureStats> ofStream = Shards ? globalFeatureStats(State.plan(), *streams[k])
                                                : computeFeatureStats(State.plan(), *streams[k]);
    for (size_t f = 0; f < fresh.size(); ++f)
      if (State.plan().features[f].stream == int64_t(k + 1))
        fresh[f] = ofStream[f];
  }
  for (size_t f = 0; f < fresh.size(); ++f)
    if (fresh[f].ready && !State.stats[f].ready)
      State.stats[f] = fresh[f];
}

std::vector<EpochReport> Trainer::epochLoop(
    const EpochRunner& runOne, const DataSet* eval,
    const std::function<TrainPosition(int64_t)>& position,
    const std::vector<std::string>& dataNames) {
  std::optional<TrainPosition> saved;
  if (!Options.resumeMeta.empty())
    saved = readPosition(Options.resumeMeta, Options.resumePath);
  // An unfinished run that is resumed without --epochs goes on to its last epoch.
  const int64_t epochs = Options.epochs > 0 ? Options.epochs : State.plan().epochs;
  const int64_t lastEpoch = Options.epochs == 0 && saved && saved->lastEpoch > State.epoch
                                ? saved->lastEpoch
                                : State.epoch + epochs;
  std::vector<EpochReport> reports;
  ProgressLine progress(Options.log, Options.plainProgressInterval);
  CheckpointOptions policyOptions = Options.checkpoints;
  policyOptions.path = Options.checkpointPath;
  std::function<EvalResult()> evaluateEval;
  if (eval)
    evaluateEval = [this, eval] { return evaluate(*eval); };
  CheckpointPolicy policy(State, policyOptions, evaluateEval,
                          [&progress](const std::string& line) { progress.finish(line); });
  const TrainPosition now = position(lastEpoch);
  int64_t firstBatch = resumeAt(now, saved, dataNames);
  policy.setPosition(now);
  policy.restore(Options.resumeMeta, Options.resumePath);
  bool stop = false;
  while (State.epoch < lastEpoch && !stop) {
    EpochReport r = runOne(lastEpoch, progress, policy, firstBatch);
    firstBatch = 0;
    std::string summary = fmt::format(
        "epoch {}/{}: {} steps, loss {:.4f}, {} samples/s, {}", r.epoch, lastEpoch,
        r.steps, r.meanLoss, humanCount(r.samplesPerSecond), humanDuration(r.seconds));
    if (r.stoppedAt > 0)
      summary += fmt::format(", stopped after step {} of the epoch", r.stoppedAt);
    if (r.droppedRows > 0)
      summary += fmt::format(", {} rows dropped (fixed batch)", r.droppedRows);
    if (!r.norms.empty())
      summary += ", " + r.norms;
    if (!r.traffic.empty())
      summary += ", " + r.traffic;
    if (r.stoppedAt == 0 && eval) {
      r.eval = evaluate(*eval);
      if (Options.trainLog)
        Options.trainLog->eval(State, *r.eval, eval->source());
      summary += fmt::format("; eval: {}", formatMetrics(*r.eval));
    }
    progress.finish(summary);
    stop = r.stoppedAt > 0 || policy.afterEpoch(r.eval);
    reports.push_back(std::move(r));
  }
  Stopped = policy.stopReason();
  Best = policy.best();
  if (!Stopped.empty() && Options.checkpointPath.empty())
    progress.finish(Stopped);
  else if (!Stopped.empty())
    progress.finish(fmt::format("{}; --init {} resumes it", Stopped, Options.checkpointPath));
  return reports;
}

TrainPosition Trainer::positionOf(const DataSet& train, const std::vector<const DataSet*>& streams,
                                  int64_t lastEpoch, bool fingerprints) {
  const ModelPlan& plan = State.plan();
  const int64_t batch = fixedBatch() > 0 ? fixedBatch() : plan.batchSize;
  TrainPosition now{lastEpoch, 0,
                    Batcher::trainingBatches(batchedRows(train), plan.batchSize, fixedBatch()),
                    plan.seed, batch, {}};
  now.ranks = Cluster::size();
  // Under mpirun, and when resuming what a run under mpirun wrote, the data's
  // identity is one that any split of the rows gives (TrainPosition.h).
  std::optional<TrainPosition> saved;
  if (!Options.resumeMeta.empty())
    saved = readPosition(Options.resumeMeta, Options.resumePath);
  now.rowFingerprints = Shards || (saved && saved->rowFingerprints);
  if (fingerprints) {
    auto identity = [&](const DataSet& d) {
      return Shards ? shardedFingerprint(plan, d)
             : now.rowFingerprints ? rowFingerprint(plan, d, 0)
                                   : fingerprint(plan, d);
    };
    now.data.push_back(identity(train));
    for (const DataSet* s : streams) now.data.push_back(identity(*s));
  }
  return now;
}

int64_t Trainer::resumeAt(const TrainPosition& now, const std::optional<TrainPosition>& saved,
                          const std::vector<std::string>& dataNames) {
  if (!saved || saved->epochStep == 0)
    return 0;
  checkMidEpochResume(*saved, now, State.epoch, Options.resumePath, dataNames);
  return saved->epochStep;
}

EvalResult Trainer::evaluate(const DataSet& data) {
  return recc::rt::evaluate(State, EvalFn, data, Options.threads);
}

void Trainer::predict(const DataSet& data, const std::string& csvPath) {
  recc::rt::predict(State, EvalFn, data, csvPath, Options.threads);
}

} // namespace recc::rt
