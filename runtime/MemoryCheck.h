// MemoryCheck: the up-front memory check. Before a model's tables are
// allocated or its step is compiled, recc adds up what running it will hold —
// tables and dense parameters with their optimizer state, the step buffers
// the StepRunner allocates at the batch size, and the step's own working
// memory (the compiled step's static arena of activations, or the reference
// executor's peak of live values) — and refuses, naming the batch size, the
// estimate and the limit, when that exceeds the memory the process can still
// get. Without it, a batch of 10^6 rows ends in LLVM's "Unable to allocate
// section memory" abort or a bare std::bad_alloc, far from any message.
// All sizes are counted in checked 64-bit arithmetic (CheckedMath.h).
#pragma once

#include "runtime/ModelPlan.h"

#include <cstdint>
#include <map>
#include <string>

namespace recc::rt {

/// The memory this process can still get and the limit that bounds it.
struct MemoryLimit {
  int64_t bytes = 0;   ///< 0: no limit could be read (the check is skipped)
  std::string source;  ///< e.g. "MemAvailable", "the cgroup memory limit"
};

/// The least of: the system's MemAvailable, the cgroup's memory.max less its
/// memory.current, and the address-space limit (ulimit -v) less this
/// process's current virtual size.
MemoryLimit availableMemory();

/// Rows each dynamic table will hold, by table name: an upper bound from the
/// ids of the training data and the rows a loaded checkpoint stores
/// (TouchedRows.h). A dynamic table not listed is counted with no rows.
using DynamicRowCounts = std::map<std::string, int64_t>;

/// Bytes of the tables and dense parameters with their gradients, optimizer
/// slots and EMA shadows. A dynamic table counts the rows `touched` gives it
/// (at most its declared rows), each at DynamicRows::bytesPerRow, plus one
/// page. Throws a RuntimeError naming the table or parameter whose size
/// overflows 64 bits.
int64_t modelStateBytes(const ModelPlan& plan, const DynamicRowCounts& touched = {});

/// Bytes the StepRunner allocates for `spec`'s buffers at `batch` rows (for
/// every input stream: an upper bound when streams have smaller batches)
/// (parameters, their gradients and whole states are bound in place and
/// counted by modelStateBytes). Throws naming the buffer on overflow.
int64_t stepBufferBytes(const ModelPlan& plan, const StepSpec& spec, int64_t batch);

/// What running a model will hold besides its state: per step function used,
/// the batch it runs at and its working memory.
struct StepMemory {
  const StepSpec* spec;
  int64_t batch;
  int64_t workingBytes;  ///< the step's arena or peak of live values
};

/// Throws a RuntimeError when the model state plus `steps` exceed
/// availableMemory(), naming the model, batch size, each part of the
/// estimate, the available bytes and their source.
void checkMemory(const ModelPlan& plan, const std::vector<StepMemory>& steps = {},
                 const DynamicRowCounts& touched = {});

/// Throws a RuntimeError when one step's working memory alone, `bytes`,
/// exceeds availableMemory(): called by a backend before it allocates it
/// (the JIT, before LLVM maps the arena). `what` names the step.
void checkStepWorkingMemory(const std::string& what, int64_t batch, int64_t bytes);

/// "1.5 GB", "12.0 MB": bytes for a message.
std::string formatBytes(double bytes);

} // namespace recc::rt
