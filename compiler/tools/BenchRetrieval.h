// BenchRetrieval: `recc bench-retrieval`, the speed of retrieval's exact
// top-K (runtime/TopK.h) on random vectors; see BenchRetrieval.cpp.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

namespace recc {

struct BenchRetrievalArgs {
  int64_t items = 300000;
  int64_t users = 10000;
  int64_t dim = 64;
  int64_t k = 200;
  int threads = 2;
  int reps = 3;
  std::vector<std::string> gemms{"eigen", "openblas"};
  int64_t queryBlock = 128;
  int64_t itemChunk = 1024;
  std::string json;
};

void addBenchRetrievalFlags(CLI::App& cmd, BenchRetrievalArgs& args);
int runBenchRetrieval(const BenchRetrievalArgs& args);

} // namespace recc
