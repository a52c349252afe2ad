// libFuzzer target for the checkpoint loader: any bytes are written to a
// file, then read as a checkpoint of a small model that has every kind of
// saved tensor (two tables, dense parameters, a tanh_zscore feature's
// statistics, running statistics and EMA shadows of a parameter and of a
// table), by one of: readCheckpointMetadata; loadCheckpoint refusing
// non-finite values; loadCheckpoint allowing them, then the safetensors
// reader's own checks of every tensor (chosen by the input's size mod 3).
// Bad input must only ever be a RuntimeError naming the file and the
// problem: a crash, a sanitizer report, a leak or any other exception is a
// bug. Seeded with tests/fuzz/corpus/checkpoint (scripts/fuzz.sh).
//
// RECC_FUZZ_WRITE_SEED=PATH: writes a valid checkpoint of the model to PATH
// and exits (how corpus/checkpoint/valid.safetensors was made; the other
// seeds are edits of it: truncated, flipped bit, NaN, overlapping offsets,
// F16, wrong shape, huge header length, broken metadata JSON, ...).
#include "runtime/Checkpoint.h"
#include "runtime/Error.h"
#include "runtime/ModelState.h"
#include "runtime/SafeTensors.h"

#include <oneapi/tbb/global_control.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

using namespace recc::rt;

namespace {

ModelPlan checkpointPlan() {
  ModelPlan p;
  p.model = "fuzz";
  using K = FeatureSpec::Kind;
  p.features = {{"user", "user", K::Categorical, 6, 0, "user_emb", "none"},
                {"hist", "hist", K::MultiCategorical, 5, 2, "item_emb", "none"},
                {"age", "age", K::Dense, 0, 0, "", "tanh_zscore"}};
  p.labels = {{"y", "y"}};
  p.tables = {{"user_emb", 6, 3, {"uniform", 0.5}}, {"item_emb", 5, 2, {"normal", 0.1}}};
  p.params = {{"w", {3, 2}, {"glorot_uniform", 0}}, {"b", {2}, {"zeros", 0}}};
  p.optimizer.kind = "adam";
  p.states = {{"bn.mean", "running_stat", {2}, "", false, 0.9, {"zeros", 0}},
              {"w.ema", "ema", {3, 2}, "w", false, 0.5},
              {"user_emb.ema", "ema", {6, 3}, "user_emb", true, 0.5}};
  return p;
}

std::string scratchFile() {
  std::string base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
  static std::string templ = base + "/recc-fuzz-ckpt-XXXXXX";
  if (!mkdtemp(templ.data())) std::abort();
  std::atexit([] { std::filesystem::remove_all(templ); });  // after a run that ends
  return templ + "/ckpt.safetensors";
}

void writeFile(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (!f || std::fwrite(data, 1, size, f) != size || std::fclose(f) != 0) std::abort();
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* seed = std::getenv("RECC_FUZZ_WRITE_SEED")) {
    ModelState state(checkpointPlan());
    state.step = 7;
    state.epoch = 1;
    saveCheckpoint(seed, state);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // One thread: a finding must replay the same way.
  static tbb::global_control oneThread(tbb::global_control::max_allowed_parallelism, 1);
  static const ModelPlan plan = checkpointPlan();
  static const std::string path = scratchFile();
  writeFile(path, data, size);
  // One entry point per input, chosen by its size: each reads and validates
  // the whole header, so running all three would triple the cost of an
  // execution for little new coverage.
  try {
    switch (size % 3) {
    case 0:
      (void)readCheckpointMetadata(path);
      break;
    case 1: {
      ModelState state(plan);
      loadCheckpoint(path, state);
      break;
    }
    default: {
      ModelState state(plan);
      loadCheckpoint(path, state, {.allowNonFinite = true});
      SafeTensorsReader reader(path);  // and each tensor's own checks
      for (const std::string& name : reader.names()) (void)reader.verify(name);
    }
    }
  } catch (const RuntimeError&) {
    // A clear error is the expected outcome for bad input.
  }
  return 0;
}
