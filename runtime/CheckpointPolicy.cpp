// CheckpointPolicy: see CheckpointPolicy.h.
#include "runtime/CheckpointPolicy.h"

#include "runtime/Checkpoint.h"
#include "runtime/Error.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace recc::rt {

std::string bestPath(const std::string& out) {
  const std::string ext = ".safetensors";
  if (out.size() > ext.size() && out.ends_with(ext))
    return out.substr(0, out.size() - ext.size()) + ".best" + ext;
  return out + ".best" + ext;
}

bool higherIsBetter(const ModelPlan& plan, const std::string& metric) {
  if (metric == "loss")
    return false;
  std::vector<std::string> names{"loss"};
  for (const MetricSpec& m : plan.metrics) {
    if (m.name == metric)
      return m.kind != "logloss";
    names.push_back(m.name);
  }
  fail("--keep-best {}: model '{}' has no metric '{}' (it has: {})", metric, plan.model, metric,
       fmt::join(names, ", "));
}

CheckpointPolicy::CheckpointPolicy(ModelState& state, CheckpointOptions options,
                                   std::function<EvalResult()> evaluate,
                                   std::function<void(const std::string&)> note)
    : State(state), Options(std::move(options)), Evaluate(std::move(evaluate)),
      Note(std::move(note)) {
  if (!Options.keepBest.empty())
    Higher = higherIsBetter(State.plan(), Options.keepBest);
}

void CheckpointPolicy::restore(const std::map<std::string, std::string>& meta,
                               const std::string& path) {
  auto it = meta.find("keep_best");
  if (Options.keepBest.empty() || it == meta.end())
    return;
  auto j = nlohmann::json::parse(it->second, nullptr, false);
  if (!j.is_object() || !j.contains("metric") || !j["metric"].is_string() ||
      !j.contains("value") || !j["value"].is_number() || !j.contains("step") ||
      !j["step"].is_number_integer() || !j.contains("epoch") ||
      !j["epoch"].is_number_integer() || !j.contains("stale") ||
      !j["stale"].is_number_integer())
    fail("{}: malformed metadata 'keep_best': '{}'", path, it->second);
  if (j["metric"].get<std::string>() != Options.keepBest)
    return;  // another metric: its best says nothing about this one
  Best = BestEval{Options.keepBest, j["value"].get<double>(), j["step"].get<int64_t>(),
                  j["epoch"].get<int64_t>(),
                  Options.path.empty() ? "" : bestPath(Options.path)};
  Stale = j["stale"].get<int64_t>();
}

std::string CheckpointPolicy::keepBestJson() const {
  nlohmann::json j{{"metric", Best->metric}, {"value", Best->value}, {"step", Best->step},
                   {"epoch", Best->epoch}, {"stale", Stale}};
  return j.dump();
}

void CheckpointPolicy::save(const std::string& path, int64_t epochStep) {
  TrainPosition position = Position;
  position.epochStep = epochStep;
  std::map<std::string, std::string> meta{{kPositionKey, positionJson(position)}};
  if (Best)
    meta["keep_best"] = keepBestJson();
  saveCheckpoint(path, State, meta);
}

bool CheckpointPolicy::judge(const EvalResult& eval, int64_t epochStep) {
  if (Options.keepBest.empty())
    return false;
  const std::string& metric = Options.keepBest;
  double value = NAN;
  if (metric == "loss")
    value = eval.loss;
  else if (auto it = eval.metrics.find(metric); it != eval.metrics.end())
    value = it->second;
  const bool better = std::isfinite(value) &&
                      (!Best || (Higher ? value > Best->value : value < Best->value));
  if (better) {
    const std::string path = Options.path.empty() ? "" : bestPath(Options.path);
    Best = BestEval{metric, value, State.step, State.epoch, path};
    Stale = 0;
    if (!path.empty())
      save(path, epochStep);
    Note(fmt::format("best {} {:.6g} at step {}{}", metric, value, State.step,
                     path.empty() ? "" : ": wrote " + path));
    return false;
  }
  ++Stale;
  if (Options.patience == 0 || Stale < Options.patience)
    return false;
  Stop = Best ? fmt::format("early stop: {} has not improved for {} evaluations (best {:.6g} "
                            "at step {})", metric, Stale, Best->value, Best->step)
              : fmt::format("early stop: {} was not finite in {} evaluations", metric, Stale);
  return true;
}

bool CheckpointPolicy::reachedMaxSteps() {
  if (Options.maxSteps == 0 || Steps < Options.maxSteps || !Stop.empty())
    return !Stop.empty();
  Stop = fmt::format("stopped after --max-steps {} (step {})", Options.maxSteps, State.step);
  return true;
}

bool CheckpointPolicy::afterStep(int64_t epochStep, bool epochEnd) {
  ++Steps;
  if (epochEnd)
    return false;
  bool stop = false;
  if (Evaluate && Options.evalEvery > 0 && State.step % Options.evalEvery == 0) {
    EvalResult eval = Evaluate();
    Note(fmt::format("step {} (epoch {}, {}/{}): eval: {}", State.step, State.epoch + 1,
                     epochStep, Position.epochBatches, formatMetrics(eval)));
    stop = judge(eval, epochStep);
  }
  stop = reachedMaxSteps() || stop;
  if (!Options.path.empty() &&
      (stop || (Options.every > 0 && State.step % Options.every == 0)))
    save(Options.path, epochStep);
  return stop;
}

bool CheckpointPolicy::afterEpoch(const std::optional<EvalResult>& eval) {
  bool stop = eval && judge(*eval, 0);
  stop = reachedMaxSteps() || stop;
  if (!Options.path.empty())
    save(Options.path, 0);
  if (State.epoch >= Position.lastEpoch)
    Stop.clear();  // the run ended anyway: nothing stopped it early
  return stop;
}

std::optional<BestEval> CheckpointPolicy::best() const { return Best; }

} // namespace recc::rt
