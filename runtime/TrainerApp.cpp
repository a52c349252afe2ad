// TrainerApp: command implementations over Trainer, Evaluator and Checkpoint.
#include "runtime/TrainerApp.h"

#include "runtime/AtomicFile.h"
#include "runtime/ChunkPipe.h"
#include "runtime/Checkpoint.h"
#include "runtime/CheckpointPolicy.h"
#include "runtime/CliChecks.h"
#include "runtime/Cluster.h"
#include "runtime/CsvReader.h"
#include "runtime/DataFiles.h"
#include "runtime/Error.h"
#include "runtime/Evaluator.h"
#include "runtime/MemoryCheck.h"
#include "runtime/Parallel.h"
#include "runtime/ShardedData.h"
#include "runtime/ShardedTables.h"
#include "runtime/StreamSurvey.h"
#include "runtime/TouchedRows.h"
#include "runtime/Trainer.h"

#include <sys/stat.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <optional>

namespace recc::rt {
namespace {
/// The flags of CheckpointPolicy.h need what they act on.
void checkCheckpointFlags(const ModelPlan& plan, const TrainArgs& a) {
  if (a.checkpointEvery > 0 && a.out.empty())
    fail("--checkpoint-every: give the checkpoint to write with --out FILE");
  if (a.evalEvery > 0 && a.evalData.empty())
    fail("--eval-every: give the data to evaluate with --eval-data FILE");
  if (a.earlyStop > 0 && a.keepBest.empty())
    fail("--early-stop {}: counts evaluations without an improvement of the --keep-best "
         "metric; give --keep-best METRIC (e.g. --keep-best loss)", a.earlyStop);
  if (a.keepBest.empty())
    return;
  higherIsBetter(plan, a.keepBest);  // names the model's metrics if it has no such one
  if (a.evalData.empty())
    fail("--keep-best {}: give the data to evaluate with --eval-data FILE", a.keepBest);
  if (a.out.empty())
    fail("--keep-best {}: writes the best model beside --out (OUT.best.safetensors); give "
         "--out FILE", a.keepBest);
  checkCanWrite("--keep-best", bestPath(a.out));
}
} // namespace

namespace {
/// Runs `body`, turning any exception into "error: ..." and exit code 1.
template <typename F>
int guarded(F&& body) {
  // Under mpirun an error on one rank ends every rank (Cluster::abortAll):
  // the others would otherwise wait for it in their next collective.
  auto report = [](const std::string& message) {
    if (Cluster::distributed())
      Cluster::abortAll(message);
    std::fprintf(stderr, "error: %s\n", message.c_str());
    return 1;
  };
  try {
    return body();
  } catch (const std::bad_alloc&) {
    return report("out of memory (the data, the model or its step do not fit)");
  } catch (const std::exception& e) {
    return report(e.what());
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

DataSet readData(const std::string& flag, const std::vector<std::string>& values,
                 const ModelPlan& plan, const ReadOptions& options = {}) {
  const std::vector<std::string> files = expandDataFiles(flag, values);
  // Under mpirun each rank reads its own part of the rows (ShardedData.h):
  // with at least a file per rank, its range of the files; else its share of
  // the rows (ReadOptions::shardIndex).
  ReadOptions sharded = options;
  std::vector<std::string> mine = files;
  if (Cluster::distributed() && files.size() >= size_t(Cluster::size())) {
    mine = rankFiles(files);
  } else {
    sharded.shardIndex = Cluster::rank();
    sharded.shardCount = Cluster::size();
  }
  return naming(fmt::format("reading {} '{}'", flag, describeFiles(mine)),
                [&] { return readDataFiles(mine, plan, sharded); });
}

/// Refuses to run `command` under mpirun: it works in one process.
void oneProcessOnly(const char* command) {
  if (Cluster::distributed())
    fail("`{}` runs in one process; start it without mpirun (training runs under mpirun, "
         "docs/distributed.md)", command);
}

/// The values of a data flag as one name for messages ("a.csv,b*.csv").
std::string flagText(const std::vector<std::string>& values) {
  return fmt::format("{}", fmt::join(values, ","));
}

/// The one file a flag must name where several make no sense (retrieval).
std::string singleFile(const std::string& flag, const std::vector<std::string>& values) {
  const std::vector<std::string> files = expandDataFiles(flag, values);
  if (files.size() != 1)
    fail("{}: retrieval reads one test file, {} given ({})", flag, files.size(),
         describeFiles(files));
  return files[0];
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

/// Usage of `fn` running `spec` for the memory check (at its largest stream
/// batch, `batches` unless the step fixes its own).
StepMemory usage(const StepSpec& spec, const StepFunction& fn, const BatchSizes& batches) {
  return {&spec, fn.fixedBatch() > 0 ? fn.fixedBatches().largest() : batches.largest(),
          fn.workingBytes()};
}

/// The data files of the plan's other streams, in plan order, from the
/// --stream NAME=FILE flags; each stream needs one, and each names a stream.
std::vector<std::string> streamFiles(const ModelPlan& plan, const std::vector<std::string>& flags) {
  std::vector<std::string> names, files(plan.streams.size());
  for (const StreamSpec& s : plan.streams) names.push_back(s.name);
  const std::string known = names.empty() ? "it has none" : fmt::format("its streams: {}",
                                                                       fmt::join(names, ", "));
  for (const std::string& flag : flags) {
    const size_t eq = flag.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == flag.size())
      fail("--stream '{}': expected NAME=FILE, e.g. --stream {}=data.csv", flag,
           names.empty() ? "target" : names[0]);
    const std::string name = flag.substr(0, eq);
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end())
      fail("--stream {}: model '{}' has no stream '{}' ({})", flag, plan.model, name, known);
    std::string& file = files[size_t(it - names.begin())];
    if (!file.empty())
      fail("--stream {}: stream '{}' is given twice (also --stream {}={})", flag, name, name,
           file);
    file = flag.substr(eq + 1);
  }
  for (size_t k = 0; k < files.size(); ++k)
    if (files[k].empty())
      fail("--stream: model '{}' reads stream '{}' (a 'stream' block) in training; give its "
           "data with --stream {}=FILE", plan.model, names[k], names[k]);
  return files;
}

/// How to read input stream `stream` of a plan (0: the source).
ReadOptions streamReadOptions(int stream) {
  ReadOptions options;
  options.stream = stream;
  options.requireGroups = stream == 0;
  return options;
}

/// The data of input stream `stream` of `plan` (0: the source).
DataSet readStream(const std::string& flag, const std::vector<std::string>& values,
                   const ModelPlan& plan, int stream) {
  return readData(flag, values, plan, streamReadOptions(stream));
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

/// The read options of `recc eval` / `predict` data under --unseen.
ReadOptions unseenReadOptions(const ModelPlan& plan, const EvalArgs& a) {
  ReadOptions read = evalReadOptions(plan);
  read.unseen = unseenPolicy(a.unseen);
  read.unseenHint = true;
  return read;
}

/// Says on stderr what reading `path` did with unseen ids, when it did
/// anything.
void reportUnseen(const std::string& path, const std::string& policy,
                  const DataSet::Unseen& u) {
  if (Cluster::rank() != 0)  // under mpirun: the counts of all ranks, once
    return;
  if (u.skippedRows > 0)
    std::fprintf(stderr, "%s: --unseen %s: skipped %lld rows with an id outside its "
                 "input's vocabulary\n", path.c_str(), policy.c_str(), (long long)u.skippedRows);
  if (u.oovIds > 0)
    std::fprintf(stderr, "%s: %lld ids read as the out-of-vocabulary id 0 (--unseen %s, "
                 "or values missing from a vocabulary file)\n",
                 path.c_str(), (long long)u.oovIds, policy.c_str());
}

/// Prints the metrics line and the per-group tables of a result.
void printResult(const std::string& data, const EvalResult& result) {
  if (Cluster::rank() != 0)  // every rank holds the same result
    return;
  std::printf("%s: %s\n%s", data.c_str(), formatMetrics(result).c_str(),
              formatGroupTables(result).c_str());
}
} // namespace

namespace {
/// The retrieval flags that mean nothing without --corpus.
void checkRetrievalFlags(const RetrievalArgs& r) {
  for (const auto& [flag, value] : {std::pair{"--exclude-seen", &r.excludeSeen},
                                    {"--user-key", &r.userKey}, {"--item-key", &r.itemKey}})
    if (!value->empty()) fail("{} is a retrieval flag: it needs --corpus", flag);
}

/// --keep names each column once, and has no meaning for retrieval lists.
void checkKeepFlag(const EvalArgs& a) {
  if (!a.keep.empty() && !a.retrieval.corpus.empty())
    fail("--keep: retrieval lists (--corpus) are written per user; --keep applies to "
         "the scores of the eval step");
  for (size_t i = 0; i < a.keep.size(); ++i) {
    if (a.keep[i].empty())
      fail("--keep: empty column name in '{}'", fmt::join(a.keep, ","));
    for (size_t j = 0; j < i; ++j)
      if (a.keep[i] == a.keep[j])
        fail("--keep: column '{}' is named twice", a.keep[i]);
  }
}

const RetrievalSteps& needTowers(const RetrievalSteps* retrieval) {
  if (!retrieval)
    fail("--corpus: this trainer cannot retrieve from a corpus; use 'recc eval' or "
         "'recc predict' on the model file");
  return *retrieval;
}

/// The eval step's data, or nullopt (with the reason in `why`) when the
/// file lacks a column it needs: a retrieval test file need not carry every
/// label. Every other problem with the file is an error.
std::optional<DataSet> readIfComplete(const std::vector<std::string>& values,
                                      const ModelPlan& plan, std::string& why) {
  try {
    return readData("--data", values, plan, evalReadOptions(plan));
  } catch (const RuntimeError& e) {
    if (std::string(e.what()).find(": missing column '") == std::string::npos) throw;
    why = fmt::format("eval step skipped: {}", e.what());
    return std::nullopt;
  }
}

int runRetrievalEval(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a,
                     const RetrievalSteps* retrieval) {
  return guarded([&] {
    oneProcessOnly("recc eval --corpus");
    const RetrievalSteps& r = needTowers(retrieval);
    checkCanWrite("--metrics-json", a.metricsJson);
    ThreadLimit limit(a.threads);
    readCheckpointMetadata(a.checkpoint);
    const std::string testFile = singleFile("--data", a.data);
    std::string why;
    std::optional<DataSet> data = readIfComplete({testFile}, plan, why);
    std::unique_ptr<StepFunction> evalFn;
    if (data) {
      evalFn = makeStep(steps, plan, false);
      checkMemory(plan, {usage(plan.evalStep, *evalFn, plan.batchSize)});
    }
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    EvalResult result;
    if (data) {
      result = evaluate(state, *evalFn, *data, a.threads);
      printResult(testFile, result);
    } else {
      result.loss = NAN;
      result.notes["eval_step"] = why;
      std::printf("%s\n", why.c_str());
    }
    RetrievalResult rr = evaluateRetrieval(state, r.towers, r.make, a.retrieval, testFile);
    std::printf("%s", formatRetrieval(rr).c_str());
    if (!a.metricsJson.empty()) writeMetricsJson(a.metricsJson, state, result, "", &rr);
    return 0;
  });
}

int runRetrievalPredict(const ModelPlan& plan, const EvalArgs& a,
                        const RetrievalSteps* retrieval) {
  return guarded([&] {
    oneProcessOnly("recc eval --corpus");
    const RetrievalSteps& r = needTowers(retrieval);
    checkCanWrite("--out", a.out);
    ThreadLimit limit(a.threads);
    readCheckpointMetadata(a.checkpoint);
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    RetrievalResult rr = predictRetrieval(state, r.towers, r.make, a.retrieval,
                                          singleFile("--data", a.data), a.out);
    std::fprintf(stderr, "wrote the top %lld items of %lld users to %s\n",
                 (long long)*std::max_element(a.retrieval.ks.begin(), a.retrieval.ks.end()),
                 (long long)rr.requests, a.out.c_str());
    return 0;
  });
}
} // namespace

namespace {
/// --check-norms "[NAME=]X" and --check-norms-every as a NormCheck.
NormCheck parseNormCheck(const TrainArgs& a) {
  NormCheck check;
  if (a.checkNorms.empty())
    return check;
  std::string number = a.checkNorms;
  if (size_t eq = number.rfind('='); eq != std::string::npos) {
    check.value = number.substr(0, eq);
    number = number.substr(eq + 1);
  }
  char* end = nullptr;
  check.limit = std::strtod(number.c_str(), &end);
  if (number.empty() || *end != '\0' || !(check.limit > 0) || !std::isfinite(check.limit) ||
      (a.checkNorms.find('=') != std::string::npos && check.value.empty()))
    fail("--check-norms: expected X or NAME=X with X a positive number (the largest "
         "per-row L2 norm of an activation), got '{}'", a.checkNorms);
  check.every = a.checkNormsEvery;
  return check;
}
} // namespace

namespace {
/// --data of `recc train --stream-buffer`: its files and how to read them;
/// the first pass (surveyStreamedData) fills in the rest.
StreamedData streamedTrainData(const ModelPlan& plan, const TrainArgs& a) {
  StreamedData data;
  data.files = expandDataFiles("--data", a.data);
  // Under mpirun each rank streams its own files (Trainer.h).
  if (Cluster::distributed()) {
    if (data.files.size() < size_t(Cluster::size()))
      fail("--stream-buffer under mpirun: each rank streams files of its own, so --data needs "
           "at least {} files, one per rank; it names {} (split it, e.g. `split -n l/{}`, each "
           "part with the header)", Cluster::size(), data.files.size(), Cluster::size());
    data.files = rankFiles(data.files);
  }
  for (const std::string& file : data.files) {
    struct stat st{};
    if (::stat(file.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
      fail("--stream-buffer: {} is not a regular file: streaming reads --data once per "
           "epoch and once before, and a pipe can be read only once", file);
  }
  data.read = plan.streams.empty() ? ReadOptions{} : streamReadOptions(0);
  data.bufferRows = a.streamBuffer;
  data.chunkRows = chunkRowsFor(a.streamBuffer);
  return data;
}

/// The first pass over streamed --data (StreamSurvey.h), said on stderr.
void surveyStreamedData(const ModelPlan& plan, const TrainArgs& a, StreamedData& data,
                        DynamicRowCounts& touched) {
  DynamicRowCounts mine;
  naming(fmt::format("reading --data '{}'", describeFiles(data.files)),
         [&] { surveyStream(plan, data, mine); });
  if (Cluster::distributed())
    combineSurveysOverRanks(plan, a.shardTables, data, mine);
  for (const auto& [table, rows] : mine) touched[table] += rows;
  if (Cluster::rank() != 0)
    return;
  std::fprintf(stderr,
               "--stream-buffer %lld: streaming %lld rows of %zu file%s (chunks of %lld "
               "rows)", (long long)a.streamBuffer, (long long)data.rows, data.files.size(),
               data.files.size() == 1 ? "" : "s", (long long)data.chunkRows);
  if (Cluster::distributed()) {
    int64_t all = 0;
    for (int64_t rows : data.rankRows) all += rows;
    std::fprintf(stderr, " on rank 0; %lld rows over %d ranks", (long long)all, Cluster::size());
  }
  std::fprintf(stderr, "\n");
}
} // namespace

namespace {
/// The data of `recc train`: the source (in memory, or the files to stream),
/// each other stream's, the evaluation data, and what the final metrics
/// read when there is no --eval-data.
struct TrainInputs {
  std::optional<StreamedData> streamed;
  DataSet train;
  std::vector<DataSet> streams;
  std::optional<DataSet> eval;
  std::optional<DataSet> trainAsEval;
  std::string skipped;  ///< why trainAsEval is absent
  std::vector<const DataSet*> streamPointers() const {
    std::vector<const DataSet*> out;
    for (const DataSet& s : streams) out.push_back(&s);
    return out;
  }
};

TrainInputs readTrainInputs(const ModelPlan& plan, const TrainArgs& a,
                            const std::vector<std::string>& streamPaths) {
  TrainInputs in;
  const bool streamed = a.streamBuffer > 0;
  if (streamed)
    in.streamed = streamedTrainData(plan, a);
  else
    in.train = plan.streams.empty() ? readData("--data", a.data, plan)
                                    : readStream("--data", a.data, plan, 0);
  for (size_t k = 0; k < streamPaths.size(); ++k)
    in.streams.push_back(readStream("--stream " + plan.streams[k].name, {streamPaths[k]}, plan,
                                    int(k + 1)));
  if (!a.evalData.empty())
    in.eval = readData("--eval-data", a.evalData, plan, evalReadOptions(plan));
  // The final metrics of a model with streams and no --eval-data: every
  // stream reads the rows of --data, as in evaluation (read apart from
  // `train`, which holds the source's columns only).
  if (!in.eval && !plan.streams.empty() && !streamed)
    in.trainAsEval = readIfComplete(a.data, plan, in.skipped);
  return in;
}

/// The trainer's options from the flags; `log` and `initMeta` outlive it.
TrainOptions trainOptions(const TrainArgs& a, StepInspector* inspector, NormCheck norms,
                          TrainLog* log, const std::map<std::string, std::string>& initMeta,
                          const std::vector<std::string>& streamPaths) {
  TrainOptions options;
  options.epochs = a.epochs;
  options.threads = a.threads;
  if (Cluster::rank() != 0)  // under mpirun rank 0 speaks for all
    options.log = nullptr;
  options.checkpointPath = a.out;
  options.inspector = inspector;
  options.norms = norms;
  options.trainLog = log;
  options.checkpoints.every = a.checkpointEvery;
  options.checkpoints.evalEvery = a.evalEvery;
  options.checkpoints.keepBest = a.keepBest;
  options.checkpoints.patience = a.earlyStop;
  options.checkpoints.maxSteps = a.maxSteps;
  options.resumeMeta = initMeta;
  options.resumePath = a.init;
  options.dataNames.push_back(flagText(a.data));
  options.dataNames.insert(options.dataNames.end(), streamPaths.begin(), streamPaths.end());
  return options;
}

/// The flags checked before anything is read: a bad path or flag must not
/// cost an epoch of training. Returns the --check-norms setting.
NormCheck checkTrainFlags(const ModelPlan& plan, const TrainArgs& a,
                          StepInspector* inspector) {
  NormCheck norms = parseNormCheck(a);
  if (norms.limit > 0 && !inspector)
    fail("--check-norms: this trainer has no graph to replay a step and read its "
         "activations; use `recc train` on the model file");
  if (norms.limit > 0)
    inspector->validate(norms);
  checkCanWrite("--out", a.out);
  checkCanWrite("--metrics-json", a.metricsJson);
  checkCanWrite("--log", a.log);
  checkStageFlags(plan, a);
  checkCheckpointFlags(plan, a);
  if (a.streamBuffer > 0 && !a.metricsJson.empty() && a.evalData.empty())
    fail("--metrics-json: with --stream-buffer the final metrics are those of --eval-data "
         "(evaluating the training data would hold it in memory); give --eval-data");
  return norms;
}

/// The final metrics after training: of --eval-data, else of the training
/// data where it can be evaluated; printed, logged and written as asked.
void reportFinalMetrics(Trainer& trainer, const TrainInputs& in, const TrainArgs& a,
                        TrainLog* log) {
  if (in.streamed && !in.eval) {
    std::printf("%s: no final metrics: with --stream-buffer they are those of --eval-data\n",
                flagText(a.data).c_str());
    return;
  }
  if (!in.eval && !trainer.state().plan().streams.empty() && !in.trainAsEval) {
    std::printf("%s: final %s\n", flagText(a.data).c_str(), in.skipped.c_str());
    return;
  }
  EvalResult result =
      trainer.evaluate(in.eval ? *in.eval : in.trainAsEval ? *in.trainAsEval : in.train);
  result.best = trainer.best();
  result.stopped = trainer.stopReason();
  printResult(flagText(in.eval ? a.evalData : a.data), result);
  // With --eval-data the last epoch's line already holds these metrics.
  if (log && !in.eval) log->eval(trainer.state(), result, flagText(a.data));
  if (!a.metricsJson.empty()) writeMetricsJson(a.metricsJson, trainer.state(), result);
}
} // namespace

/// The plan whose state a rank holds: with --shard-tables every table is
/// dynamic (only the rows this rank owns and training touched).
ModelPlan statePlan(const ModelPlan& plan, const TrainArgs& a) {
  if (!a.shardTables)
    return plan;
  for (const StateSpec& s : plan.states)
    if (s.table)
      fail("--shard-tables: state '{}' is an EMA shadow of table '{}', which cannot be sharded "
           "yet; train without --shard-tables", s.name, s.of);
  ModelPlan sharded = plan;
  for (TableSpec& t : sharded.tables) t.dynamic = true;
  return sharded;
}

int runTrain(const ModelPlan& modelPlan, const StepFactory& steps, const TrainArgs& a,
             const InspectorFactory& inspectorFactory) {
  return guarded([&] {
    ModelPlan plan = statePlan(modelPlan, a);
    if (a.seed >= 0) plan.seed = uint64_t(a.seed);
    std::unique_ptr<StepInspector> inspector;
    if (inspectorFactory)
      inspector = inspectorFactory(plan);
    const NormCheck norms = checkTrainFlags(plan, a, inspector.get());
    const std::vector<std::string> streamPaths = streamFiles(plan, a.streams);
    const ModelPlan slicePlan = rankSlice(plan, Cluster::size());  // checked before reading
    if (Cluster::distributed() && a.streamBuffer > 0 && !plan.streams.empty())
      fail("--stream-buffer under mpirun: model '{}' reads other input streams, whose batches "
           "each rank draws from all ranks' rows in memory; train it without --stream-buffer",
           plan.model);
    ThreadLimit limit(a.threads);
    TrainInputs in = readTrainInputs(plan, a, streamPaths);
    // Bad checkpoints are reported before the tables are allocated.
    std::map<std::string, std::string> initMeta;
    if (!a.init.empty()) initMeta = readCheckpointMetadata(a.init);
    if (!a.initFrom.empty()) readCheckpointMetadata(a.initFrom);
    // The steps are made first so that the memory check counts their
    // activations before anything large is allocated.
    // Under mpirun each rank's train step runs its slice of the global batch.
    auto trainFn = makeStep(steps, slicePlan, true);
    auto evalFn = makeStep(steps, plan, false);
    // Dynamic tables are counted at the rows training will insert.
    // Sharded tables: the rows this rank will own, of every rank's data.
    auto touchedBy = [&](const DataSet& d) {
      return a.shardTables && Cluster::distributed() ? ownedTouchedRows(plan, d)
                                                     : touchedRows(plan, d);
    };
    DynamicRowCounts touched = in.streamed ? DynamicRowCounts{} : touchedBy(in.train);
    if (in.streamed) surveyStreamedData(plan, a, *in.streamed, touched);
    for (const DataSet& s : in.streams)  // the sum bounds the union
      for (const auto& [table, rows] : touchedBy(s)) touched[table] += rows;
    if (!a.init.empty())
      addStoredRows(touched, a.init, plan, a.shardTables && Cluster::distributed());
    checkMemory(plan, {usage(plan.trainStep, *trainFn, trainBatches(slicePlan)),
                       usage(plan.evalStep, *evalFn, plan.batchSize)},
                touched);
    ModelState state(plan);
    state.shardedTables = a.shardTables;
    Cluster::setOverlap(!a.noOverlap);
    if (!a.init.empty()) loadInto(a.init, state, a.allowNonFinite);
    if (!a.initFrom.empty()) transferInto(a.initFrom, state, a.allowNonFinite);
    std::optional<TrainLog> log;
    if (!a.log.empty() && Cluster::rank() == 0) log.emplace(a.log, plan, a.logEvery);
    TrainLog* logPtr = log ? &*log : nullptr;
    Trainer trainer(state, *trainFn, *evalFn,
                    trainOptions(a, inspector.get(), norms, logPtr, initMeta, streamPaths));
    const DataSet* eval = in.eval ? &*in.eval : nullptr;
    if (in.streamed)
      trainer.trainStreamed(*in.streamed, eval, in.streamPointers());
    else
      trainer.train(in.train, eval, in.streamPointers());
    reportFinalMetrics(trainer, in, a, logPtr);
    return 0;
  });
}

int runEval(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a,
            const RetrievalSteps* retrieval) {
  if (!a.retrieval.corpus.empty()) return runRetrievalEval(plan, steps, a, retrieval);
  return guarded([&] {
    checkRetrievalFlags(a.retrieval);
    checkCanWrite("--metrics-json", a.metricsJson);
    ThreadLimit limit(a.threads);
    // A missing or corrupt checkpoint is reported before the tables are allocated.
    readCheckpointMetadata(a.checkpoint);
    // Under mpirun each rank evaluates its rows; the metrics are over all.
    DataSet data = readData("--data", a.data, plan, unseenReadOptions(plan, a));
    const DataSet::Unseen unseen{int64_t(sumOverRanks(double(data.unseen().skippedRows))),
                                 int64_t(sumOverRanks(double(data.unseen().oovIds)))};
    reportUnseen(flagText(a.data), a.unseen, unseen);
    auto evalFn = makeStep(steps, plan, false);
    DynamicRowCounts stored;  // evaluation inserts no row into a dynamic table
    addStoredRows(stored, a.checkpoint, plan);
    checkMemory(plan, {usage(plan.evalStep, *evalFn, plan.batchSize)}, stored);
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    EvalResult result = evaluate(state, *evalFn, data, a.threads);
    result.unseenPolicy = a.unseen;
    result.unseen = unseen;
    printResult(flagText(a.data), result);
    if (!a.metricsJson.empty()) writeMetricsJson(a.metricsJson, state, result);
    return 0;
  });
}

namespace {
/// `predict --stream-rows`: --data read and scored a chunk at a time, in
/// file order, the chunks a multiple of the batch (so predict's batches).
int runStreamedPredict(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a,
                       const ReadOptions& read) {
  const std::vector<std::string> files = expandDataFiles("--data", a.data);
  auto evalFn = makeStep(steps, plan, false);
  DynamicRowCounts stored;  // evaluation inserts no row into a dynamic table
  addStoredRows(stored, a.checkpoint, plan);
  checkMemory(plan, {usage(plan.evalStep, *evalFn, plan.batchSize)}, stored);
  ModelState state(plan);
  loadInto(a.checkpoint, state, a.allowNonFinite);
  const int64_t batch = evalFn->fixedBatch() > 0 ? evalFn->fixedBatch() : plan.batchSize;
  const int64_t chunk = std::max<int64_t>(1, (a.streamRows + batch - 1) / batch) * batch;
  ChunkPipe pipe(files, plan, read, chunk);
  PredictedRows done =
      predictChunks(state, *evalFn, [&] { return pipe.next(); }, a.out, a.threads);
  reportUnseen(flagText(a.data), a.unseen, done.unseen);
  std::fprintf(stderr, "wrote %lld rows of scores to %s (streamed in chunks of %lld rows)\n",
               (long long)done.rows, a.out.c_str(), (long long)chunk);
  return 0;
}
} // namespace

int runPredict(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& a,
               const RetrievalSteps* retrieval) {
  return guarded([&] {
    oneProcessOnly("recc predict");
    checkKeepFlag(a);
    if (!a.retrieval.corpus.empty()) return runRetrievalPredict(plan, a, retrieval);
    checkRetrievalFlags(a.retrieval);
    checkCanWrite("--out", a.out);
    ThreadLimit limit(a.threads);
    // A missing or corrupt checkpoint is reported before the tables are allocated.
    readCheckpointMetadata(a.checkpoint);
    ReadOptions read = unseenReadOptions(plan, a);
    read.requireLabels = false;
    read.requireGroups = false;
    read.keep = a.keep;
    if (a.streamRows > 0) return runStreamedPredict(plan, steps, a, read);
    DataSet data = readData("--data", a.data, plan, read);
    reportUnseen(flagText(a.data), a.unseen, data.unseen());
    auto evalFn = makeStep(steps, plan, false);
    DynamicRowCounts stored;  // evaluation inserts no row into a dynamic table
    addStoredRows(stored, a.checkpoint, plan);
    checkMemory(plan, {usage(plan.evalStep, *evalFn, plan.batchSize)}, stored);
    ModelState state(plan);
    loadInto(a.checkpoint, state, a.allowNonFinite);
    predict(state, *evalFn, data, a.out, a.threads);
    std::fprintf(stderr, "wrote %lld rows of scores to %s\n", (long long)data.rows(),
                 a.out.c_str());
    return 0;
  });
}

} // namespace recc::rt
