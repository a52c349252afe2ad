// aot_gen: writes the AOT test's object files — the ESMM-like test model's
// train and eval steps as `aot_train_step` / `aot_eval_step` for batch 9, and
// a larger train step compiled for two threads (OpenMP) as
// `aot_train_step_mt` for batch 200.
#include "TestModels.h"

#include "compiler/mlir/Backend.h"

#include <cstdio>
#include <exception>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s out.o out_mt.o\n", argv[0]);
    return 2;
  }
  try {
    recc::Graph train = recc::mlirtest::esmmLikeGraph(true);
    recc::Graph eval = recc::mlirtest::esmmLikeGraph(false);
    recc::emitObject({{&train, "aot_train_step"}, {&eval, "aot_eval_step"}}, 9, argv[1]);
    recc::Graph big = recc::mlirtest::esmmLikeGraph(true, 96, 256);
    recc::CodegenOptions twoThreads;
    twoThreads.threads = 2;
    recc::emitObject({{&big, "aot_train_step_mt"}}, 200, argv[2], twoThreads);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "aot_gen: %s\n", e.what());
    return 1;
  }
  return 0;
}
