// TrainLog: the training curve as JSON lines (`--log run.jsonl`), one object
// per line, each written and flushed as it happens, so a run that crashes or
// is killed keeps every line written before (`recc plot` draws them):
//   {"kind": "start", "model": "esmm", "optimizer": "adam", "lr": 0.0005,
//    "batch": 1000}
//   {"kind": "train", "step": 200, "epoch": 1, "steps": 100, "loss": 0.41,
//    "loss_terms": {"ctr": 0.38, "ctcvr": 0.03}, "samples_per_s": 51200,
//    "lr": 0.0005, "elapsed_s": 3.9}
//   {"kind": "eval", "step": 2000, "epoch": 1, "data": "test.csv",
//    "rows": 500000, "loss": 0.40, "metrics": {"cvr_auc": 0.71, ...}}
// A train line comes every `everySteps` steps (--log-every, default 100), or
// sooner once 10 s have passed since the previous one (slow models still log),
// and at the end of each epoch. Its loss, loss terms (the train step's `loss`
// statements) and samples/s are means over the steps since the previous
// line; `step` counts the optimizer steps done (state.step), `lr` is the
// optimizer's learning rate (constant: recc has no schedules), elapsed_s
// counts from the start line. Non-finite numbers are written as null. The file
// is written afresh by each run.
#pragma once

#include "runtime/Evaluator.h"
#include "runtime/ModelState.h"

#include <nlohmann/json_fwd.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

namespace recc::rt {

class TrainLog {
public:
  /// Opens `path` for writing (a RuntimeError naming `flag` if it cannot) and
  /// writes the start line.
  TrainLog(const std::string& path, const ModelPlan& plan, int64_t everySteps = 100,
           std::string flag = "--log");
  ~TrainLog();
  TrainLog(const TrainLog&) = delete;
  TrainLog& operator=(const TrainLog&) = delete;

  /// Before the first step of an epoch: the time since the last line (an
  /// evaluation, a checkpoint) does not count towards samples/s.
  void startEpoch() { LastLine = Clock::now(); }
  /// The losses of one train step: its Loss and each LossTerm.
  struct StepLoss {
    float loss;
    std::vector<std::pair<std::string, float>> terms;
  };
  /// After each applied train step of epoch `epoch` over `rows` rows: adds its
  /// losses; writes a train line when one is due or `endOfEpoch`.
  void step(const ModelState& state, int64_t epoch, const StepLoss& loss, int64_t rows,
            bool endOfEpoch);
  /// After an evaluation on `data`: one eval line.
  void eval(const ModelState& state, const EvalResult& result, const std::string& data);

  /// Seconds after which a train line is due whatever the step count.
  static constexpr double kEverySeconds = 10.0;

private:
  using Clock = std::chrono::steady_clock;
  void writeTrainLine(const ModelState& state, int64_t epoch);
  void writeLine(const nlohmann::ordered_json& j);
  double secondsSince(Clock::time_point t) const;

  std::string Path, Flag;
  std::FILE* Out = nullptr;
  int64_t EverySteps;
  double Lr;
  Clock::time_point Start, LastLine;
  // The steps since the last train line.
  int64_t Steps = 0, Rows = 0;
  double LossSum = 0;
  std::vector<std::pair<std::string, double>> TermSums;
};

} // namespace recc::rt
