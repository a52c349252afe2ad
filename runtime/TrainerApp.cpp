// TrainerApp: command implementations over Trainer, Evaluator and Checkpoint.
#include "runtime/TrainerApp.h"

#include "runtime/AtomicFile.h"
#include "runtime/Checkpoint.h"
#include "runtime/CliChecks.h"
#include "runtime/CsvReader.h"
#include "runtime/Error.h"
#include "runtime/Evaluator.h"
#include "runtime/MemoryCheck.h"
#include "runtime/TouchedRows.h"
#include "runtime/Trainer.h"

#include <oneapi/tbb/global_control.h>

#include <cstdio>
#include <new>
#include <optional>

namespace recc::rt {

void addTrainFlags(CLI::App& cmd, TrainArgs& a) {
  cmd.add_option("--data", a.data, "training data (CSV/TSV with a header row)")->required();
  cmd.add_option("--eval-data", a.evalData, "evaluation data, scored after each epoch");
  cmd.add_option("--out", a.out, "checkpoint to write (safetensors), atomically each epoch");
  cmd.add_option("--init", a.init, "checkpoint to resume from");
  cmd.add_option("--init-from", a.initFrom,
                 "checkpoint of the earlier stage a model with 'init = m' starts from "
                 "(parameters and tables by name; fresh optimizer state)");
  cmd.add_option("--metrics-json", a.metricsJson, "write the final metrics as JSON");
  cmd.add_flag("--allow-non-finite", a.allowNonFinite,
               "load an --init or --init-from checkpoint even if it holds NaN or infinite "
               "values");
  cmd.add_option("--epochs", a.epochs, "epochs (default: the model's train setting)")
      ->check(intRange(1, kMaxEpochs));
  cmd.add_option("--threads", a.threads, "worker threads (default: all cores)")
      ->check(intRange(1, kMaxThreads));
  cmd.add_option("--seed", a.seed, "random seed (default: the model's train setting)")
      ->check(intRange(0, kMaxSeed));
}

void addEvalFlags(CLI::App& cmd, EvalArgs& a, bool predict) {
  cmd.add_option("--ckpt", a.checkpoint, "checkpoint to load")->required();
  cmd.add_option("--data", a.data, "data to score (CSV/TSV with a header row)")->required();
  if (predict)
    cmd.add_option("--out", a.out, "scores CSV to write")->required();
  else
    cmd.add_option("--metrics-json", a.metricsJson, "write the metrics as JSON");
  cmd.add_flag("--allow-non-finite", a.allowNonFinite,
               "load the checkpoint even if it holds NaN or infinite values");
  cmd.add_option("--threads", a.threads, "worker threads (default: all cores)")
      ->check(intRange(1, kMaxThreads));
}

namespace {
/// Runs `body`, turning any exception into "error: ..." and exit code 1.
template <typename F>
int guarded(F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    std::fprintf(stderr, "error: out of memory (the data, the model or its step do not fit)\n");
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

/// Runs `body`, reporting a std::bad_alloc as out of memory while doing
/// `what`: a bare "std::bad_alloc" names nothing.
template <typename F>
auto naming(const std::string& what, F&& body) {
  try {
    return body();
  } catch (const std::bad_alloc&) {
    fail("out of memory {}", what);
  }
}

DataSet readData(const std::string& flag, const std::string& path, const ModelPlan& plan,
                 const ReadOptions& options = {}) {
  return naming(fmt::format("reading {} '{}'", flag, path),
                [&] { return readDataFile(path, plan, options); });
}

std::unique_ptr<StepFunction> makeStep(const StepFactory& steps, const ModelPlan& plan,
                                       bool train) {
  return naming(fmt::format("making the {} step of model '{}' at batch size {}",
                            train ? "train" : "eval", plan.model, plan.batchSize),
                [&] { return steps(plan, train); });
}

void loadInto(const std::string& path, ModelState& state, bool allowNonFinite) {
  naming(fmt::format("loading checkpoint '{}'", path),
         [&] { loadCheckpoint(path, state, {.allowNonFinite = allowNonFinite}); });
}

/// Usage of `fn` running `spec` for the memory check.
StepMemory usage(const ModelPlan& plan, const StepSpec& spec, const StepFunction& fn) {
  return {&spec, fn.fixedBatch() > 0 ? fn.fixedBatch() : plan.batchSize, fn.workingBytes()};
}

std::optional<tbb::global_control> limitThreads(int threads) {
  if (threads <= 0) return std::nullopt;
  return std::optional<tbb::global_control>(std::in_place,
                                            tbb::global_control::max_allowed_parallelism,
                                            (size_t)threads);
}

/// Checks --init / --init-from against the model's `init = m` setting before
/// any work: a stage needs the earlier stage's checkpoint (or its own, to
/// resume), and a model without `init` has no earlier stage.
void checkStageFlags(const ModelPlan& plan, const TrainArgs& a) {
  if (plan.initFrom.empty() && !a.initFrom.empty())
    fail("--init-from: model '{}' declares no earlier stage (no 'init = ...' in its train "
         "settings), so there is nothing to start from; --init resumes its own checkpoint",
         plan.model);
  if (!a.init.empty() && !a.initFrom.empty())
    fail("--init and --init-from exclude each other: --init resumes a checkpoint of '{}', "
         "--init-from starts it from one of '{}'", plan.model, plan.initFrom);
  if (!plan.initFrom.empty() && a.initFrom.empty() && a.init.empty())
    fail("--init-from: model '{}' starts from the trained parameters of model '{}' "
         "(train {{ init = {} }}); give that model's checkpoint with --init-from FILE "
         "(or resume this model's own with --init FILE)",
         plan.model, plan.initFrom, plan.initFrom);
}

/// Loads the earlier stage's checkpoint by name and says what it did.
void transferInto(const std::string& path, ModelState& state, bool allowNonFinite) {
  const ModelPlan& plan = state.plan();
  auto meta = readCheckpointMetadata(path);
  const std::string from = meta.count("model") ? meta["model"] : "?";
  naming(fmt::format("loading checkpoint '{}'", path), [&] {
    loadCheckpoint(path, state, {.transfer = true, .allowNonFinite = allowNonFinite});
  });
  std::string frozen = plan.frozen.empty()
                           ? "none"
                           : fmt::format("{}", fmt::join(plan.frozen, ", "));
  std::fprintf(stderr,
               "--init-from %s: %d parameters and %zu tables of model '%s' loaded by name "
               "(init = %s); frozen: %s; optimizer state starts fresh\n",
               path.c_str(), state.params.size(), state.tables.size(), from.c_str(),
               plan.initFrom.c_str(), frozen.c_str());
}

/// Prints the metrics line and the per-group tables of a result.
void printResult(const std::string& data, const EvalResult& result) {
  std::printf("%s: %s\n%s", data.c_str(), formatMetrics(result).c_str(),
              formatGroupTables(result).c_str());
}
} // namespace

int runTrain(const ModelPlan& modelPlan, const StepFactory& steps, const TrainArgs& a) {
  return guarded([&] {
    ModelPlan plan = modelPlan;
    if (a.seed >= 0) plan.seed = uint64_t(a.seed);
    // Outputs are checked first: a bad path must not cost an epoch of training.
    checkCanWrite("--out", a.out);
    checkCanWrite("--metrics-json", a.metricsJson);
    checkStageFlags(plan, a);
    auto limit = limitThreads(a.threads);
    DataSet train = readData("--data", a.data, plan);
    std::optional<DataSet> eval;
    if (!a.evalData.empty()) eval = readData("--eval-data", a.evalData, plan, evalReadOptions(plan));
    // Bad checkpoints are reported before the tables are allocated.
    if (!a.init.empty()) readCheckpointMetadata(a.init);
    if (!a.initFrom.empty()) readCheckpointMetadata(a.initFrom);
    // The steps are made first so that the memory check counts their
    // activations before anything large is allocated.
    auto trainFn = makeStep(steps, plan, true);
    auto evalFn = makeStep(steps, plan, false);
    // Dynamic tables are counted at the rows training will insert.
    DynamicRowCounts touched = touchedRows(plan, train);
    if (!a.init.empty()) addStoredRows(touched, a.init, plan);
    checkMemory(plan, {usage(plan, plan.trainStep, *trainFn), usage(plan, plan.evalStep, *evalFn)},
                touched);
    ModelState state(plan);
    if (!a.init.empty()) loadInto(a.init, state, a.allowNonFinite);
    if (!a.initFrom.empty()) transferInto(a.initFrom, state, a.allowNonFinite);
    TrainOptions options;
    options.epochs = a.epochs;
    options.threads = a.threads;
    options.checkpointPath = a.out;
    Trainer trainer(state, *trainFn, *evalFn, options);
    trainer.train(train, eval ? &*eval : nullptr);
    EvalResult result = trainer.evaluate(eval ? *eval : train);
    printResult(eval ? a.evalData : a.data, result);
    if (!a.metricsJson.empty()) writeMetricsJson(a.metricsJson, state, result);
    return 0;
  });
}

int runEval(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a) {
  return guarded([&] {
    checkCanWrite("--metrics-json", a.metricsJson);
    auto limit = limitThreads(a.threads);
    // A missing or corrupt checkpoint is reported before the tables are allocated.
    readCheckpointMetadata(a.checkpoint);
    DataSet data = readData("--data", a.data, plan, evalReadOptions(plan));
    auto evalFn = makeStep(steps, plan, false);
    DynamicRowCounts stored;  // evaluation inserts no row into a dynamic table
    addStoredRows(stored, a.checkpoint, plan);
    checkMemory(plan, {usage(plan, plan.evalStep, *evalFn)}, stored);
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    EvalResult result = evaluate(state, *evalFn, data, a.threads);
    printResult(a.data, result);
    if (!a.metricsJson.empty()) writeMetricsJson(a.metricsJson, state, result);
    return 0;
  });
}

int runPredict(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a) {
  return guarded([&] {
    checkCanWrite("--out", a.out);
    auto limit = limitThreads(a.threads);
    // A missing or corrupt checkpoint is reported before the tables are allocated.
    readCheckpointMetadata(a.checkpoint);
    ReadOptions read = evalReadOptions(plan);
    read.requireLabels = false;
    read.requireGroups = false;
    DataSet data = readData("--data", a.data, plan, read);
    auto evalFn = makeStep(steps, plan, false);
    DynamicRowCounts stored;  // evaluation inserts no row into a dynamic table
    addStoredRows(stored, a.checkpoint, plan);
    checkMemory(plan, {usage(plan, plan.evalStep, *evalFn)}, stored);
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    predict(state, *evalFn, data, a.out, a.threads);
    std::fprintf(stderr, "wrote %lld rows of scores to %s\n", (long long)data.rows(),
                 a.out.c_str());
    return 0;
  });
}

} // namespace recc::rt
