// Bench: `recc bench` — training throughput of a model's full training step
// (gather, compiled step, dense and sparse optimizer updates) per backend,
// with peak memory and effective dense GFLOP/s, and with --inference the
// eval step's throughput (what `recc predict` runs per batch). Each backend runs in its own
// child process so that peak RSS is its own, and all run side by side in one
// invocation so their ratios are meaningful.
#pragma once

#include "compiler/passes/CompileModel.h"

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace recc {

struct BenchArgs {
  std::vector<std::string> backends{"mlir", "reference"};
  int steps = 30;           ///< timed steps (the reference backend runs at most refSteps)
  int refSteps = 3;
  int warmup = 3;
  int threads = 2;
  std::string json;         ///< write results as JSON here
  bool inference = false;   ///< also time the eval step, after training
};

void addBenchFlags(CLI::App& cmd, BenchArgs& args);
int runBench(const CompiledModel& model, const BenchArgs& args);

} // namespace recc
