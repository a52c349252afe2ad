// CheckpointPolicy: what training does between steps besides stepping: when
// it writes checkpoints, evaluates, keeps the best model and stops early.
//   --out FILE               FILE at every epoch end (and when training stops)
//   --checkpoint-every N     also after every N-th optimizer step (global
//                            step count, so a resumed run writes at the same
//                            steps as an uninterrupted one)
//   --eval-every N           evaluates after every N-th step besides each
//                            epoch end
//   --keep-best METRIC       writes bestPath(FILE) whenever an evaluation
//                            improves METRIC (a metric of the model, or
//                            `loss`; logloss and loss are minimized, every
//                            other metric maximized)
//   --early-stop PATIENCE    stops after PATIENCE evaluations in a row
//                            without an improvement of METRIC
//   --max-steps N            stops after N steps of this run
// A stop writes FILE at the step it stopped (a mid-epoch checkpoint that
// --init resumes exactly). Every checkpoint records the run's position
// (TrainPosition.h) and the best evaluation so far (metadata "keep_best"),
// so a resumed run keeps the same best and patience count.
#pragma once

#include "runtime/Evaluator.h"
#include "runtime/ModelState.h"
#include "runtime/TrainPosition.h"

#include <functional>
#include <map>
#include <optional>
#include <string>

namespace recc::rt {

struct CheckpointOptions {
  std::string path;        ///< --out; empty: no checkpoint
  int64_t every = 0;       ///< --checkpoint-every; 0: epoch ends only
  int64_t evalEvery = 0;   ///< --eval-every; 0: epoch ends only
  std::string keepBest;    ///< --keep-best METRIC; empty: none
  int64_t patience = 0;    ///< --early-stop; 0: never
  int64_t maxSteps = 0;    ///< --max-steps; 0: no limit
};

/// OUT with a trailing ".safetensors" replaced by ".best.safetensors"
/// (m.safetensors -> m.best.safetensors; m -> m.best.safetensors).
std::string bestPath(const std::string& out);

/// True if a larger value of `metric` ("loss" or a plan metric) is better;
/// throws naming the model's metrics if it has no such metric.
bool higherIsBetter(const ModelPlan& plan, const std::string& metric);

class CheckpointPolicy {
public:
  /// `evaluate` scores the eval data; empty without eval data. `note`
  /// prints a line of the training log.
  CheckpointPolicy(ModelState& state, CheckpointOptions options,
                   std::function<EvalResult()> evaluate,
                   std::function<void(const std::string&)> note);

  /// The run's position (epoch step 0); set before the first step.
  void setPosition(const TrainPosition& position) { Position = position; }
  /// Takes the best evaluation so far from a resumed checkpoint's metadata
  /// (when it tracked the same metric).
  void restore(const std::map<std::string, std::string>& meta, const std::string& path);

  /// After an optimizer step; `epochStep` batches of the epoch are done,
  /// `epochEnd` if that was its last (afterEpoch follows). True: stop.
  bool afterStep(int64_t epochStep, bool epochEnd);
  /// After an epoch (state.epoch counts it), with its evaluation if any.
  /// True: stop.
  bool afterEpoch(const std::optional<EvalResult>& eval);

  /// Why training stopped early; empty if it did not.
  const std::string& stopReason() const { return Stop; }
  std::optional<BestEval> best() const;

private:
  /// Judges an evaluation at `epochStep`: writes the best checkpoint if it
  /// improved; true if patience ran out.
  bool judge(const EvalResult& eval, int64_t epochStep);
  bool reachedMaxSteps();
  void save(const std::string& path, int64_t epochStep);
  std::string keepBestJson() const;

  ModelState& State;
  CheckpointOptions Options;
  std::function<EvalResult()> Evaluate;
  std::function<void(const std::string&)> Note;
  TrainPosition Position;
  int64_t Steps = 0;  // steps of this run
  std::string Stop;
  bool Higher = true;
  std::optional<BestEval> Best;
  int64_t Stale = 0;  // evaluations since the best
};

} // namespace recc::rt
