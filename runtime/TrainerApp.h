// TrainerApp: the train / eval / predict commands, shared by the `recc` driver
// and by standalone trainers that `recc compile` writes. Both hand it a plan
// and a way to make step functions; the commands, their flags, messages and
// exit codes are then identical whichever backend runs the steps.
#pragma once

#include "runtime/ModelPlan.h"
#include "runtime/Retrieval.h"
#include "runtime/StepFunction.h"
#include "runtime/StepInspector.h"

#include <CLI/CLI.hpp>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace recc::rt {

/// Makes the train (`train` = true) or eval step function for a plan.
using StepFactory = std::function<std::unique_ptr<StepFunction>(const ModelPlan&, bool train)>;

struct TrainArgs {
  /// Training data (CSV/TSV with header): files, comma lists, globs
  /// (DataFiles.h), read as one data set.
  std::vector<std::string> data;
  /// --stream NAME=FILE: the data of each of the model's `stream` blocks.
  std::vector<std::string> streams;
  std::vector<std::string> evalData;  ///< evaluated after every epoch and at the end
  /// > 0: stream --data through a shuffle buffer of this many rows instead
  /// of reading it into memory (docs/data.md, Trainer::trainStreamed).
  int64_t streamBuffer = 0;
  std::string out;           ///< checkpoint path (safetensors), written each epoch
  std::string init;          ///< checkpoint to resume from
  std::string initFrom;      ///< checkpoint of the earlier stage (plan.initFrom)
  std::string metricsJson;   ///< final metrics as JSON
  bool allowNonFinite = false;  ///< load NaN/Inf values from --init / --init-from
  int64_t epochs = 0;        ///< 0: the model's setting
  int64_t seed = -1;         ///< < 0: the model's setting (initialization, shuffling, dropout)
  int threads = 0;           ///< 0: all cores
  std::string checkNorms;    ///< "[NAME=]X": per-row activation norm limit (StepInspector.h)
  int64_t checkNormsEvery = 100;  ///< steps between --check-norms replays
  std::string log;           ///< --log: the training curve as JSON lines (TrainLog.h)
  int64_t logEvery = 100;    ///< --log-every: steps between train lines
  /// CheckpointPolicy.h: --checkpoint-every, --eval-every, --keep-best,
  /// --early-stop, --max-steps (0 / empty: off).
  int64_t checkpointEvery = 0;
  int64_t evalEvery = 0;
  std::string keepBest;
  int64_t earlyStop = 0;
  int64_t maxSteps = 0;
  /// Under mpirun: split every table by row over the ranks (ShardedTables.h)
  /// instead of holding it whole on each.
  bool shardTables = false;
  bool noOverlap = false;
};

struct EvalArgs {
  std::string checkpoint;
  std::vector<std::string> data;  ///< files, comma lists, globs (DataFiles.h)
  std::string metricsJson;   ///< eval: metrics as JSON
  std::string out;           ///< predict: scores CSV
  bool allowNonFinite = false;  ///< load NaN/Inf values from the checkpoint
  int threads = 0;
  /// Integer ids outside their vocabulary: "error", "oov" (id 0) or "skip"
  /// the row (CsvReader.h, UnseenPolicy).
  std::string unseen = "error";
  /// predict: > 0 reads and scores --data this many rows at a time
  /// (Evaluator.h, predictChunks) instead of reading it into memory.
  int64_t streamRows = 0;
  /// predict: data columns written beside the scores (to join them back).
  std::vector<std::string> keep;
  RetrievalArgs retrieval;   ///< with a corpus: retrieval over it (Retrieval.h)
};

/// What retrieval needs besides the plan: the towers and their step functions.
struct RetrievalSteps {
  TowerSpec towers;
  TowerFactory make;
};

/// Registers the flags of each command on a CLI11 subcommand.
void addTrainFlags(CLI::App& cmd, TrainArgs& args);
/// `retrieval`: also --corpus, --exclude-seen, --k, --user-key, --item-key.
void addEvalFlags(CLI::App& cmd, EvalArgs& args, bool predict, bool retrieval = false);

/// Makes the inspector that replays a bad train step to name the op at fault
/// (StepInspector.h); `recc train` has one, a standalone trainer none.
using InspectorFactory = std::function<std::unique_ptr<StepInspector>(const ModelPlan&)>;

/// Each returns the process exit code; errors are printed as "error: ...".
int runTrain(const ModelPlan& plan, const StepFactory& steps, const TrainArgs& args,
             const InspectorFactory& inspector = {});
/// With args.retrieval.corpus set, `retrieval` must be given: eval adds the
/// retrieval metrics (and still runs the eval step when the data has all its
/// columns); predict writes the top-K lists instead of the eval step's outputs.
int runEval(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& args,
            const RetrievalSteps* retrieval = nullptr);
int runPredict(const ModelPlan& plan, const StepFactory& steps, const EvalArgs& args,
               const RetrievalSteps* retrieval = nullptr);

} // namespace recc::rt
