#include "runtime/Parallel.h"

#include <omp.h>

#include <algorithm>
#include <atomic>

namespace recc::rt {

void runChunks(int64_t n, int64_t grain, void (*call)(const void*, int64_t, int64_t),
               const void* body) {
  grain = std::max<int64_t>(grain, 1);
  const int64_t chunks = (n + grain - 1) / grain;
  if (chunks <= 1) {
    if (n > 0) call(body, 0, n);
    return;
  }
  // The threads take chunks from a shared counter rather than through
  // schedule(dynamic): Debian's libomp is built with KMP_DEBUG, whose
  // dispatcher formats three trace strings (vsnprintf, malloc, free) for
  // every chunk it hands out even with tracing off, while a fetch_add is a
  // few nanoseconds. Which thread runs a chunk changes no result.
  std::atomic<int64_t> next{0};
  const int threads = int(std::min<int64_t>(chunks, omp_get_max_threads()));
#pragma omp parallel num_threads(threads)
  for (int64_t c; (c = next.fetch_add(1, std::memory_order_relaxed)) < chunks;)
    call(body, c * grain, std::min(n, (c + 1) * grain));
}

ThreadLimit::ThreadLimit(int threads) {
  if (threads <= 0) return;
  Tbb.emplace(tbb::global_control::max_allowed_parallelism, (size_t)threads);
  PreviousOmp = omp_get_max_threads();
  omp_set_num_threads(threads);
}

ThreadLimit::~ThreadLimit() {
  if (PreviousOmp > 0) omp_set_num_threads(PreviousOmp);
}

} // namespace recc::rt
