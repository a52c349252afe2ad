// Bench: forked per-backend measurement; see the header.
#include "compiler/tools/Bench.h"

#include "compiler/ir/GraphStats.h"
#include "compiler/tools/Backends.h"
#include "runtime/CliChecks.h"
#include "runtime/DataSet.h"
#include "runtime/ModelState.h"
#include "runtime/Parallel.h"
#include "runtime/StepRunner.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <numeric>
#include <random>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace recc {

/// Bench steps are counted in int and multiplied by the batch size (up to
/// 2^24) for the synthetic data's row count, which must stay in int64.
constexpr int64_t kMaxBenchSteps = 1000000;

void addBenchFlags(CLI::App& cmd, BenchArgs& a) {
  cmd.add_option("--backends", a.backends, "backends to measure (mlir, reference)")
      ->delimiter(',')
      ->check(CLI::IsMember(std::vector<std::string>{"mlir", "reference"}));
  cmd.add_option("--steps", a.steps, "timed training steps")->check(rt::intRange(1, kMaxBenchSteps));
  cmd.add_option("--reference-steps", a.refSteps, "timed steps for the (slow) reference")
      ->check(rt::intRange(1, kMaxBenchSteps));
  cmd.add_option("--warmup", a.warmup, "untimed steps first")->check(rt::intRange(0, kMaxBenchSteps));
  cmd.add_option("--threads", a.threads, "threads")->check(rt::intRange(1, rt::kMaxThreads));
  cmd.add_option("--json", a.json, "write the results as JSON");
  cmd.add_flag("--inference", a.inference,
               "also time the eval step (what predict runs per batch) on the trained state");
}

namespace {
using Clock = std::chrono::steady_clock;

/// Random ids within each vocabulary, dense values ~N(0,1), 0/1 labels.
rt::DataSet syntheticData(const rt::ModelPlan& plan, int64_t rows) {
  rt::DataSet data(plan, rows);
  std::mt19937_64 rng(7);
  for (size_t f = 0; f < plan.features.size(); ++f) {
    if (plan.features[f].kind == rt::FeatureSpec::Kind::Dense) {
      std::normal_distribution<float> n;
      for (auto& v : data.dense((int)f)) v = n(rng);
    } else {
      std::uniform_int_distribution<int64_t> u(0, plan.features[f].vocab - 1);
      for (auto& id : data.ids((int)f)) id = u(rng);
    }
  }
  for (size_t l = 0; l < plan.labels.size(); ++l)
    for (auto& v : data.label((int)l)) v = (rng() % 10 == 0) ? 1.0f : 0.0f;
  return data;
}

struct Timed {
  double seconds = 0;        ///< sum over the timed steps
  double medianSeconds = 0;  ///< the median step
};

/// Runs `warmup + steps` steps of `step(s)` and times the last `steps`.
template <typename Step>
Timed timeSteps(int warmup, int steps, Step&& step) {
  std::vector<double> stepSeconds;
  Timed t;
  for (int s = 0; s < steps + warmup; ++s) {
    auto start = Clock::now();
    step(s);
    double dt = std::chrono::duration<double>(Clock::now() - start).count();
    if (s >= warmup) t.seconds += dt, stepSeconds.push_back(dt);
  }
  // The median step is what a shared machine's noise (other tenants, a
  // preempted thread) moves least; the mean is what a training run sees.
  std::nth_element(stepSeconds.begin(), stepSeconds.begin() + stepSeconds.size() / 2,
                   stepSeconds.end());
  t.medianSeconds = stepSeconds.empty() ? 0 : stepSeconds[stepSeconds.size() / 2];
  return t;
}

double secondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

/// The eval step (what `recc predict` runs per batch: gather, forward pass,
/// outputs) on the trained state, over the same synthetic rows.
nlohmann::json measureInference(const CompiledModel& model, BackendKind kind, const BenchArgs& a,
                                rt::ModelState& state, const rt::DataSet& data, int steps) {
  const rt::ModelPlan& plan = model.plan;
  int64_t batch = plan.batchSize;
  auto t0 = Clock::now();
  auto step = makeStepFactory(model, kind, a.threads)(plan, false);
  double compileSeconds = secondsSince(t0);
  rt::StepRunner runner(plan.evalStep, state, *step, batch, "eval step");
  std::vector<int64_t> rows(batch);
  Timed t = timeSteps(a.warmup, steps, [&](int s) {
    std::iota(rows.begin(), rows.end(), (int64_t)s * batch);
    runner.run(data, rows, (uint32_t)s);
  });
  const double rate = steps * batch / t.seconds;
  return {{"infer_samples_per_second", rate},
          {"infer_dense_gflops", rate * forwardFlopsPerSample(model.evalGraph) / 1e9},
          {"infer_step_ms", 1e3 * t.seconds / steps},
          {"infer_median_step_ms", 1e3 * t.medianSeconds},
          {"infer_compile_seconds", compileSeconds}};
}

nlohmann::json measure(const CompiledModel& model, BackendKind kind, const BenchArgs& a) {
  rt::ThreadLimit limit(a.threads);
  const rt::ModelPlan& plan = model.plan;
  auto t0 = Clock::now();
  auto step = makeStepFactory(model, kind, a.threads)(plan, true);
  double compileSeconds = secondsSince(t0);
  rt::ModelState state(plan);
  int steps = kind == BackendKind::Reference ? std::min(a.steps, a.refSteps) : a.steps;
  int64_t batch = plan.batchSize;
  // A model with input streams draws a batch of each (its own size) per step,
  // here all from the same synthetic rows.
  const rt::BatchSizes batches = rt::trainBatches(plan);
  rt::DataSet data = syntheticData(plan, batches.largest() * (steps + a.warmup));
  rt::StepRunner runner(plan.trainStep, state, *step, batches, "train step");
  std::vector<std::vector<int64_t>> rows(plan.streams.size() + 1);
  std::vector<rt::StepRunner::StreamRows> in(rows.size());
  Timed t = timeSteps(a.warmup, steps, [&](int s) {
    for (size_t k = 0; k < rows.size(); ++k) {
      rows[k].resize(batches.stream(k));
      std::iota(rows[k].begin(), rows[k].end(), (int64_t)s * batches.stream(k));
      in[k] = {&data, rows[k]};
    }
    runner.run(in, (uint32_t)s);
    runner.applyGradients();
  });
  double samplesPerSecond = steps * batch / t.seconds;
  double trainFlops = 3 * forwardFlopsPerSample(model.evalGraph);
  nlohmann::json r = {{"backend", backendName(kind)},
                      {"compile_seconds", compileSeconds},
                      {"steps", steps},
                      {"batch", batch},
                      {"threads", a.threads},
                      {"train_samples_per_second", samplesPerSecond},
                      {"step_ms", 1e3 * t.seconds / steps},
                      {"median_step_ms", 1e3 * t.medianSeconds},
                      {"dense_gflops", samplesPerSecond * trainFlops / 1e9},
                      {"loss", runner.loss()}};
  if (a.inference) r.update(measureInference(model, kind, a, state, data, steps));
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  r["peak_rss_mb"] = usage.ru_maxrss / 1024.0;
  return r;
}

/// Runs measure() in a child process and returns its JSON result.
nlohmann::json measureInChild(const CompiledModel& model, BackendKind kind, const BenchArgs& a) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("bench: pipe() failed");
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    std::string out;
    try {
      out = measure(model, kind, a).dump();
    } catch (const std::exception& e) {
      out = nlohmann::json{{"backend", backendName(kind)}, {"error", e.what()}}.dump();
    }
    (void)!write(fds[1], out.data(), out.size());
    close(fds[1]);
    _exit(0);
  }
  close(fds[1]);
  std::string text;
  char buf[4096];
  for (ssize_t n; (n = read(fds[0], buf, sizeof buf)) > 0;) text.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (text.empty())
    return {{"backend", backendName(kind)}, {"error", "benchmark process died"}};
  return nlohmann::json::parse(text);
}
} // namespace

int runBench(const CompiledModel& model, const BenchArgs& a) {
  double fwd = forwardFlopsPerSample(model.evalGraph);
  fmt::print("bench '{}': batch {}, {} threads, {:.2f} dense MFLOP/sample (train = 3x forward)\n",
             model.plan.model, model.plan.batchSize, a.threads, 3 * fwd / 1e6);
  nlohmann::json all = nlohmann::json::array();
  for (const auto& name : a.backends) {
    nlohmann::json r = measureInChild(model, parseBackend(name), a);
    if (r.contains("error"))
      fmt::print("  {:<10} error: {}\n", name, r["error"].get<std::string>());
    else
      fmt::print("  {:<10} {:>10.0f} samples/s  {:>7.2f} ms/step (median {:.2f})  {:>7.1f} "
                 "GFLOP/s  peak RSS {:>7.0f} MB  (compile {:.2f} s)\n",
                 name, r["train_samples_per_second"].get<double>(), r["step_ms"].get<double>(),
                 r["median_step_ms"].get<double>(), r["dense_gflops"].get<double>(),
                 r["peak_rss_mb"].get<double>(), r["compile_seconds"].get<double>());
    if (r.contains("infer_samples_per_second"))
      fmt::print("  {:<10} {:>10.0f} samples/s  {:>7.2f} ms/step (median {:.2f})  {:>7.1f} "
                 "GFLOP/s  inference (compile {:.2f} s)\n",
                 name, r["infer_samples_per_second"].get<double>(), r["infer_step_ms"].get<double>(),
                 r["infer_median_step_ms"].get<double>(), r["infer_dense_gflops"].get<double>(),
                 r["infer_compile_seconds"].get<double>());
    all.push_back(r);
  }
  if (!a.json.empty()) {
    std::ofstream out(a.json);
    out << nlohmann::json{{"model", model.plan.model},
                          {"dense_mflop_per_sample_train", 3 * fwd / 1e6},
                          {"results", all}}
               .dump(2)
        << "\n";
  }
  return 0;
}

} // namespace recc
