// TrainLog: see TrainLog.h.
#include "runtime/TrainLog.h"

#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>

namespace recc::rt {
namespace {
using Json = nlohmann::ordered_json;

Json number(double v) { return std::isfinite(v) ? Json(v) : Json(nullptr); }
} // namespace

TrainLog::TrainLog(const std::string& path, const ModelPlan& plan, int64_t everySteps,
                   std::string flag)
    : Path(path), Flag(std::move(flag)), EverySteps(std::max<int64_t>(everySteps, 1)),
      Lr(plan.optimizer.lr), Start(Clock::now()), LastLine(Start) {
  Out = std::fopen(path.c_str(), "w");
  if (!Out)
    fail("{} {}: cannot open for writing: {}", Flag, path, std::strerror(errno));
  writeLine({{"kind", "start"},
             {"model", plan.model},
             {"optimizer", plan.optimizer.kind},
             {"lr", Lr},
             {"batch", plan.batchSize}});
}

TrainLog::~TrainLog() {
  if (Out)
    std::fclose(Out);
}

double TrainLog::secondsSince(Clock::time_point t) const {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

void TrainLog::writeLine(const Json& j) {
  const std::string line = j.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), Out) != line.size() || std::fflush(Out) != 0)
    fail("{} {}: write failed: {}", Flag, Path, std::strerror(errno));
}

void TrainLog::step(const ModelState& state, int64_t epoch, const StepLoss& loss, int64_t rows,
                    bool endOfEpoch) {
  if (TermSums.empty())
    for (const auto& [name, value] : loss.terms)
      TermSums.emplace_back(name, 0.0);
  for (size_t i = 0; i < loss.terms.size() && i < TermSums.size(); ++i)
    TermSums[i].second += loss.terms[i].second;
  LossSum += loss.loss;
  Rows += rows;
  ++Steps;
  if (endOfEpoch || Steps >= EverySteps || secondsSince(LastLine) >= kEverySeconds)
    writeTrainLine(state, epoch);
}

void TrainLog::writeTrainLine(const ModelState& state, int64_t epoch) {
  const double seconds = secondsSince(LastLine);
  Json terms = Json::object();
  for (auto& [name, sum] : TermSums) {
    terms[name] = number(sum / double(Steps));
    sum = 0;
  }
  writeLine({{"kind", "train"},
             {"step", state.step},
             {"epoch", epoch},
             {"steps", Steps},
             {"loss", number(LossSum / double(Steps))},
             {"loss_terms", terms},
             {"samples_per_s", number(seconds > 0 ? double(Rows) / seconds : NAN)},
             {"lr", Lr},
             {"elapsed_s", secondsSince(Start)}});
  Steps = Rows = 0;
  LossSum = 0;
  LastLine = Clock::now();
}

void TrainLog::eval(const ModelState& state, const EvalResult& result, const std::string& data) {
  Json metrics = Json::object();
  for (const auto& [name, value] : result.metrics)
    metrics[name] = number(value);
  writeLine({{"kind", "eval"},
             {"step", state.step},
             {"epoch", state.epoch},
             {"data", data},
             {"rows", result.rows},
             {"loss", number(result.loss)},
             {"metrics", metrics},
             {"elapsed_s", secondsSince(Start)}});
}

} // namespace recc::rt
