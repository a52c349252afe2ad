// MemoryCheck: see the header.
#include "runtime/MemoryCheck.h"

#include "runtime/CheckedMath.h"
#include "runtime/DynamicRows.h"
#include "runtime/Error.h"
#include "runtime/OptimizerMath.h"
#include "runtime/Tensor.h"

#include <sys/resource.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <set>

namespace recc::rt {
namespace {

/// The value of `key` (e.g. "MemAvailable:") in a /proc file of "key value kB"
/// lines, in bytes; nullopt when absent.
std::optional<int64_t> procKilobytes(const char* path, const std::string& key) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line))
    if (line.compare(0, key.size(), key) == 0)
      return std::stoll(line.substr(key.size())) * 1024;
  return std::nullopt;
}

/// A number in a cgroup file, or nullopt when missing or "max".
std::optional<int64_t> cgroupValue(const std::string& path) {
  std::ifstream in(path);
  std::string word;
  if (!(in >> word) || word == "max")
    return std::nullopt;
  try {
    return std::stoll(word);
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

/// The memory left under this process's cgroup (v2, or v1's memory
/// controller), or nullopt when it has no limit.
std::optional<int64_t> cgroupAvailable() {
  std::ifstream in("/proc/self/cgroup");
  std::string line;
  while (std::getline(in, line)) {
    // "0::/path" (v2) or "N:memory:/path" (v1).
    size_t a = line.find(':'), b = line.find(':', a + 1);
    if (a == std::string::npos || b == std::string::npos)
      continue;
    std::string controllers = line.substr(a + 1, b - a - 1), path = line.substr(b + 1);
    std::vector<std::pair<std::string, std::string>> files;
    if (controllers.empty())
      files = {{"/sys/fs/cgroup" + path + "/memory.max", "/sys/fs/cgroup" + path + "/memory.current"},
               {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory.current"}};
    else if (controllers.find("memory") != std::string::npos)
      files = {{"/sys/fs/cgroup/memory" + path + "/memory.limit_in_bytes",
                "/sys/fs/cgroup/memory" + path + "/memory.usage_in_bytes"}};
    for (const auto& [max, current] : files) {
      auto limit = cgroupValue(max);
      // v1 reports "no limit" as a huge number.
      if (!limit || *limit >= (int64_t(1) << 60))
        continue;
      return std::max<int64_t>(0, *limit - cgroupValue(current).value_or(0));
    }
  }
  return std::nullopt;
}

/// The address space left under RLIMIT_AS (ulimit -v), or nullopt.
std::optional<int64_t> addressSpaceAvailable() {
  rlimit lim{};
  if (getrlimit(RLIMIT_AS, &lim) != 0 || lim.rlim_cur == RLIM_INFINITY)
    return std::nullopt;
  int64_t used = procKilobytes("/proc/self/status", "VmSize:").value_or(0);
  return std::max<int64_t>(0, (int64_t)std::min<rlim_t>(lim.rlim_cur, INT64_MAX) - used);
}

/// Rows table `t` will hold: all of a dense table's, the estimate for a
/// dynamic one.
int64_t heldRows(const TableSpec& t, const DynamicRowCounts& touched) {
  if (!t.dynamic)
    return t.rows;
  auto it = touched.find(t.name);
  return it == touched.end() ? 0 : std::min(t.rows, std::max<int64_t>(0, it->second));
}

/// Bytes of table `t` with its optimizer slots (a dense table allocates none
/// when frozen, on a first update; a dynamic one keeps them in each row's
/// record), EMA shadows and their row counters; nullopt when that overflows
/// 64 bits.
std::optional<int64_t> tableBytes(const ModelPlan& plan, const TableSpec& t, int64_t slots,
                                  const DynamicRowCounts& touched) {
  if (t.dynamic) {  // the rows held, and one page that may be partly used
    const int64_t perRow = DynamicRows::bytesPerRow(t.dim, int(slots));
    return checkedMulAdd(heldRows(t, touched), perRow, DynamicRows::pageBytes(t.dim, int(slots)));
  }
  if (isFrozen(plan, t.name))
    slots = 0;
  std::optional<int64_t> floats = checkedMul(t.rows, t.dim);
  std::optional<int64_t> bytes = checkedMulAdd(floats, 4 * (1 + slots), 0);
  for (const StateSpec& s : plan.states)  // an EMA shadow and its row counters
    if (s.kind == "ema" && s.table && s.of == t.name)
      bytes = checkedMulAdd(floats, 4, checkedMulAdd(t.rows, 8, bytes));
  return bytes;
}

/// The largest table and its bytes with state, for a message.
std::string largestTable(const ModelPlan& plan, const DynamicRowCounts& touched) {
  const int64_t slots = optimizerSlots(optimizerKind(plan.optimizer.kind));
  const TableSpec* big = nullptr;
  int64_t largest = 0;
  for (const TableSpec& t : plan.tables)
    if (int64_t b = tableBytes(plan, t, slots, touched).value_or(0); b > largest)
      largest = b, big = &t;
  if (!big)
    return "";
  if (big->dynamic)
    return fmt::format("; largest table '{}' [{}, {}], dynamic, {} for the {} rows the data "
                       "touches", big->name, big->rows, big->dim, formatBytes(largest),
                       heldRows(*big, touched));
  return fmt::format("; largest table '{}' [{}, {}], {}", big->name, big->rows, big->dim,
                     formatBytes(largest));
}

int64_t add(int64_t a, int64_t b, const std::string& what) {
  auto sum = checkedAdd(a, b);
  if (!sum)
    fail("{}: the memory estimate overflows 64 bits", what);
  return *sum;
}

} // namespace

MemoryLimit availableMemory() {
  MemoryLimit best;
  auto consider = [&](std::optional<int64_t> bytes, const char* source) {
    if (bytes && (best.source.empty() || *bytes < best.bytes))
      best = {*bytes, source};
  };
  consider(procKilobytes("/proc/meminfo", "MemAvailable:"), "MemAvailable");
  consider(cgroupAvailable(), "the cgroup memory limit less its usage");
  consider(addressSpaceAvailable(), "the address-space limit (ulimit -v) less what is mapped");
  return best;
}

int64_t modelStateBytes(const ModelPlan& plan, const DynamicRowCounts& touched) {
  const int64_t slots = optimizerSlots(optimizerKind(plan.optimizer.kind));
  int64_t bytes = 0;
  for (const TableSpec& t : plan.tables) {
    std::optional<int64_t> b = tableBytes(plan, t, slots, touched);
    std::optional<int64_t> total = b ? checkedAdd(bytes, *b) : std::nullopt;
    if (!total)
      fail("model '{}': table '{}' [{}, {}] is too large: the bytes of its tables and their "
           "{} state overflow 64 bits", plan.model, t.name, t.rows, t.dim, plan.optimizer.kind);
    bytes = *total;
  }
  for (const ParamSpec& p : plan.params) {
    // The value, its gradient and the optimizer slots (none if frozen: they
    // are allocated on a first update).
    const int64_t copies = 2 + (isFrozen(plan, p.name) ? 0 : slots);
    auto total = checkedMulAdd(checkedProduct(p.shape), 4 * copies, bytes);
    if (!total)
      fail("model '{}': parameter '{}' {} is too large: the bytes of the parameters overflow "
           "64 bits", plan.model, p.name, shapeString(p.shape));
    bytes = *total;
  }
  return bytes;
}

int64_t stepBufferBytes(const ModelPlan& plan, const StepSpec& spec, int64_t batch) {
  std::set<std::string> params;
  for (const ParamSpec& p : plan.params)
    params.insert(p.name);
  int64_t bytes = 0;
  for (const BufferSpec& b : spec.buffers) {
    bool inPlace = b.role == BufferSpec::Role::Param ||
                   (b.role == BufferSpec::Role::State && b.ids.empty()) ||
                   (b.role == BufferSpec::Role::Gradient && params.count(b.name));
    if (inPlace)
      continue;
    std::vector<int64_t> dims = b.shape;
    for (int64_t& d : dims)
      if (d < 0)  // the batch of any input stream (-1, -2, ...)
        d = batch;
    auto total = checkedMulAdd(checkedProduct(dims), 4, bytes);
    if (!total)
      fail("model '{}': {} buffer '{}' {} at batch {} is too large: its bytes overflow 64 bits",
           plan.model, spec.symbol, b.name, shapeString(b.shape), batch);
    bytes = *total;
  }
  return bytes;
}

void checkMemory(const ModelPlan& plan, const std::vector<StepMemory>& steps,
                 const DynamicRowCounts& touched) {
  const std::string what = fmt::format("model '{}'", plan.model);
  int64_t state = modelStateBytes(plan, touched), buffers = 0, working = 0, batch = 0;
  for (const StepMemory& s : steps) {
    buffers = add(buffers, stepBufferBytes(plan, *s.spec, s.batch), what);
    working = add(working, s.workingBytes, what);
    batch = std::max(batch, s.batch);
  }
  int64_t total = add(add(state, buffers, what), working, what);
  MemoryLimit avail = availableMemory();
  if (avail.source.empty() || total <= avail.bytes)
    return;
  std::string steps_ = steps.empty() ? ""
      : fmt::format(", step buffers {}, step activations {}", formatBytes(buffers),
                    formatBytes(working));
  // The advice follows the larger part: the batch's or the tables'.
  const bool batchBound = buffers + working > state;
  fail("{}{} needs about {} (tables and parameters with their {} state {}{}{}), but only {} "
       "of memory is available ({}){}",
       what, batch ? fmt::format(" at batch size {}", batch) : "", formatBytes(total),
       plan.optimizer.kind, formatBytes(state), steps_, batchBound ? "" : largestTable(plan, touched),
       formatBytes(avail.bytes), avail.source, batchBound ? "; try a smaller --batch" : "");
}

void checkStepWorkingMemory(const std::string& what, int64_t batch, int64_t bytes) {
  MemoryLimit avail = availableMemory();
  if (avail.source.empty() || bytes <= avail.bytes)
    return;
  fail("{} at batch size {} needs {} for its activations, but only {} of memory is available "
       "({}); try a smaller --batch", what, batch, formatBytes(bytes), formatBytes(avail.bytes),
       avail.source);
}

std::string formatBytes(double bytes) {
  if (bytes >= double(1 << 30))
    return fmt::format("{:.1f} GiB", bytes / (1 << 30));
  if (bytes >= double(1 << 20))
    return fmt::format("{:.1f} MiB", bytes / (1 << 20));
  return fmt::format("{:.0f} bytes", bytes);
}

} // namespace recc::rt
