// TrainerMain: main() of a standalone trainer written by `recc compile`. The
// generated object provides the two step functions and the plan; everything
// else is the runtime library, so this binary trains, evaluates and predicts
// with no recc installation beside it.
#include "runtime/Cluster.h"
#include "runtime/Error.h"
#include "runtime/TrainerApp.h"

#include <cstdio>

extern "C" void recc_train_step(float** buffers);
extern "C" void recc_eval_step(float** buffers);
extern "C" const char recc_plan_json[];
extern "C" const int recc_train_ranks;  // recc compile --ranks

namespace {

/// A step compiled ahead of time for the plan's batch sizes (the train
/// step: the source's and each stream's; the eval step: one for all).
class AotStep final : public recc::rt::StepFunction {
public:
  AotStep(void (*fn)(float**), recc::rt::BatchSizes batch) : Fn(fn), Batch(std::move(batch)) {}
  void run(const recc::rt::BatchSizes& batch, float* const* buffers) override {
    if (!(batch == Batch))
      recc::rt::fail("this trainer was compiled for batches of {} rows, got {}", Batch.str(),
                     batch.str());
    Fn(const_cast<float**>(buffers));
  }
  int64_t fixedBatch() const override { return Batch.source(); }
  recc::rt::BatchSizes fixedBatches() const override { return Batch; }

private:
  void (*Fn)(float**);
  recc::rt::BatchSizes Batch;
};

} // namespace

int main(int argc, char** argv) {
  using namespace recc::rt;
  ClusterScope cluster(&argc, &argv);  // under mpirun: one rank of the job
  ModelPlan plan = planFromJson(recc_plan_json);
  CLI::App app{"standalone trainer for model '" + plan.model + "' (written by recc compile)"};
  app.require_subcommand(1);
  TrainArgs trainArgs;
  EvalArgs evalArgs;
  auto* train = app.add_subcommand("train", "train on a data file");
  addTrainFlags(*train, trainArgs);
  auto* eval = app.add_subcommand("eval", "metrics of a checkpoint on a data file");
  addEvalFlags(*eval, evalArgs, false);
  auto* predict = app.add_subcommand("predict", "scores of a checkpoint on a data file");
  addEvalFlags(*predict, evalArgs, true);
  auto* show = app.add_subcommand("plan", "print the model plan (JSON)");
  CLI11_PARSE(app, argc, argv);

  StepFactory steps = [&plan](const ModelPlan& p, bool isTrain) -> std::unique_ptr<StepFunction> {
    // Under mpirun -np N the train step runs B/N rows: it must be compiled so.
    if (isTrain && p.batchSize * recc_train_ranks != plan.batchSize)
      fail("this trainer's train step was compiled for {} (recc compile --ranks {}), but runs "
           "as {}: compile it with --ranks {}",
           recc_train_ranks > 1 ? fmt::format("{} ranks", recc_train_ranks) : "one process",
           recc_train_ranks,
           Cluster::distributed() ? fmt::format("{} ranks", Cluster::size()) : "one process",
           Cluster::size());
    if (isTrain) return std::make_unique<AotStep>(recc_train_step, trainBatches(p));
    return std::make_unique<AotStep>(recc_eval_step, p.batchSize);
  };
  if (*show) {
    std::printf("%s\n", recc_plan_json);
    return 0;
  }
  if (*train) return runTrain(plan, steps, trainArgs);
  if (*eval) return runEval(plan, steps, evalArgs);
  return runPredict(plan, steps, evalArgs);
}
