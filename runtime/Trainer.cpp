// Trainer: see Trainer.h.
#include "runtime/Trainer.h"

#include "runtime/Batcher.h"
#include "runtime/Checkpoint.h"
#include "runtime/Divergence.h"
#include "runtime/Error.h"
#include "runtime/Progress.h"
#include "runtime/StepRunner.h"
#include "runtime/StreamCycle.h"
#include "runtime/TrainerSteps.h"

#include <tbb/global_control.h>

#include <algorithm>
#include <cmath>
#include <memory>

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
} // namespace trainer_detail
using namespace trainer_detail;

EpochReport Trainer::runEpoch(const DataSet& train, const std::vector<const DataSet*>& streams,
                              int64_t lastEpoch, ProgressLine& progress) {
  const ModelPlan& plan = State.plan();
  Batcher batcher =
      Batcher::forTraining(train.rows(), plan.batchSize, TrainFn.fixedBatch(), plan.seed);
  if (batcher.numBatches() == 0)
    fail("{}: {} rows are fewer than one batch of {} for the compiled train step",
         train.source(), train.rows(), batcher.batchSize());
  std::vector<StreamCycle> cycles = streamCycles(plan, TrainFn, streams);
  std::vector<int64_t> capacity{batcher.batchSize()};
  for (const StreamCycle& c : cycles) capacity.push_back(c.batchSize());
  StepRunner runner(plan.trainStep, State, TrainFn, BatchSizes(capacity), "train step");
  DivergenceGuard guard(State, Options.checkpointPath, Options.inspector, Options.norms);
  const int64_t epoch = State.epoch + 1;
  progress.startEpoch(epoch, lastEpoch, batcher.numBatches());
  if (Options.trainLog)
    Options.trainLog->startEpoch();
  batcher.startEpoch(State.epoch);
  double lossSum = 0;
  int64_t samples = 0;
  // Training progress p = step / total steps, in [0,1), for schedules such
  // as grad_reverse's dann ramp; the total counts the epochs of earlier runs
  // (resumed training continues the ramp).
  const double totalSteps = double(lastEpoch) * double(batcher.numBatches());
  for (int64_t b = 0; b < batcher.numBatches(); ++b) {
    Batcher::Batch batch = batcher.batch(b);
    runner.setProgress(std::clamp(double(State.step) / totalSteps, 0.0, 1.0));
    runner.run(stepRows(train, batch.rows, streams, cycles, State.step),
               stepSeed(plan.seed, State.step));
    guard.check(runner, b);
    runner.applyGradients();
    lossSum += runner.loss();
    samples += batch.valid;
    progress.update(b + 1, samples, lossSum / double(b + 1));
    if (Options.trainLog)
      Options.trainLog->step(State, epoch, {runner.loss(), runner.lossTerms()}, batch.valid,
                             b + 1 == batcher.numBatches());
  }
  double secs = progress.elapsed();
  EpochReport r{epoch, batcher.numBatches(), batcher.droppedRows(),
                lossSum / double(batcher.numBatches()), secs,
                secs > 0 ? double(samples) / secs : 0.0, std::nullopt,
                joinNonEmpty({guard.normSummary(), runner.clipSummary()})};
  State.epoch = epoch;
  return r;
}

std::vector<EpochReport> Trainer::train(const DataSet& train, const DataSet* eval,
                                        std::vector<const DataSet*> streams) {
  std::unique_ptr<tbb::global_control> limit;
  if (Options.threads > 0)
    limit = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, Options.threads);
  if (!State.statsReady())
    adoptStats(computeFeatureStats(State.plan(), train), streams);
  return epochLoop([&](int64_t lastEpoch, ProgressLine& progress) {
    return runEpoch(train, streams, lastEpoch, progress);
  }, eval);
}

void Trainer::adoptStats(std::vector<FeatureStats> fresh,
                         const std::vector<const DataSet*>& streams) {
  // A stream's features are standardized by that stream's data.
  for (size_t k = 0; k < streams.size() && k < State.plan().streams.size(); ++k) {
    std::vector<FeatureStats> ofStream = computeFeatureStats(State.plan(), *streams[k]);
    for (size_t f = 0; f < fresh.size(); ++f)
      if (State.plan().features[f].stream == int64_t(k + 1))
        fresh[f] = ofStream[f];
  }
  for (size_t f = 0; f < fresh.size(); ++f)
    if (fresh[f].ready && !State.stats[f].ready)
      State.stats[f] = fresh[f];
}

std::vector<EpochReport> Trainer::epochLoop(
    const std::function<EpochReport(int64_t, ProgressLine&)>& runOne, const DataSet* eval) {
  const int64_t epochs = Options.epochs > 0 ? Options.epochs : State.plan().epochs;
  const int64_t lastEpoch = State.epoch + epochs;
  std::vector<EpochReport> reports;
  ProgressLine progress(Options.log, Options.plainProgressInterval);
  for (int64_t e = 0; e < epochs; ++e) {
    EpochReport r = runOne(lastEpoch, progress);
    std::string summary = fmt::format(
        "epoch {}/{}: {} steps, loss {:.4f}, {} samples/s, {}", r.epoch, lastEpoch,
        r.steps, r.meanLoss, humanCount(r.samplesPerSecond), humanDuration(r.seconds));
    if (r.droppedRows > 0)
      summary += fmt::format(", {} rows dropped (fixed batch)", r.droppedRows);
    if (!r.norms.empty())
      summary += ", " + r.norms;
    if (eval) {
      r.eval = evaluate(*eval);
      if (Options.trainLog)
        Options.trainLog->eval(State, *r.eval, eval->source());
      summary += fmt::format("; eval: {}", formatMetrics(*r.eval));
    }
    if (!Options.checkpointPath.empty())
      saveCheckpoint(Options.checkpointPath, State);
    progress.finish(summary);
    reports.push_back(std::move(r));
  }
  return reports;
}

EvalResult Trainer::evaluate(const DataSet& data) {
  return recc::rt::evaluate(State, EvalFn, data, Options.threads);
}

void Trainer::predict(const DataSet& data, const std::string& csvPath) {
  recc::rt::predict(State, EvalFn, data, csvPath, Options.threads);
}

} // namespace recc::rt
