// TrainerFlags: the command-line flags of `train`, `eval` and `predict`, shared
// by `recc` and compiled trainers (TrainerApp.h declares them); what the
// flags mean together is checked where the commands run (TrainerApp.cpp).
#include "runtime/TrainerApp.h"

#include "runtime/CheckpointPolicy.h"
#include "runtime/CliChecks.h"

namespace recc::rt {
namespace {
void addRetrievalFlags(CLI::App& cmd, RetrievalArgs& r, bool predict) {
  cmd.add_option("--corpus", r.corpus,
                 predict ? "item-side columns of every item: write each user's top-K items of it"
                         : "item-side columns of every item: retrieve from it (HitRate, "
                           "Precision, Recall, NDCG @K)");
  cmd.add_option("--exclude-seen", r.excludeSeen,
                 "training data: items a user clicked there (label 1) are not retrieved for them");
  cmd.add_option("--k", r.ks, predict ? "list length: the largest of these (default 50,100,200)"
                                      : "cut-offs K (default 50,100,200)")
      ->delimiter(',')
      ->check(intRange(1, 1 << 20));
  cmd.add_option("--user-key", r.userKey,
                 "id input grouping the test rows into users (default: the user tower's first)");
  cmd.add_option("--item-key", r.itemKey,
                 "id input naming the items (default: the item tower's first)");
}

/// The flags of CheckpointPolicy.h.
void addCheckpointFlags(CLI::App& cmd, TrainArgs& a) {
  cmd.add_option("--checkpoint-every", a.checkpointEvery,
                 "also write --out after every N-th step (a mid-epoch checkpoint that --init "
                 "resumes exactly)")
      ->check(intRange(1, kMaxSteps));
  cmd.add_option("--eval-every", a.evalEvery,
                 "also evaluate --eval-data after every N-th step")
      ->check(intRange(1, kMaxSteps));
  cmd.add_option("--keep-best", a.keepBest,
                 "METRIC: write OUT.best.safetensors whenever an evaluation improves METRIC "
                 "(a metric of the model, or loss; loss and logloss are minimized, others "
                 "maximized)");
  cmd.add_option("--early-stop", a.earlyStop,
                 "PATIENCE: stop after PATIENCE evaluations in a row without an improvement "
                 "of the --keep-best metric")
      ->check(intRange(1, kMaxSteps));
  cmd.add_option("--max-steps", a.maxSteps,
                 "stop after N steps of this run, writing --out (resume it with --init)")
      ->check(intRange(1, kMaxSteps));
  cmd.add_flag("--shard-tables", a.shardTables,
               "under mpirun: split every table by row over the ranks (id mod N) instead of "
               "holding it whole on each (docs/distributed.md)");
  cmd.add_flag("--no-overlap", a.noOverlap,
               "under mpirun: sum the dense gradients over the ranks after the step, before the "
               "row gradients' exchange, rather than on a thread while the backward pass runs");
}
} // namespace

void addTrainFlags(CLI::App& cmd, TrainArgs& a) {
  cmd.add_option("--data", a.data,
                 "training data (CSV/TSV with a header row; gzip or zstd read directly): "
                 "files, comma lists or globs, repeatable, read in order as one data set")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--stream", a.streams,
                 "NAME=FILE: the data of the model's stream NAME (a 'stream' block), cycled "
                 "during training; repeat for each stream")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--eval-data", a.evalData,
                 "evaluation data, scored after each epoch (files, lists or globs as --data)")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  cmd.add_option("--stream-buffer", a.streamBuffer,
                 "ROWS: stream --data from its files through a shuffle buffer of ROWS rows, "
                 "parsing while training, instead of reading it into memory (docs/data.md)")
      ->check(intRange(1, int64_t(1) << 40));
  cmd.add_option("--out", a.out, "checkpoint to write (safetensors), atomically each epoch");
  cmd.add_option("--init", a.init, "checkpoint to resume from");
  cmd.add_option("--init-from", a.initFrom,
                 "checkpoint of the earlier stage a model with 'init = m' starts from "
                 "(parameters and tables by name; fresh optimizer state)");
  cmd.add_option("--metrics-json", a.metricsJson, "write the final metrics as JSON");
  cmd.add_flag("--allow-non-finite", a.allowNonFinite,
               "load an --init or --init-from checkpoint even if it holds NaN or infinite "
               "values");
  cmd.add_option("--epochs", a.epochs,
                 "epochs (default: the model's train setting; with --init of an unfinished "
                 "run, until its last epoch)")
      ->check(intRange(1, kMaxEpochs));
  cmd.add_option("--threads", a.threads, "worker threads (default: all cores)")
      ->check(intRange(1, kMaxThreads));
  cmd.add_option("--seed", a.seed, "random seed (default: the model's train setting)")
      ->check(intRange(0, kMaxSeed));
  cmd.add_option("--check-norms", a.checkNorms,
                 "[NAME=]X: stop when a row of a forward activation (every one, or the value "
                 "NAME) has an L2 norm above X, naming the op (a reference replay of the step "
                 "every --check-norms-every steps)");
  cmd.add_option("--check-norms-every", a.checkNormsEvery,
                 "steps between --check-norms replays (default 100)")
      ->check(intRange(1, kMaxSteps));
  cmd.add_option("--log", a.log,
                 "write the training curve as JSON lines: losses, samples/s and learning "
                 "rate every --log-every steps (or 10 s), the metrics of each evaluation; "
                 "draw it with `recc plot`");
  cmd.add_option("--log-every", a.logEvery, "steps between --log train lines (default 100)")
      ->check(intRange(1, kMaxSteps));
  addCheckpointFlags(cmd, a);
}

void addEvalFlags(CLI::App& cmd, EvalArgs& a, bool predict, bool retrieval) {
  cmd.add_option("--ckpt,--init", a.checkpoint, "checkpoint to load")->required();
  cmd.add_option("--data", a.data,
                 "data to score (CSV/TSV with a header row; gzip or zstd read directly): "
                 "files, comma lists or globs, repeatable, read in order")
      ->required()
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  if (predict) {
    cmd.add_option("--out", a.out, "scores CSV to write")->required();
    cmd.add_option("--stream-rows", a.streamRows,
                   "ROWS: read and score --data ROWS rows at a time (rounded up to whole "
                   "batches), writing scores as they come, instead of reading it into memory")
        ->check(intRange(1, int64_t(1) << 40));
    cmd.add_option("--keep", a.keep,
                   "data columns (comma-separated) copied beside the scores, e.g. the ids "
                   "to join them back by")
        ->delimiter(',');
  }
  else
    cmd.add_option("--metrics-json", a.metricsJson, "write the metrics as JSON");
  cmd.add_flag("--allow-non-finite", a.allowNonFinite,
               "load the checkpoint even if it holds NaN or infinite values");
  cmd.add_option("--threads", a.threads, "worker threads (default: all cores)")
      ->check(intRange(1, kMaxThreads));
  cmd.add_option("--unseen", a.unseen,
                 "an integer id outside its input's vocabulary: error (default), oov (read "
                 "as id 0) or skip (drop its row); counts go to stderr and the metrics JSON")
      ->check(CLI::IsMember({"error", "oov", "skip"}));
  if (retrieval) addRetrievalFlags(cmd, a.retrieval, predict);
}

} // namespace recc::rt
